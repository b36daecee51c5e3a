/**
 * List-then-watch of one resource in one namespace, re-watching from the last resourceVersion
 * when the server closes the stream (and re-listing on 410 Gone). The benchmark learns that
 * objects became Ready from watch events, never by polling.
 *
 * The watch stream is read here rather than through `HttpKubeClient.watch`: that one re-emits a
 * reset or aborted response as an unhandled 'error' on its readline interface, which kills the
 * process (reported to the runtime's owner); the benchmark must survive stopping its watches.
 */
import https from 'node:https';
import type { KubeClient, WatchEvent } from '../../src/runtime/kube/client.ts';
import { resourcePath } from '../../src/runtime/kube/client.ts';
import { ApiError, isGone } from '../../src/runtime/kube/errors.ts';
import type { KubeObject, ResourceType } from '../../src/runtime/kube/types.ts';

/** Where the benchmark's own watches go (the apiserver itself, as admin). */
export interface WatchTarget {
  server: string;
  ca: string;
  token: string;
}

let target: WatchTarget | undefined;
export function setWatchTarget(t: WatchTarget): void {
  target = t;
}

function streamWatch<T extends KubeObject>(path: string, signal: AbortSignal, onEvent: (event: WatchEvent<T>) => void): Promise<void> {
  const t = target;
  if (!t) return Promise.reject(new Error('setWatchTarget() first'));
  return new Promise<void>((resolve, reject) => {
    const req = https.request(new URL(path, t.server), { ca: t.ca, headers: { Authorization: `Bearer ${t.token}`, Accept: 'application/json' }, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new ApiError(res.statusCode ?? 0, res.statusCode === 410 ? 'Gone' : 'WatchFailed', `watch ${path}: HTTP ${String(res.statusCode)}`));
        return;
      }
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          if (line) onEvent(JSON.parse(line) as WatchEvent<T>);
        }
      });
      res.on('end', () => resolve());
      res.on('error', () => resolve());
      res.on('close', () => resolve());
    });
    const abort = () => req.destroy();
    signal.addEventListener('abort', abort, { once: true });
    req.on('error', (error) => (signal.aborted ? resolve() : reject(error)));
    req.on('close', () => signal.removeEventListener('abort', abort));
    req.end();
  });
}

export interface ObjectWatch {
  /** Resolves once the initial list has been delivered. */
  synced: Promise<void>;
  stop(): void;
}

export function watchObjects<T extends KubeObject>(
  client: KubeClient,
  type: ResourceType,
  namespace: string | undefined,
  onObject: (kind: 'upsert' | 'delete', obj: T) => void,
  onError: (error: unknown) => void = () => undefined,
): ObjectWatch {
  const abort = new AbortController();
  let markSynced: () => void = () => undefined;
  const synced = new Promise<void>((resolve) => (markSynced = resolve));
  const run = async (): Promise<void> => {
    let resourceVersion: string | undefined;
    while (!abort.signal.aborted) {
      try {
        if (resourceVersion === undefined) {
          const list = await client.list<T>(type, namespace ? { namespace } : {});
          for (const item of list.items) onObject('upsert', item);
          resourceVersion = list.metadata?.resourceVersion;
          markSynced();
        }
        const query = new URLSearchParams({ watch: 'true', allowWatchBookmarks: 'true', timeoutSeconds: '300' });
        if (resourceVersion) query.set('resourceVersion', resourceVersion);
        await streamWatch<T>(`${resourcePath(type, namespace)}?${query.toString()}`, abort.signal, (event: WatchEvent<T>) => {
            if (event.type === 'ERROR') {
              // 410 inside the stream: the version is too old; list again.
              resourceVersion = undefined;
              return;
            }
            resourceVersion = event.object.metadata?.resourceVersion ?? resourceVersion;
            if (event.type === 'BOOKMARK') return;
            onObject(event.type === 'DELETED' ? 'delete' : 'upsert', event.object);
        });
      } catch (error) {
        if (abort.signal.aborted) return;
        if (isGone(error)) resourceVersion = undefined;
        else onError(error);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  };
  run().catch(onError);
  return { synced, stop: () => abort.abort() };
}
