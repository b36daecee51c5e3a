/**
 * core/v1 Events with client-go style aggregation: the same (object, type, reason, message)
 * within the aggregation window bumps `count` and `lastTimestamp` on the existing Event instead
 * of creating another. Messages pass through {@link scrubMessage} as a last line of defence:
 * callers must never put credentials in them, and bearer tokens or JWTs that slip through are
 * masked anyway.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { realClock } from './clock.ts';
import type { Clock } from './clock.ts';
import type { KubeClient } from './kube/client.ts';
import { isNotFound } from './kube/errors.ts';
import { describeError } from './informer/informer.ts';
import { CoreEvents } from './kube/types.ts';
import type { KubeObject } from './kube/types.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  /**
   * Failures are logged, never thrown (an Event is not worth failing a reconcile). With the
   * background recorder the promise resolves once the Event is queued, not sent.
   */
  event(obj: KubeObject, type: EventType, reason: string, message: string): Promise<void>;
}

export interface EventRecorderOptions {
  /** `source.component` / `reportingController`. */
  component: string;
  /**
   * Where Events for cluster-scoped objects go. The API server accepts only `default` (or none)
   * for an involvedObject without a namespace; keep the default unless it relaxes that.
   */
  clusterScopedNamespace?: string;
  /** Repeats older than this create a new Event. Default 10 min (client-go's aggregation window). */
  aggregationWindowMs?: number;
  clock?: Clock;
  /** Entries kept for aggregation (LRU). Default 4096. */
  cacheSize?: number;
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: string;
  at: number;
}

const MAX_MESSAGE = 1024;

/** Mask bearer tokens, JWTs and `secret=...`-style pairs; cap the length. */
export function scrubMessage(message: string): string {
  return message
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [redacted]')
    .replace(/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, '[redacted-jwt]')
    .replace(/\b(client_secret|access_token|refresh_token|registration_access_token|password|token)(["']?\s*[:=]\s*["']?)[^\s"',;&]+/gi, '$1$2[redacted]')
    .slice(0, MAX_MESSAGE);
}

const timestamp = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** What one Event is about and says, with how often it happened: the unit both recorders send. */
export interface Occurrence {
  /** Aggregation key: (object, type, reason, message). */
  key: string;
  involvedObject: {
    apiVersion: string | undefined;
    kind: string | undefined;
    name: string | undefined;
    namespace: string | undefined;
    uid: string | undefined;
    resourceVersion: string | undefined;
  };
  namespace: string;
  type: EventType;
  reason: string;
  message: string;
  count: number;
  firstAt: number;
  lastAt: number;
}

/** Build an occurrence (message scrubbed; only the object's reference is kept, not the object). */
export function occurrence(obj: KubeObject, type: EventType, reason: string, rawMessage: string, now: number, clusterScopedNamespace = 'default'): Occurrence {
  const message = scrubMessage(rawMessage);
  const meta = obj.metadata ?? {};
  return {
    key: JSON.stringify([meta.uid ?? `${meta.namespace}/${meta.name}`, type, reason, message]),
    involvedObject: {
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      name: meta.name,
      namespace: meta.namespace,
      uid: meta.uid,
      resourceVersion: meta.resourceVersion,
    },
    namespace: meta.namespace ?? clusterScopedNamespace,
    type,
    reason,
    message,
    count: 1,
    firstAt: now,
    lastAt: now,
  };
}

/**
 * Writes occurrences as core/v1 Events, aggregating with Events it wrote earlier in the window
 * (a repeat bumps `count` and `lastTimestamp` instead of creating another Event). Throws on an
 * API failure; callers decide whether that matters.
 */
export class EventWriter {
  readonly #client: KubeClient;
  readonly #component: string;
  readonly #window: number;
  readonly #cacheSize: number;
  readonly #seen = new Map<string, Seen>();

  constructor(client: KubeClient, options: Pick<EventRecorderOptions, 'component' | 'aggregationWindowMs' | 'cacheSize'>) {
    this.#client = client;
    this.#component = options.component;
    this.#window = options.aggregationWindowMs ?? 600_000;
    this.#cacheSize = options.cacheSize ?? 4096;
  }

  async write(o: Occurrence): Promise<void> {
    const previous = this.#seen.get(o.key);
    if (previous && o.lastAt - previous.at < this.#window) {
      const count = previous.count + o.count;
      try {
        await this.#client.patch(CoreEvents, previous.name, previous.namespace, 'merge', { count, lastTimestamp: timestamp(o.lastAt) });
        this.#remember(o.key, { ...previous, count, at: o.lastAt });
        return;
      } catch (error) {
        if (!isNotFound(error)) throw error;
        // The Event expired (TTL, default 1 h): fall through and create a fresh one.
      }
    }
    const name = `${o.involvedObject.name ?? 'object'}.${randomBytes(8).toString('hex')}`;
    await this.#client.create(CoreEvents, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: o.namespace },
      involvedObject: o.involvedObject,
      type: o.type,
      reason: o.reason,
      message: o.message,
      count: o.count,
      firstTimestamp: timestamp(o.firstAt),
      lastTimestamp: timestamp(o.lastAt),
      source: { component: this.#component },
      reportingComponent: this.#component,
      reportingInstance: this.#component,
    });
    this.#remember(o.key, { name, namespace: o.namespace, count: o.count, firstTimestamp: timestamp(o.firstAt), at: o.lastAt });
  }

  #remember(key: string, entry: Seen): void {
    this.#seen.delete(key);
    this.#seen.set(key, entry);
    if (this.#seen.size > this.#cacheSize) {
      const oldest = this.#seen.keys().next();
      if (!oldest.done) this.#seen.delete(oldest.value);
    }
  }
}

/** Log a failed Event write (an Event is not worth failing anything for). */
export function logEventFailure(log: Logger, o: Occurrence, error: unknown): void {
  const ref = o.involvedObject;
  log.warn({ err: describeError(error), reason: o.reason, object: `${ref.namespace ?? ''}/${ref.name ?? ''}` }, 'could not record Event');
}

/**
 * A recorder that writes each Event before its promise resolves: for tests and tools. The
 * operator's controllers get the background one (`event-queue.ts`), which never makes a
 * reconcile wait for the API server.
 */
export function createEventRecorder(client: KubeClient, log: Logger, options: EventRecorderOptions): EventRecorder {
  const clock = options.clock ?? realClock;
  const writer = new EventWriter(client, options);
  return {
    async event(obj, type, reason, message) {
      const o = occurrence(obj, type, reason, message, clock.now(), options.clusterScopedNamespace);
      try {
        await writer.write(o);
      } catch (error) {
        logEventFailure(log, o, error);
      }
    },
  };
}
