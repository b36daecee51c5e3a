/**
 * Waiting on one object with a watch (never polling): resume from the last resourceVersion when
 * the server ends a watch, re-read the object when that version has expired (410 Gone), and stop
 * at the deadline.
 */
import type { Plural } from './api.ts';
import { statusCode, toCliError, type CliKube, type KubeObject } from './kube.ts';

export type WaitOutcome<T> =
  | { kind: 'matched'; object: T }
  | { kind: 'timeout'; object: T | undefined }
  | { kind: 'deleted'; object: T | undefined };

export interface WaitOptions<T> {
  /** The object as last read or written (its resourceVersion is where the watch starts). */
  initial?: T;
  timeoutMs: number;
  /** True when waiting is over. */
  done: (object: T) => boolean;
  /** Called with every new state of the object, the initial one included. */
  onChange?: (object: T) => void;
  /** Delay before re-watching after a dropped connection (injectable for tests). Default 1 s. */
  retryDelayMs?: number;
}

/** Waits until `done(object)`, the object is deleted, or `timeoutMs` passes. */
export async function waitFor<T extends KubeObject>(
  kube: CliKube,
  plural: Plural,
  namespace: string,
  name: string,
  options: WaitOptions<T>,
): Promise<WaitOutcome<T>> {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), options.timeoutMs);
  try {
    let current = options.initial ?? (await kube.get<T>(plural, namespace, name));
    if (!current) return { kind: 'deleted', object: undefined };
    options.onChange?.(current);
    if (options.done(current)) return { kind: 'matched', object: current };
    let resourceVersion = current.metadata.resourceVersion;

    while (!deadline.signal.aborted) {
      const round = new AbortController();
      const stopRound = (): void => round.abort();
      deadline.signal.addEventListener('abort', stopRound, { once: true });
      let outcome: WaitOutcome<T> | undefined;
      let expired = false;
      try {
        await kube.watch(plural, namespace, name, resourceVersion, (event) => {
          if (outcome || expired) return;
          const meta = (event.object as { metadata?: { resourceVersion?: string } }).metadata;
          if (event.type === 'ERROR') {
            // A Status object: 410 means our version was compacted away; re-read and go on.
            expired = (event.object as { code?: number }).code === 410;
            round.abort();
            return;
          }
          if (meta?.resourceVersion) resourceVersion = meta.resourceVersion;
          if (event.type === 'BOOKMARK') return;
          const object = event.object as unknown as T;
          if (event.type === 'DELETED') {
            outcome = { kind: 'deleted', object };
            round.abort();
            return;
          }
          current = object;
          options.onChange?.(object);
          if (options.done(object)) {
            outcome = { kind: 'matched', object };
            round.abort();
          }
        }, round.signal);
      } catch (error) {
        const code = statusCode(error);
        if (code === 410) expired = true;
        else if (code === 401 || code === 403 || code === 404) throw toCliError(error, `watch ${plural} ${namespace}/${name}`);
        else await sleep(options.retryDelayMs ?? 1000, deadline.signal);
      } finally {
        deadline.signal.removeEventListener('abort', stopRound);
      }
      if (outcome) return outcome;
      if (expired && !deadline.signal.aborted) {
        const fresh = await kube.get<T>(plural, namespace, name);
        if (!fresh) return { kind: 'deleted', object: current };
        current = fresh;
        resourceVersion = fresh.metadata.resourceVersion;
        options.onChange?.(fresh);
        if (options.done(fresh)) return { kind: 'matched', object: fresh };
      }
    }
    return { kind: 'timeout', object: current };
  } catch (error) {
    throw toCliError(error, `wait for ${plural} ${namespace}/${name}`);
  } finally {
    clearTimeout(timer);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
