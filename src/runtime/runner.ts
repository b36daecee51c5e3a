/**
 * Runs one {@link Controller}: wires its informers and sources to its work queue, and wraps
 * reconcile with logging and metrics. Keys are queued as soon as caches fill, but workers start
 * only when the manager says so (after cache sync, and after winning leader election).
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from './clock.ts';
import type { AnyController, Controller, WatchSpec } from './controller.ts';
import type { InformerFactory } from './informers.ts';
import { describeError } from './informer/informer.ts';
import { objectKey } from './kube/keys.ts';
import type { KubeObject } from './kube/types.ts';
import type { Metrics } from './metrics.ts';
import type { RetryRateLimit } from './queue/bucket.ts';
import { WorkQueue } from './queue/queue.ts';
import type { AddOptions, QueueDepth } from './queue/queue.ts';

export interface RunnerOptions {
  informers: InformerFactory;
  log: Logger;
  metrics: Metrics;
  clock: Clock;
  concurrency: number;
  /** Overall budget for this controller's normal-lane retries (off when absent). */
  retryRateLimit?: RetryRateLimit;
}

export class ControllerRunner {
  readonly controller: AnyController;
  readonly queue: WorkQueue;
  readonly #options: RunnerOptions;
  readonly #log: Logger;
  readonly #unsubscribe: (() => void)[] = [];
  #resync: TimerHandle | undefined;

  constructor(controller: AnyController, options: RunnerOptions) {
    this.controller = controller;
    this.#options = options;
    this.#log = options.log.child({ controller: controller.name });
    this.queue = new WorkQueue({
      concurrency: controller.concurrency ?? options.concurrency,
      priorityReserve: controller.priorityReserve ?? 2,
      clock: options.clock,
      ...(options.retryRateLimit ? { retryRateLimit: options.retryRateLimit } : {}),
      onError: (key, error, retryInMs) =>
        this.#log.warn({ key, err: describeError(error), retryInMs }, 'reconcile failed; retrying with backoff'),
    });
    const primary = controller.primary as Controller<KubeObject>['primary'];
    this.#watch<KubeObject>({
      source: primary,
      map: (obj) => [objectKey(obj)],
      ...(primary.predicate ? { predicate: (a: KubeObject, b: KubeObject) => primary.predicate?.(a, b) ?? true } : {}),
      ...(primary.priority ? { priority: (obj: KubeObject) => primary.priority?.(obj) ?? false } : {}),
    });
    for (const spec of controller.watches ?? []) this.#watch(spec);
    for (const source of controller.sources ?? []) {
      this.#unsubscribe.push(source.subscribe((key, opts) => this.enqueue(key, opts)));
    }
  }

  enqueue(key: string, options?: AddOptions): void {
    this.queue.add(key, options);
  }

  depth(): QueueDepth {
    return this.queue.depth();
  }

  /** Start workers (the manager calls this once caches are synced and leadership is held). */
  startWorkers(): void {
    const { metrics, clock } = this.#options;
    const name = this.controller.name;
    this.queue.start(async (key, ctx) => {
      const log = this.#log.child({ key });
      const started = performance.now();
      try {
        const result = await this.controller.reconcile(key, { log, signal: ctx.signal, lane: ctx.lane, failures: ctx.failures });
        metrics.reconcileTotal.inc({ controller: name, result: result?.requeueAfter ? 'requeue' : 'success' });
        return result;
      } catch (error) {
        metrics.reconcileTotal.inc({ controller: name, result: 'error' });
        throw error;
      } finally {
        metrics.reconcileDuration.observe({ controller: name }, (performance.now() - started) / 1000);
      }
    });
    const period = this.controller.resyncPeriodMs ?? 10 * 3600_000;
    const tick = (): void => {
      const primary = this.#options.informers.get(this.controller.primary);
      for (const key of primary.keys()) this.queue.add(key);
      this.#resync = clock.setTimer(tick, period);
    };
    this.#resync = clock.setTimer(tick, period);
  }

  async stop(deadlineMs: number): Promise<{ drained: boolean }> {
    this.#resync?.cancel();
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    return this.queue.shutdown(deadlineMs);
  }

  #watch<T extends KubeObject>(spec: WatchSpec<T>): void {
    const informer = this.#options.informers.get(spec.source);
    const enqueue = (obj: T): void => {
      const priority = spec.priority?.(obj) ?? false;
      const delay = priority ? 0 : (spec.coalesceMs ?? 0);
      for (const key of spec.map(obj)) {
        if (delay > 0) this.queue.addAfter(key, delay);
        else this.queue.add(key, { priority });
      }
    };
    this.#unsubscribe.push(
      informer.addHandler({
        add: enqueue,
        update: (oldObj, newObj) => {
          if (!spec.predicate || spec.predicate(oldObj, newObj)) enqueue(newObj);
        },
        delete: enqueue,
      }),
    );
  }
}
