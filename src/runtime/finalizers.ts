/**
 * Finalizer add/remove as JSON patches (RFC 6902) that cannot clobber a finalizer another actor
 * added concurrently: each patch `test`s the exact list (or element) it edits, so a race fails
 * with 409/422 and is retried from fresh state instead of dropping someone's finalizer.
 */
import type { JsonPatchOp, KubeClient } from './kube/client.ts';
import type { KubeObject, ResourceType } from './kube/types.ts';

export function hasFinalizer(obj: KubeObject, finalizer: string): boolean {
  return obj.metadata?.finalizers?.includes(finalizer) ?? false;
}

/** Add `finalizer` unless present. Resolves the updated object, or undefined when no write was needed. */
export async function ensureFinalizer<T extends KubeObject>(
  client: KubeClient,
  type: ResourceType,
  obj: T,
  finalizer: string,
): Promise<T | undefined> {
  if (hasFinalizer(obj, finalizer)) return undefined;
  const current = obj.metadata?.finalizers;
  const ops: JsonPatchOp[] =
    current === undefined
      ? [
          // Absence cannot be tested in JSON Patch, so pin the whole object's version instead.
          { op: 'test', path: '/metadata/resourceVersion', value: obj.metadata?.resourceVersion },
          { op: 'add', path: '/metadata/finalizers', value: [finalizer] },
        ]
      : [
          { op: 'test', path: '/metadata/finalizers', value: current },
          { op: 'add', path: '/metadata/finalizers/-', value: finalizer },
        ];
  return client.patch<T>(type, obj.metadata?.name ?? '', obj.metadata?.namespace, 'json', ops);
}

/** Remove `finalizer` if present. Resolves the updated object, or undefined when no write was needed. */
export async function removeFinalizer<T extends KubeObject>(
  client: KubeClient,
  type: ResourceType,
  obj: T,
  finalizer: string,
): Promise<T | undefined> {
  const index = obj.metadata?.finalizers?.indexOf(finalizer) ?? -1;
  if (index < 0) return undefined;
  const ops: JsonPatchOp[] = [
    { op: 'test', path: `/metadata/finalizers/${index}`, value: finalizer },
    { op: 'remove', path: `/metadata/finalizers/${index}` },
  ];
  return client.patch<T>(type, obj.metadata?.name ?? '', obj.metadata?.namespace, 'json', ops);
}
