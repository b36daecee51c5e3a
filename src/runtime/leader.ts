/**
 * Leader election on a coordination.k8s.io/v1 Lease, following client-go's leaderelection:
 * a candidate takes the lease when it is free or when its holder has not renewed for a full lease
 * duration *as observed locally* (so clock skew between replicas does not matter); the leader
 * renews every retry period and steps down if it cannot renew within the renew deadline; on a
 * graceful stop the leader releases the lease so a standby takes over at once.
 * Writes are optimistic (resourceVersion), so two candidates can never both win one round.
 *
 * Every attempt races a deadline (client-go's renew deadline): a leader whose renewal has not
 * succeeded by `lastRenew + renewDeadline` steps down then, even if the API server has not
 * answered yet, since other replicas take over `leaseDuration` after they last saw a renewal.
 * `lastRenew` is the time an attempt started (the renewTime it writes), never when the answer
 * came back, so a slow answer cannot stretch our term past what the others grant. A late attempt
 * writes nothing further once its deadline passed.
 */
import type { Logger } from 'pino';
import { realClock } from './clock.ts';
import type { Clock, TimerHandle } from './clock.ts';
import type { KubeClient } from './kube/client.ts';
import { isAlreadyExists, isConflict } from './kube/errors.ts';
import { describeError } from './informer/informer.ts';
import { Leases } from './kube/types.ts';
import type { KubeObject } from './kube/types.ts';

export interface LeaseObject extends KubeObject {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  /** Unique per replica (pod name plus a random suffix). */
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface LeaderCallbacks {
  onStartedLeading(): void;
  onStoppedLeading(): void;
}

/** RFC 3339 with microseconds, the metav1.MicroTime wire format. */
const microTime = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export class LeaderElector {
  readonly #client: KubeClient;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #o: Required<LeaderElectionOptions>;
  #leading = false;
  #stopped = false;
  #timer: TimerHandle | undefined;
  #observed: { record: string; at: number } | undefined;
  #lastRenew = 0;
  #lastContact = 0;
  #callbacks: LeaderCallbacks | undefined;

  constructor(client: KubeClient, log: Logger, options: LeaderElectionOptions, clock: Clock = realClock) {
    this.#client = client;
    this.#log = log.child({ lease: `${options.namespace}/${options.name}`, identity: options.identity });
    this.#clock = clock;
    this.#o = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, ...options };
  }

  get identity(): string {
    return this.#o.identity;
  }

  /** False as soon as the renew deadline passed, even before the step-down callback ran. */
  isLeader(): boolean {
    return this.#leading && this.#clock.now() - this.#lastRenew <= this.#o.renewDeadlineMs;
  }

  /** Leading and renewing, or standing by and able to read the lease. */
  healthy(): boolean {
    const now = this.#clock.now();
    if (this.#leading) return now - this.#lastRenew <= this.#o.renewDeadlineMs + this.#o.retryPeriodMs;
    return now - this.#lastContact <= this.#o.leaseDurationMs + this.#o.renewDeadlineMs;
  }

  /** Campaign until stopped; callbacks fire on each transition. */
  run(callbacks: LeaderCallbacks): void {
    this.#callbacks = callbacks;
    this.#lastContact = this.#clock.now();
    void this.#tick();
  }

  /** Stop campaigning; a leader releases the lease so a standby can take over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    if (!this.#leading) return;
    this.#leading = false;
    try {
      const lease = await this.#client.get<LeaseObject>(Leases, this.#o.name, this.#o.namespace);
      if (lease?.spec?.holderIdentity === this.#o.identity) {
        const now = this.#clock.now();
        await this.#client.replace(Leases, {
          ...lease,
          spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(now), acquireTime: microTime(now) },
        });
        this.#log.info('released leadership');
      }
    } catch (error) {
      this.#log.warn({ err: describeError(error) }, 'could not release the lease; it will expire');
    }
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    const started = this.#clock.now();
    // A leader must have renewed by lastRenew + renewDeadline; a candidate gives an attempt as long.
    const deadline = (this.#leading ? this.#lastRenew : started) + this.#o.renewDeadlineMs;
    const attempt = new AbortController();
    const ok = await this.#withDeadline(this.#tryAcquireOrRenew(started, attempt.signal), deadline - started, attempt);
    if (this.#stopped) return;
    const now = this.#clock.now();
    if (ok === true) {
      this.#lastRenew = started;
      if (!this.#leading) {
        this.#leading = true;
        this.#log.info('became leader');
        this.#callbacks?.onStartedLeading();
      }
    } else if (this.#leading && (ok === 'deadline' || now - this.#lastRenew > this.#o.renewDeadlineMs)) {
      this.#leading = false;
      this.#log.error(
        { renewDeadlineMs: this.#o.renewDeadlineMs },
        ok === 'deadline'
          ? 'lost leadership: the API server did not answer the renewal within the renew deadline'
          : 'lost leadership: could not renew the lease within the renew deadline',
      );
      this.#callbacks?.onStoppedLeading();
      return;
    } else if (ok === 'deadline') {
      this.#log.warn({ renewDeadlineMs: this.#o.renewDeadlineMs }, 'lease acquire attempt timed out');
    }
    // Jitter candidates (client-go's JitterFactor 1.2) so standbys do not poll in step.
    const delay = this.#leading ? this.#o.retryPeriodMs : this.#o.retryPeriodMs * (1 + Math.random() * 0.2);
    this.#timer = this.#clock.setTimer(() => void this.#tick(), delay);
  }

  /**
   * `attempt`, or 'deadline' when `ms` pass first (the attempt is then aborted: it issues no
   * further request, and its late result is ignored). KubeClient calls take no AbortSignal, so a
   * request already sent runs to its own timeout in the background.
   */
  #withDeadline(attempt: Promise<boolean>, ms: number, abort: AbortController): Promise<boolean | 'deadline'> {
    if (ms <= 0) {
      abort.abort();
      return Promise.resolve('deadline');
    }
    return new Promise((resolve) => {
      const timer = this.#clock.setTimer(() => {
        abort.abort();
        resolve('deadline');
      }, ms);
      attempt.then(
        (ok) => {
          timer.cancel();
          resolve(abort.signal.aborted ? 'deadline' : ok);
        },
        () => {
          timer.cancel();
          resolve(false);
        },
      );
    });
  }

  async #tryAcquireOrRenew(now: number, signal: AbortSignal): Promise<boolean> {
    const mine = {
      holderIdentity: this.#o.identity,
      leaseDurationSeconds: Math.ceil(this.#o.leaseDurationMs / 1000),
      renewTime: microTime(now),
    };
    try {
      const lease = await this.#client.get<LeaseObject>(Leases, this.#o.name, this.#o.namespace);
      // Past the deadline: a renewTime of `now` would claim a term we no longer hold.
      if (signal.aborted) return false;
      // Expiry is judged from when we saw the record (after a slow read, later than `now`).
      const seen = this.#clock.now();
      this.#lastContact = seen;
      if (!lease) {
        await this.#client.create<LeaseObject>(Leases, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.#o.name, namespace: this.#o.namespace },
          spec: { ...mine, acquireTime: microTime(now), leaseTransitions: 0 },
        });
        return true;
      }
      const spec = lease.spec ?? {};
      const record = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.leaseDurationSeconds]);
      if (this.#observed?.record !== record) this.#observed = { record, at: seen };
      const holder = spec.holderIdentity ?? '';
      const held = holder !== '' && holder !== this.#o.identity;
      const durationMs = (spec.leaseDurationSeconds ?? 15) * 1000;
      if (held && this.#observed.at + durationMs > seen) return false;
      const transitions = (spec.leaseTransitions ?? 0) + (holder === this.#o.identity ? 0 : 1);
      await this.#client.replace<LeaseObject>(Leases, {
        ...lease,
        spec: {
          ...spec,
          ...mine,
          acquireTime: holder === this.#o.identity ? spec.acquireTime ?? microTime(now) : microTime(now),
          leaseTransitions: transitions,
        },
      });
      return true;
    } catch (error) {
      if (!isConflict(error) && !isAlreadyExists(error)) {
        this.#log.warn({ err: describeError(error) }, 'lease acquire/renew failed');
      }
      return false;
    }
  }
}
