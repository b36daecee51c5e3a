/**
 * A keyed work queue with its own workers, after client-go's workqueue:
 * - dedupe: a key waiting in the queue is queued once, however often it is added;
 * - exclusivity: one worker per key at a time; a key added while it runs is run again after;
 * - bounded concurrency, plus a few slots only the priority lane may use, so a revocation starts
 *   at once even when every normal slot is busy with slow IdP calls;
 * - the priority lane is always served first;
 * - per-key exponential backoff with jitter on failure, forgotten on success; optionally also an
 *   overall token bucket for normal-lane retries (`retryRateLimit`, see bucket.ts): a retry waits
 *   for the later of its own backoff and a token, while first attempts and the priority lane never
 *   wait for the bucket;
 * - `requeueAfter` for scheduled work (rotation, rediscovery).
 * Every run decides its own follow-up: starting a run cancels any pending delayed add for the key.
 * A key added while a run that then fails is still going is retried after the backoff, not at
 * once: the add most likely came from the failing run's own writes, and retrying at once would hit
 * the failing IdP again without pause.
 */
import { realClock } from '../clock.ts';
import type { Clock, TimerHandle } from '../clock.ts';
import { backoffDelay, defaultBackoff } from './backoff.ts';
import type { BackoffPolicy } from './backoff.ts';
import { TokenBucket } from './bucket.ts';
import type { RetryRateLimit } from './bucket.ts';

export type Lane = 'priority' | 'normal';

export interface AddOptions {
  priority?: boolean;
}

export interface RunContext {
  lane: Lane;
  /** Consecutive failures so far for this key (0 on a first or post-success run). */
  failures: number;
  /** Aborted when shutdown's deadline passes. */
  signal: AbortSignal;
}

export type RunResult = { requeueAfter?: number } | void;
export type Handler = (key: string, ctx: RunContext) => Promise<RunResult>;

export interface WorkQueueOptions {
  /** Normal-lane workers. Default 8. */
  concurrency?: number;
  /** Extra workers only priority items may use. Default 2. */
  priorityReserve?: number;
  backoff?: BackoffPolicy;
  /**
   * Overall budget for normal-lane retries (e.g. client-go's `{ qps: 10, burst: 100 }`). Off when
   * absent. First attempts, `requeueAfter` schedules and the priority lane are never limited.
   */
  retryRateLimit?: RetryRateLimit;
  clock?: Clock;
  random?: () => number;
  /** Told about every failed run, after the retry is scheduled. */
  onError?: (key: string, error: unknown, retryInMs: number) => void;
}

export interface QueueDepth {
  priority: number;
  normal: number;
  delayed: number;
  active: number;
}

const rank = (lane: Lane): number => (lane === 'priority' ? 1 : 0);
const higher = (a: Lane | undefined, b: Lane): Lane => (a !== undefined && rank(a) >= rank(b) ? a : b);

export class WorkQueue {
  readonly #concurrency: number;
  readonly #reserve: number;
  readonly #backoff: BackoffPolicy;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #onError: WorkQueueOptions['onError'];
  readonly #bucket: TokenBucket | undefined;
  // Sets keep insertion order: FIFO within a lane with O(1) dedupe and removal.
  readonly #lanes: Record<Lane, Set<string>> = { priority: new Set(), normal: new Set() };
  readonly #active = new Map<string, Lane>();
  readonly #dirty = new Map<string, Lane>();
  readonly #delayed = new Map<string, { at: number; lane: Lane; timer: TimerHandle }>();
  readonly #failures = new Map<string, number>();
  readonly #abort = new AbortController();
  #handler: Handler | undefined;
  #stopping = false;
  #waiters: (() => void)[] = [];

  constructor(options: WorkQueueOptions = {}) {
    this.#concurrency = Math.max(1, options.concurrency ?? 8);
    this.#reserve = Math.max(0, options.priorityReserve ?? 2);
    this.#backoff = options.backoff ?? defaultBackoff;
    this.#clock = options.clock ?? realClock;
    this.#random = options.random ?? Math.random;
    this.#onError = options.onError;
    this.#bucket = options.retryRateLimit ? new TokenBucket(options.retryRateLimit) : undefined;
  }

  /** Queue `key` now (deduplicated; a priority add promotes a waiting normal one). */
  add(key: string, options: AddOptions = {}): void {
    if (this.#stopping) return;
    const lane: Lane = options.priority ? 'priority' : 'normal';
    if (this.#active.has(key)) {
      this.#dirty.set(key, higher(this.#dirty.get(key), lane));
      return;
    }
    this.#cancelDelayed(key);
    if (this.#lanes.priority.has(key)) return;
    if (this.#lanes.normal.has(key)) {
      if (lane === 'normal') return;
      this.#lanes.normal.delete(key);
    }
    this.#lanes[lane].add(key);
    this.#pump();
  }

  /** Queue `key` after `delayMs`; an earlier pending delay for the key wins. */
  addAfter(key: string, delayMs: number, options: AddOptions = {}): void {
    if (this.#stopping) return;
    if (delayMs <= 0) return this.add(key, options);
    const lane: Lane = options.priority ? 'priority' : 'normal';
    const at = this.#clock.now() + delayMs;
    const pending = this.#delayed.get(key);
    if (pending && pending.at <= at) {
      pending.lane = higher(pending.lane, lane);
      return;
    }
    pending?.timer.cancel();
    const timer = this.#clock.setTimer(() => {
      const entry = this.#delayed.get(key);
      if (entry?.timer !== timer) return;
      this.#delayed.delete(key);
      this.add(key, { priority: entry.lane === 'priority' });
    }, delayMs);
    this.#delayed.set(key, { at, lane: higher(pending?.lane, lane), timer });
  }

  /** Record a failure and queue the key after its backoff; returns the delay chosen. */
  addRateLimited(key: string, options: AddOptions & { minDelayMs?: number } = {}): number {
    const failures = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, failures);
    let delay = Math.max(options.minDelayMs ?? 0, backoffDelay(failures, this.#backoff, this.#random));
    if (this.#bucket && !options.priority) delay = Math.max(delay, this.#bucket.reserve(this.#clock.now()));
    this.addAfter(key, delay, options);
    return delay;
  }

  /** Reset a key's backoff (after a success). */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  depth(): QueueDepth {
    return {
      priority: this.#lanes.priority.size,
      normal: this.#lanes.normal.size,
      delayed: this.#delayed.size,
      active: this.#active.size,
    };
  }

  /** Start the workers. Keys added before start wait until then. */
  start(handler: Handler): void {
    this.#handler = handler;
    this.#pump();
  }

  /** Resolves when nothing is queued or running (delayed adds do not count). */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /**
   * Stop taking work, drop what waits, let running keys finish. After `deadlineMs` their signal
   * aborts; resolves `drained: false` if some were still running then.
   */
  async shutdown(deadlineMs = 10_000): Promise<{ drained: boolean }> {
    this.#stopping = true;
    this.#lanes.priority.clear();
    this.#lanes.normal.clear();
    this.#dirty.clear();
    for (const entry of this.#delayed.values()) entry.timer.cancel();
    this.#delayed.clear();
    if (this.#active.size === 0) return { drained: true };
    let timer: TimerHandle | undefined;
    const deadline = new Promise<boolean>((resolve) => {
      timer = this.#clock.setTimer(() => resolve(false), deadlineMs);
    });
    const drained = await Promise.race([this.idle().then(() => true), deadline]);
    timer?.cancel();
    if (!drained) this.#abort.abort(new Error('shutdown deadline passed'));
    return { drained };
  }

  #cancelDelayed(key: string): void {
    const pending = this.#delayed.get(key);
    if (!pending) return;
    pending.timer.cancel();
    this.#delayed.delete(key);
  }

  #isIdle(): boolean {
    return this.#active.size === 0 && this.#lanes.priority.size === 0 && this.#lanes.normal.size === 0;
  }

  #next(): [string, Lane] | undefined {
    const active = this.#active.size;
    if (active < this.#concurrency + this.#reserve) {
      for (const key of this.#lanes.priority) return [key, 'priority'];
    }
    if (active < this.#concurrency) {
      for (const key of this.#lanes.normal) return [key, 'normal'];
    }
    return undefined;
  }

  #pump(): void {
    const handler = this.#handler;
    if (!handler || this.#stopping) return;
    for (let next = this.#next(); next; next = this.#next()) {
      const [key, lane] = next;
      this.#lanes[lane].delete(key);
      this.#cancelDelayed(key);
      this.#active.set(key, lane);
      void this.#run(handler, key, lane);
    }
  }

  async #run(handler: Handler, key: string, lane: Lane): Promise<void> {
    let failed = false;
    try {
      const result = await handler(key, { lane, failures: this.failures(key), signal: this.#abort.signal });
      this.forget(key);
      const after = result?.requeueAfter;
      if (after !== undefined && after > 0) this.addAfter(key, after, { priority: lane === 'priority' });
    } catch (error) {
      failed = true;
      const retryAfter = retryAfterMs(error);
      const delay = this.#stopping ? 0 : this.addRateLimited(key, { priority: lane === 'priority', minDelayMs: retryAfter });
      this.#onError?.(key, error, delay);
    } finally {
      this.#active.delete(key);
      const again = this.#dirty.get(key);
      if (again !== undefined) {
        this.#dirty.delete(key);
        const backoff = failed ? this.#delayed.get(key) : undefined;
        // The later of the backoff and the re-add wins; the lane is the higher of the two.
        if (backoff) backoff.lane = higher(backoff.lane, again);
        else this.add(key, { priority: again === 'priority' });
      }
      this.#pump();
      if (this.#isIdle()) for (const resolve of this.#waiters.splice(0)) resolve();
    }
  }
}

/** Honour Retry-After carried by IdpError / ApiError (`retryAfterSeconds`). */
function retryAfterMs(error: unknown): number {
  if (typeof error === 'object' && error !== null && 'retryAfterSeconds' in error) {
    const seconds = (error as { retryAfterSeconds?: unknown }).retryAfterSeconds;
    if (typeof seconds === 'number' && seconds > 0) return Math.min(seconds, 3600) * 1000;
  }
  return 0;
}
