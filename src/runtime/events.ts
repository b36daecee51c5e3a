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
  /** Fire and forget: failures are logged, never thrown (an Event is not worth failing a reconcile). */
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

export function createEventRecorder(client: KubeClient, log: Logger, options: EventRecorderOptions): EventRecorder {
  const clock = options.clock ?? realClock;
  const window = options.aggregationWindowMs ?? 600_000;
  const cacheSize = options.cacheSize ?? 4096;
  const seen = new Map<string, Seen>();

  return {
    async event(obj, type, reason, rawMessage) {
      const message = scrubMessage(rawMessage);
      const meta = obj.metadata ?? {};
      const namespace = meta.namespace ?? options.clusterScopedNamespace ?? 'default';
      const cacheKey = JSON.stringify([meta.uid ?? `${meta.namespace}/${meta.name}`, type, reason, message]);
      const now = clock.now();
      const previous = seen.get(cacheKey);
      try {
        if (previous && now - previous.at < window) {
          const count = previous.count + 1;
          try {
            await client.patch(CoreEvents, previous.name, previous.namespace, 'merge', { count, lastTimestamp: timestamp(now) });
            remember(cacheKey, { ...previous, count, at: now });
            return;
          } catch (error) {
            if (!isNotFound(error)) throw error;
            // The Event expired (TTL, default 1 h): fall through and create a fresh one.
          }
        }
        const name = `${meta.name ?? 'object'}.${randomBytes(8).toString('hex')}`;
        await client.create(CoreEvents, {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name, namespace },
          involvedObject: {
            apiVersion: obj.apiVersion,
            kind: obj.kind,
            name: meta.name,
            namespace: meta.namespace,
            uid: meta.uid,
            resourceVersion: meta.resourceVersion,
          },
          type,
          reason,
          message,
          count: 1,
          firstTimestamp: timestamp(now),
          lastTimestamp: timestamp(now),
          source: { component: options.component },
          reportingComponent: options.component,
          reportingInstance: options.component,
        });
        remember(cacheKey, { name, namespace, count: 1, firstTimestamp: timestamp(now), at: now });
      } catch (error) {
        log.warn({ err: describeError(error), reason, object: `${meta.namespace ?? ''}/${meta.name ?? ''}` }, 'could not record Event');
      }
    },
  };

  function remember(key: string, entry: Seen): void {
    seen.delete(key);
    seen.set(key, entry);
    if (seen.size > cacheSize) {
      const oldest = seen.keys().next();
      if (!oldest.done) seen.delete(oldest.value);
    }
  }
}
