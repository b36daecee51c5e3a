/**
 * What the cache keeps of an object. With 10,000 AgentClients the two largest parts of each
 * object are bookkeeping no controller reads: `managedFields` and kubectl's
 * `last-applied-configuration` annotation (a second copy of the spec). Dropping both roughly
 * halves the cache.
 */
import type { KubeObject } from '../kube/types.ts';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

export function compact<T extends KubeObject>(obj: T): T {
  const meta = obj.metadata;
  if (!meta) return obj;
  if (meta.managedFields === undefined && meta.annotations?.[LAST_APPLIED] === undefined) return obj;
  const { managedFields: _managed, ...rest } = meta;
  void _managed;
  if (rest.annotations?.[LAST_APPLIED] !== undefined) {
    const { [LAST_APPLIED]: _applied, ...annotations } = rest.annotations;
    void _applied;
    rest.annotations = annotations;
  }
  return { ...obj, metadata: rest };
}
