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

/**
 * Add `finalizer` unless present. Resolves the updated object, or undefined when no write was
 * needed. `annotations` are set in the same patch (one write instead of two); an annotations map
 * that does not exist yet is created only on the exact version read, so a concurrent writer's
 * annotations are never replaced.
 */
export async function ensureFinalizer<T extends KubeObject>(
  client: KubeClient,
  type: ResourceType,
  obj: T,
  finalizer: string,
  annotations: Record<string, string> = {},
): Promise<T | undefined> {
  if (hasFinalizer(obj, finalizer)) return undefined;
  const current = obj.metadata?.finalizers;
  const existing = obj.metadata?.annotations;
  const annotate = Object.keys(annotations).length > 0;
  // Absence cannot be tested in JSON Patch, so pin the whole object's version instead.
  const pinVersion = current === undefined || (annotate && existing === undefined);
  const ops: JsonPatchOp[] = pinVersion ? [{ op: 'test', path: '/metadata/resourceVersion', value: obj.metadata?.resourceVersion }] : [];
  if (current === undefined) ops.push({ op: 'add', path: '/metadata/finalizers', value: [finalizer] });
  else ops.push({ op: 'test', path: '/metadata/finalizers', value: current }, { op: 'add', path: '/metadata/finalizers/-', value: finalizer });
  if (annotate && existing === undefined) ops.push({ op: 'add', path: '/metadata/annotations', value: annotations });
  else if (annotate) for (const [key, value] of Object.entries(annotations)) ops.push({ op: 'add', path: `/metadata/annotations/${pointerToken(key)}`, value });
  return client.patch<T>(type, obj.metadata?.name ?? '', obj.metadata?.namespace, 'json', ops);
}

/** RFC 6901: `~` and `/` escaped in a JSON Pointer token. */
function pointerToken(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
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
