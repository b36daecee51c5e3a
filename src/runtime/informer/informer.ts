/**
 * A list+watch cache of one kind (optionally one namespace and one label selector), after
 * client-go's reflector:
 * - list in pages, then watch from the list's resourceVersion with bookmarks so a reconnect
 *   resumes where it stopped instead of relisting;
 * - on 410 Gone (the version was compacted away) relist, and turn the difference between the
 *   cache and the new list into add/update/delete events so no deletion is missed;
 * - other failures retry with capped backoff; the cache keeps serving meanwhile. A watch that
 *   ends in a (non-410) ERROR event, or closes within a second having delivered nothing (client-go's
 *   "very short watch"), is such a failure too, so a server refusing watches is not hot-looped;
 * - a watch is aborted and resumed when nothing (no event, no bookmark) arrives for the server
 *   timeout plus a margin: the server would have closed it by then, so the connection is dead
 *   (a half-open TCP connection or a stuck proxy never says so).
 * The cache holds compacted objects (see transform.ts) and must be treated as read-only.
 */
import type { Logger } from 'pino';
import { realClock } from '../clock.ts';
import type { Clock } from '../clock.ts';
import type { KubeClient, WatchEvent } from '../kube/client.ts';
import { isGone } from '../kube/errors.ts';
import { keyOf, objectKey } from '../kube/keys.ts';
import type { KubeObject, ResourceType } from '../kube/types.ts';
import { backoffDelay } from '../queue/backoff.ts';
import { Store } from './store.ts';
import type { IndexFunc } from './store.ts';
import { compact } from './transform.ts';

export interface InformerOptions<T extends KubeObject> {
  type: ResourceType;
  /** Only this namespace (namespaced kinds); all namespaces when absent. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Applied to every object before it is cached. Default: {@link compact}. */
  transform?: (obj: T) => T;
  indexers?: Record<string, IndexFunc<T>>;
  pageSize?: number;
  clock?: Clock;
  random?: () => number;
  /**
   * Server-side watch timeout, drawn per watch from [n, 2n) seconds so replicas do not reconnect
   * together (client-go: 5-10 min). Default 300.
   */
  watchTimeoutSeconds?: number;
  /** How long past the server timeout a silent watch is given before it is aborted. Default 30 s. */
  watchStallMarginMs?: number;
}

export interface InformerHandler<T extends KubeObject> {
  add?(obj: T): void;
  update?(oldObj: T, newObj: T): void;
  delete?(obj: T): void;
}

export interface InformerStats {
  lists: number;
  watches: number;
  relistsOnGone: number;
  /** Watches aborted because nothing arrived in time. */
  stalledWatches: number;
  lastResourceVersion: string | undefined;
}

/** A watch shorter than this that delivered nothing counts as a failure (client-go's rule). */
const SHORT_WATCH_MS = 1000;

export class Informer<T extends KubeObject = KubeObject> {
  readonly type: ResourceType;
  readonly options: InformerOptions<T>;
  readonly #client: KubeClient;
  readonly #log: Logger;
  readonly #store: Store<T>;
  readonly #handlers = new Set<InformerHandler<T>>();
  readonly #transform: (obj: T) => T;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #stats: InformerStats = { lists: 0, watches: 0, relistsOnGone: 0, stalledWatches: 0, lastResourceVersion: undefined };
  #abort: AbortController | undefined;
  #loop: Promise<void> | undefined;
  #synced = false;
  #syncWaiters: (() => void)[] = [];

  constructor(client: KubeClient, log: Logger, options: InformerOptions<T>) {
    this.type = options.type;
    this.options = options;
    this.#client = client;
    this.#log = log.child({ informer: describe(options) });
    this.#store = new Store<T>(options.indexers);
    this.#transform = options.transform ?? compact;
    this.#clock = options.clock ?? realClock;
    this.#random = options.random ?? Math.random;
  }

  get stats(): Readonly<InformerStats> {
    return this.#stats;
  }

  /** True once the first full list is in the cache. */
  hasSynced(): boolean {
    return this.#synced;
  }

  waitForSync(): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve) => this.#syncWaiters.push(resolve));
  }

  addIndexer(name: string, fn: IndexFunc<T>): void {
    if (!this.#store.hasIndexer(name)) this.#store.addIndexer(name, fn);
  }

  /** Receive events; objects already cached are delivered as adds at once. */
  addHandler(handler: InformerHandler<T>): () => void {
    this.#handlers.add(handler);
    for (const obj of this.#store.values()) safely(this.#log, () => handler.add?.(obj));
    return () => this.#handlers.delete(handler);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#store.get(keyOf(this.type.namespaced ? namespace : undefined, name));
  }

  getByKey(key: string): T | undefined {
    return this.#store.get(key);
  }

  list(namespace?: string): T[] {
    return namespace === undefined ? [...this.#store.values()] : this.#store.byIndex('namespace', namespace);
  }

  keys(): string[] {
    return [...this.#store.keys()];
  }

  byIndex(name: string, value: string): T[] {
    return this.#store.byIndex(name, value);
  }

  get size(): number {
    return this.#store.size;
  }

  start(): void {
    if (this.#loop) return;
    this.#abort = new AbortController();
    this.#loop = this.#run(this.#abort.signal);
  }

  async stop(): Promise<void> {
    this.#abort?.abort();
    await this.#loop;
    this.#loop = undefined;
  }

  async #run(signal: AbortSignal): Promise<void> {
    let rv: string | undefined;
    let failures = 0;
    while (!signal.aborted) {
      try {
        if (rv === undefined) rv = await this.#relist(signal);
        const result = await this.#watchOnce(rv, signal, (next) => (rv = next));
        if (signal.aborted) break;
        if (result.kind === 'gone') {
          this.#stats.relistsOnGone++;
          this.#log.info('watch expired (410 Gone); relisting');
          rv = undefined;
          continue;
        }
        if (result.kind === 'ok') {
          failures = 0;
          continue;
        }
        failures++;
        const delay = backoffDelay(failures, { baseMs: 200, maxMs: 30_000 }, this.#random);
        this.#log.warn({ reason: result.message, retryInMs: delay }, 'watch failed');
        await sleep(this.#clock, delay, signal);
      } catch (error) {
        if (signal.aborted) break;
        if (isGone(error)) {
          this.#stats.relistsOnGone++;
          this.#log.info('resourceVersion expired (410 Gone); relisting');
          rv = undefined;
          continue;
        }
        failures++;
        const delay = backoffDelay(failures, { baseMs: 200, maxMs: 30_000 }, this.#random);
        this.#log.warn({ err: describeError(error), retryInMs: delay }, 'list/watch failed');
        await sleep(this.#clock, delay, signal);
      }
    }
  }

  /**
   * One watch from `rv` until the server closes it, it stalls, or `signal` aborts. `advance` is told
   * each new resourceVersion (events and bookmarks) so a re-watch resumes there.
   */
  async #watchOnce(
    rv: string,
    signal: AbortSignal,
    advance: (rv: string) => void,
  ): Promise<{ kind: 'ok' } | { kind: 'gone' } | { kind: 'failed'; message: string }> {
    const timeoutSeconds = Math.floor((this.options.watchTimeoutSeconds ?? 300) * (1 + this.#random()));
    const stallMs = timeoutSeconds * 1000 + (this.options.watchStallMarginMs ?? 30_000);
    const watch = new AbortController();
    const stop = (): void => watch.abort();
    signal.addEventListener('abort', stop, { once: true });
    let stalled = false;
    let timer = this.#clock.setTimer(onStall, stallMs);
    function onStall(): void {
      stalled = true;
      watch.abort();
    }
    let received = 0;
    let error: { code?: number; message?: string } | undefined;
    const started = this.#clock.now();
    this.#stats.watches++;
    try {
      await this.#client.watch<T>(
        this.type,
        {
          namespace: this.options.namespace,
          labelSelector: this.options.labelSelector,
          fieldSelector: this.options.fieldSelector,
          resourceVersion: rv,
          allowWatchBookmarks: true,
          timeoutSeconds,
          signal: watch.signal,
        },
        (event) => {
          if (watch.signal.aborted) return;
          received++;
          timer.cancel();
          timer = this.#clock.setTimer(onStall, stallMs);
          if (event.type === 'ERROR') {
            // The server ends the stream after an ERROR; the first one says why.
            error ??= event.object as { code?: number; message?: string };
            return;
          }
          const next = event.object.metadata?.resourceVersion;
          if (next) {
            advance(next);
            this.#stats.lastResourceVersion = next;
          }
          this.#apply(event);
        },
      );
    } finally {
      timer.cancel();
      signal.removeEventListener('abort', stop);
    }
    if (stalled) {
      this.#stats.stalledWatches++;
      return { kind: 'failed', message: `no event or bookmark for ${stallMs} ms; watch aborted` };
    }
    if (error?.code === 410) return { kind: 'gone' };
    if (error) return { kind: 'failed', message: `watch ERROR event: ${error.code ?? '?'} ${error.message ?? ''}`.trim() };
    if (received === 0 && this.#clock.now() - started < SHORT_WATCH_MS && !signal.aborted) {
      return { kind: 'failed', message: 'watch closed at once without any event' };
    }
    return { kind: 'ok' };
  }

  /** Full list (paged); the cache becomes exactly the list, with events for each difference. */
  async #relist(signal: AbortSignal): Promise<string> {
    const fresh = new Map<string, T>();
    let continueToken: string | undefined;
    let rv = '';
    do {
      const page = await this.#client.list<T>(this.type, {
        namespace: this.options.namespace,
        labelSelector: this.options.labelSelector,
        fieldSelector: this.options.fieldSelector,
        limit: this.options.pageSize ?? 500,
        continue: continueToken,
      });
      for (const item of page.items) {
        const obj = this.#transform(withTypeMeta(item, this.type));
        fresh.set(objectKey(obj), obj);
      }
      continueToken = page.metadata?.continue || undefined;
      rv = page.metadata?.resourceVersion ?? rv;
    } while (continueToken && !signal.aborted);
    this.#stats.lists++;
    this.#stats.lastResourceVersion = rv;
    for (const key of [...this.#store.keys()]) {
      if (!fresh.has(key)) {
        const old = this.#store.remove(key);
        if (old) this.#emit((h) => h.delete?.(old));
      }
    }
    for (const obj of fresh.values()) this.#upsert(obj);
    if (!this.#synced) {
      this.#synced = true;
      for (const resolve of this.#syncWaiters.splice(0)) resolve();
    }
    return rv;
  }

  #apply(event: WatchEvent<T>): void {
    if (event.type === 'BOOKMARK') return;
    const obj = this.#transform(withTypeMeta(event.object, this.type));
    if (event.type === 'DELETED') {
      const old = this.#store.remove(objectKey(obj));
      this.#emit((h) => h.delete?.(old ?? obj));
      return;
    }
    this.#upsert(obj);
  }

  #upsert(obj: T): void {
    const old = this.#store.get(objectKey(obj));
    if (old && old.metadata?.resourceVersion === obj.metadata?.resourceVersion) return;
    this.#store.upsert(obj);
    if (old) this.#emit((h) => h.update?.(old, obj));
    else this.#emit((h) => h.add?.(obj));
  }

  #emit(fn: (h: InformerHandler<T>) => void): void {
    for (const handler of this.#handlers) safely(this.#log, () => fn(handler));
  }
}

/** Lists return items without apiVersion/kind; controllers and Events need them. */
function withTypeMeta<T extends KubeObject>(obj: T, type: ResourceType): T {
  if (obj.kind && obj.apiVersion) return obj;
  return { ...obj, apiVersion: type.group ? `${type.group}/${type.version}` : type.version, kind: type.kind };
}

function safely(log: Logger, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    log.error({ err: describeError(error) }, 'informer handler threw');
  }
}

function describe(options: { type: ResourceType; namespace?: string; labelSelector?: string }): string {
  const t = options.type;
  return [`${t.group || 'core'}/${t.plural}`, options.namespace, options.labelSelector].filter(Boolean).join(' ');
}

export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = clock.setTimer(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      timer.cancel();
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
