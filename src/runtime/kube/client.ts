/**
 * The Kubernetes API as the operator uses it: a handful of verbs over any {@link ResourceType}.
 * Controllers depend on this interface (passed in), never on a concrete HTTP client, so tests and
 * the benchmark can wrap it (see `counting.ts`).
 */
import type { KubeList, KubeObject, ResourceType } from './types.ts';

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

/** RFC 6902 JSON Patch operation. */
export interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'test' | 'move' | 'copy';
  path: string;
  value?: unknown;
  from?: string;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export interface WriteOptions {
  fieldManager?: string;
  /** `status` (or another subresource) for replace/patch. */
  subresource?: string;
}

export interface PatchOptions extends WriteOptions {
  /** Server-side apply only. */
  force?: boolean;
}

export interface DeleteOptions {
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
  gracePeriodSeconds?: number;
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  /** Server closes the watch after this long; the informer then re-watches from its last version. */
  timeoutSeconds?: number;
  signal?: AbortSignal;
}

export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export interface GetOptions {
  resourceVersion?: string;
}

export interface KubeClient {
  /**
   * Resolves null on 404. Without options a quorum read (etcd); `{ resourceVersion: '0' }` lets the
   * apiserver answer from its watch cache (cheaper, possibly a little behind): only for reads whose
   * staleness a later conditional write would catch.
   */
  get<T extends KubeObject>(type: ResourceType, name: string, namespace?: string, options?: GetOptions): Promise<T | null>;
  list<T extends KubeObject>(type: ResourceType, options?: ListOptions): Promise<KubeList<T>>;
  /** Namespace taken from `obj.metadata.namespace`. */
  create<T extends KubeObject>(type: ResourceType, obj: T, options?: WriteOptions): Promise<T>;
  /** PUT; `obj.metadata.resourceVersion` makes it an optimistic-concurrency write. */
  replace<T extends KubeObject>(type: ResourceType, obj: T, options?: WriteOptions): Promise<T>;
  patch<T extends KubeObject>(
    type: ResourceType,
    name: string,
    namespace: string | undefined,
    patchType: PatchType,
    body: unknown,
    options?: PatchOptions,
  ): Promise<T>;
  /** Resolves false when the object was already gone (404). */
  delete(type: ResourceType, name: string, namespace?: string, options?: DeleteOptions): Promise<boolean>;
  /**
   * Stream watch events to `onEvent` until the server closes the stream (resolves) or `signal`
   * aborts (resolves). Rejects with an ApiError when the server refuses the watch (e.g. 410).
   */
  watch<T extends KubeObject>(type: ResourceType, options: WatchOptions, onEvent: (event: WatchEvent<T>) => void): Promise<void>;
}

/** `/api/v1/namespaces/ns/secrets/name/status` and friends. */
export function resourcePath(type: ResourceType, namespace?: string, name?: string, subresource?: string): string {
  const base = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
  let path = base;
  if (type.namespaced && namespace) path += `/namespaces/${encodeURIComponent(namespace)}`;
  path += `/${type.plural}`;
  if (name !== undefined) path += `/${encodeURIComponent(name)}`;
  if (subresource) path += `/${subresource}`;
  return path;
}
