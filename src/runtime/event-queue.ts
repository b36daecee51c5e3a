/**
 * The Event recorder controllers use: `event()` only queues, a few background senders write.
 * An Event costs an API round-trip (two with aggregation), and a reconcile that awaited it paid
 * that latency on its critical path for every step it reported; under a backlog of 1,000
 * AgentClients that was a fifth of the operator's API round-trips.
 *
 * Repeats of a queued (object, type, reason, message) fold into its count before it is sent, so a
 * hot loop costs one write, not one per repeat. The queue is bounded: when it is full, new
 * occurrences are dropped and counted (`onDropped`, a metric); an Event is a hint for humans, and
 * memory and API load must stay bounded whatever a controller does. `flush()` on shutdown sends
 * what is queued, within a deadline.
 */
import type { Logger } from 'pino';
import { realClock } from './clock.ts';
import { EventWriter, logEventFailure, occurrence } from './events.ts';
import type { EventRecorder, EventRecorderOptions, Occurrence } from './events.ts';
import type { KubeClient } from './kube/client.ts';

export interface BackgroundRecorderOptions extends EventRecorderOptions {
  /** Distinct occurrences waiting to be sent before new ones are dropped. Default 2048. */
  maxPending?: number;
  /**
   * Events written at the same time. Default 1, as client-go's broadcaster: Events are hints for
   * humans and must not compete with reconciles for the apiserver during a burst; a burst's
   * Events are sent a little later instead (repeats still fold into counts meanwhile).
   */
  concurrency?: number;
  /** Called once per dropped occurrence (the metric). */
  onDropped?: () => void;
}

export interface BackgroundEventRecorder extends EventRecorder {
  /** Resolves true once everything queued so far is written (or failed), false at the deadline. */
  flush(timeoutMs?: number): Promise<boolean>;
  /** Occurrences waiting or being written. */
  readonly backlog: number;
  readonly dropped: number;
}

export function createBackgroundEventRecorder(client: KubeClient, log: Logger, options: BackgroundRecorderOptions): BackgroundEventRecorder {
  const clock = options.clock ?? realClock;
  const writer = new EventWriter(client, options);
  const maxPending = Math.max(1, options.maxPending ?? 2048);
  const concurrency = Math.max(1, options.concurrency ?? 1);
  // Insertion order is send order. A key being written is not in here; a repeat arriving during
  // its write queues again and is sent after it (as a count bump), never concurrently with it.
  const pending = new Map<string, Occurrence>();
  const writing = new Set<string>();
  let dropped = 0;
  let warnedFull = false;
  let idle: Array<() => void> = [];

  function next(): Occurrence | undefined {
    for (const [key, o] of pending) {
      if (writing.has(key)) continue;
      pending.delete(key);
      return o;
    }
    return undefined;
  }

  function pump(): void {
    while (writing.size < concurrency) {
      const o = next();
      if (!o) break;
      writing.add(o.key);
      writer.write(o).then(
        () => done(o),
        (error: unknown) => {
          logEventFailure(log, o, error);
          done(o);
        },
      );
    }
    if (writing.size === 0 && pending.size === 0) {
      const waiters = idle;
      idle = [];
      for (const resolve of waiters) resolve();
    }
  }

  function done(o: Occurrence): void {
    writing.delete(o.key);
    pump();
  }

  return {
    event(obj, type, reason, message) {
      const o = occurrence(obj, type, reason, message, clock.now(), options.clusterScopedNamespace);
      const queued = pending.get(o.key);
      if (queued) {
        queued.count += 1;
        queued.lastAt = o.lastAt;
        return Promise.resolve();
      }
      if (pending.size >= maxPending) {
        dropped += 1;
        options.onDropped?.();
        if (!warnedFull) {
          warnedFull = true;
          log.warn({ maxPending, reason }, 'Event queue full: dropping Events until it drains (counted in agentidentity_events_dropped_total)');
        }
        return Promise.resolve();
      }
      if (warnedFull && pending.size < maxPending / 2) warnedFull = false;
      pending.set(o.key, o);
      pump();
      return Promise.resolve();
    },
    flush(timeoutMs = 10_000) {
      if (pending.size === 0 && writing.size === 0) return Promise.resolve(true);
      // Wall time, not the injected clock: a shutdown deadline is real, even under a test clock.
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        timer.unref();
        idle.push(() => {
          clearTimeout(timer);
          resolve(true);
        });
      });
    },
    get backlog() {
      return pending.size + writing.size;
    },
    get dropped() {
      return dropped;
    },
  };
}
