/**
 * What a controller is: a primary kind, the other objects it watches (each mapped to keys of the
 * primary kind), optional non-Kubernetes event sources, and a level-based `reconcile(key)`.
 *
 * reconcile contract:
 * - read state from the informer caches (never trust the key's old object: it carries none);
 * - resolve `{ requeueAfter }` for scheduled work, or nothing;
 * - throw for transient failures: the key is retried with per-key exponential backoff and jitter
 *   (honouring `retryAfterSeconds` on the error); a config/user error is not thrown but recorded
 *   as a False condition, and waits for a watch event.
 */
import type { Logger } from 'pino';
import type { InformerOptions } from './informer/informer.ts';
import type { KubeObject } from './kube/types.ts';
import type { AddOptions, Lane } from './queue/queue.ts';

/** Which informer to use (shared between controllers when the spec is the same). */
export type InformerSpec<T extends KubeObject = KubeObject> = Pick<
  InformerOptions<T>,
  'type' | 'namespace' | 'labelSelector' | 'fieldSelector' | 'transform'
>;

export interface WatchSpec<T extends KubeObject = KubeObject> {
  source: InformerSpec<T>;
  /** Keys of the primary kind affected by this object (on delete: its last state). */
  map(obj: T): string[];
  /** Filter updates; all updates pass when absent. */
  predicate?(oldObj: T, newObj: T): boolean;
  /** Put the mapped keys in the priority lane. */
  priority?(obj: T): boolean;
  /**
   * Queue the mapped keys this long after the event instead of at once; further events within
   * the window join the same run. For reconciles that aggregate many objects (a ConsentPolicy
   * counting its AgentClients), so a burst of N changes costs one pass, not N. Priority keys and
   * other sources still queue at once.
   */
  coalesceMs?: number;
}

/** Something outside Kubernetes that wakes keys (e.g. an IdentityProvider becoming ready). */
export interface ExternalSource {
  subscribe(enqueue: (key: string, options?: AddOptions) => void): () => void;
}

export interface ReconcileContext {
  log: Logger;
  /** Aborted when shutdown's deadline passes. */
  signal: AbortSignal;
  lane: Lane;
  /** Consecutive failures so far for this key. */
  failures: number;
}

export type ReconcileResult = { requeueAfter?: number } | void;

export interface Controller<T extends KubeObject = KubeObject> {
  readonly name: string;
  readonly primary: InformerSpec<T> & {
    predicate?(oldObj: T, newObj: T): boolean;
    priority?(obj: T): boolean;
  };
  // Watches are heterogeneous by nature; each WatchSpec is typed where it is written.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly watches?: WatchSpec<any>[];
  readonly sources?: ExternalSource[];
  reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult>;
  /** Normal-lane workers (default: the manager's concurrency). */
  readonly concurrency?: number;
  /** Workers only priority keys may use (default 2). */
  readonly priorityReserve?: number;
  /** Re-enqueue every primary key this often (reconciles must then be no-ops). Default 10 h. */
  readonly resyncPeriodMs?: number;
}

/** Update predicate: something other than status changed (generation, labels, annotations, finalizers, deletion). */
export function specOrMetadataChanged(oldObj: KubeObject, newObj: KubeObject): boolean {
  const a = oldObj.metadata ?? {};
  const b = newObj.metadata ?? {};
  return (
    a.generation !== b.generation ||
    String(a.deletionTimestamp) !== String(b.deletionTimestamp) ||
    JSON.stringify(a.labels ?? {}) !== JSON.stringify(b.labels ?? {}) ||
    JSON.stringify(a.annotations ?? {}) !== JSON.stringify(b.annotations ?? {}) ||
    JSON.stringify(a.finalizers ?? []) !== JSON.stringify(b.finalizers ?? [])
  );
}

/** A controller of any primary kind (what the manager and registries hold). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyController = Controller<any>;
