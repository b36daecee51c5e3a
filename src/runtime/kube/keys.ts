/**
 * Object keys in the client-go convention: `namespace/name` for namespaced objects, `name` for
 * cluster-scoped ones. Work queues carry keys, never objects, so a reconcile always reads the
 * newest cached state.
 */
import type { KubeObject } from './types.ts';

export function objectKey(obj: KubeObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return ns ? `${ns}/${name}` : name;
}

export function keyOf(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf('/');
  if (slash < 0) return { namespace: undefined, name: key };
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
