/**
 * The Manager owns what controllers share: the API client, informers (one per kind/selector),
 * metrics, the Event recorder and leader election. Start order: informers, wait for every cache
 * to sync, then (once leading, when leader election is on) start every controller's workers.
 * Stop order: stop taking work, let in-flight reconciles finish within a deadline, send the queued
 * Events (within what is left of the deadline), release the lease, stop informers.
 */
import type { Logger } from 'pino';
import { realClock } from './clock.ts';
import type { Clock } from './clock.ts';
import type { AnyController } from './controller.ts';
import { createBackgroundEventRecorder } from './event-queue.ts';
import type { BackgroundEventRecorder } from './event-queue.ts';
import type { Probe } from './http-server.ts';
import { InformerFactory } from './informers.ts';
import type { KubeClient } from './kube/client.ts';
import { LeaderElector } from './leader.ts';
import type { LeaderElectionOptions } from './leader.ts';
import { createMetrics } from './metrics.ts';
import type { Metrics } from './metrics.ts';
import type { RetryRateLimit } from './queue/bucket.ts';
import type { AddOptions } from './queue/queue.ts';
import { ControllerRunner } from './runner.ts';

export interface ManagerOptions {
  client: KubeClient;
  log: Logger;
  clock?: Clock;
  metrics?: Metrics;
  /** Default normal-lane workers per controller. Default 8. */
  concurrency?: number;
  /**
   * Per-controller budget for retries of failed reconciles, on top of per-key backoff (client-go's
   * default is `{ qps: 10, burst: 100 }`). Off when absent. Never delays first attempts or the
   * priority lane (revocations).
   */
  retryRateLimit?: RetryRateLimit;
  /** Off when absent: this replica reconciles at once. */
  leaderElection?: LeaderElectionOptions;
  /** How long stop() lets in-flight reconciles run. Default 20 s. */
  shutdownDeadlineMs?: number;
  /** Called when leadership is lost (the caller should exit; a restart rejoins the election). */
  onLostLeadership?: () => void;
  /** Event source component. Default `agent-identity-operator`. */
  component?: string;
  /** Namespace for Events about cluster-scoped objects (default `default`, the only one the API server accepts). */
  eventNamespace?: string;
}

export class Manager {
  readonly client: KubeClient;
  readonly log: Logger;
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly informers: InformerFactory;
  /** Queues Events; background senders write them (never on a reconcile's critical path). */
  readonly recorder: BackgroundEventRecorder;
  readonly #options: ManagerOptions;
  readonly #runners = new Map<string, ControllerRunner>();
  readonly #elector: LeaderElector | undefined;
  #workersStarted = false;
  #started = false;
  #stopping: Promise<void> | undefined;

  constructor(options: ManagerOptions) {
    this.#options = options;
    this.client = options.client;
    this.log = options.log;
    this.clock = options.clock ?? realClock;
    this.metrics = options.metrics ?? createMetrics();
    this.informers = new InformerFactory(options.client, options.log, options.clock);
    this.recorder = createBackgroundEventRecorder(options.client, options.log, {
      component: options.component ?? 'agent-identity-operator',
      clock: this.clock,
      onDropped: () => this.metrics.eventsDropped.inc(),
      ...(options.eventNamespace ? { clusterScopedNamespace: options.eventNamespace } : {}),
    });
    if (options.leaderElection) {
      this.#elector = new LeaderElector(options.client, options.log, options.leaderElection, this.clock);
    }
    this.metrics.addDepthSource(() => this.#depths());
    this.metrics.setEventBacklogSource(() => this.recorder.backlog);
  }

  /** Register a controller (before start). */
  add(controller: AnyController): void {
    if (this.#started) throw new Error('add controllers before start()');
    if (this.#runners.has(controller.name)) throw new Error(`controller ${controller.name} registered twice`);
    this.#runners.set(
      controller.name,
      new ControllerRunner(controller, {
        informers: this.informers,
        log: this.log,
        metrics: this.metrics,
        clock: this.clock,
        concurrency: this.#options.concurrency ?? 8,
        ...(this.#options.retryRateLimit ? { retryRateLimit: this.#options.retryRateLimit } : {}),
      }),
    );
  }

  /** Queue a key on another controller (e.g. a revocation waking an AgentClient, priority lane). */
  enqueue(controller: string, key: string, options?: AddOptions): void {
    const runner = this.#runners.get(controller);
    if (!runner) throw new Error(`no controller ${controller}`);
    runner.enqueue(key, options);
  }

  controllers(): string[] {
    return [...this.#runners.keys()];
  }

  /** Wait until every queue is empty and nothing runs (tests, benchmarks). */
  async idle(): Promise<void> {
    await Promise.all([...this.#runners.values()].map((r) => r.queue.idle()));
    // Events queued by those reconciles are part of their work (tests count writes after this).
    await this.recorder.flush(30_000);
  }

  isLeader(): boolean {
    return this.#elector ? this.#elector.isLeader() : this.#workersStarted;
  }

  /** Start informers, wait for caches, then start workers (when leading). Resolves once synced. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    this.informers.start();
    await this.informers.waitForSync();
    this.log.info({ controllers: this.controllers() }, 'caches synced');
    if (!this.#elector) return this.#startWorkers();
    this.#elector.run({
      onStartedLeading: () => this.#startWorkers(),
      onStoppedLeading: () => {
        this.log.error('leadership lost; stopping reconciles');
        for (const runner of this.#runners.values()) void runner.stop(0);
        this.#options.onLostLeadership?.();
      },
    });
  }

  healthz(): Probe {
    if (this.#elector && this.#started && !this.#elector.healthy()) return { ok: false, reason: 'leader election unhealthy' };
    return { ok: true };
  }

  readyz(): Probe {
    if (this.#stopping) return { ok: false, reason: 'shutting down' };
    if (!this.informers.hasSynced()) return { ok: false, reason: 'caches not synced' };
    if (this.#elector && !this.#elector.healthy()) return { ok: false, reason: 'leader election unhealthy' };
    return { ok: true };
  }

  /** Graceful stop: finish in-flight work (up to the deadline), release the lease, stop informers. */
  stop(deadlineMs = this.#options.shutdownDeadlineMs ?? 20_000): Promise<void> {
    this.#stopping ??= (async () => {
      const started = Date.now();
      const results = await Promise.all([...this.#runners.values()].map((r) => r.stop(deadlineMs)));
      if (results.some((r) => !r.drained)) this.log.warn('shutdown deadline passed with reconciles still running');
      const backlog = this.recorder.backlog;
      if (!(await this.recorder.flush(Math.max(1000, deadlineMs - (Date.now() - started))))) {
        this.log.warn({ backlog, unsent: this.recorder.backlog }, 'shutdown: queued Events not all sent');
      }
      await this.#elector?.stop();
      await this.informers.stop();
      this.log.info('manager stopped');
    })();
    return this.#stopping;
  }

  #startWorkers(): void {
    if (this.#workersStarted || this.#stopping) return;
    this.#workersStarted = true;
    for (const runner of this.#runners.values()) runner.startWorkers();
    this.log.info('workers started');
  }

  *#depths(): Iterable<{ controller: string; lane: string; depth: number }> {
    for (const [controller, runner] of this.#runners) {
      const d = runner.depth();
      for (const lane of ['priority', 'normal', 'delayed', 'active'] as const) yield { controller, lane, depth: d[lane] };
    }
  }
}
