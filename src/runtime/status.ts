/**
 * Status writes that happen only when status really changed: steady state must make zero API
 * writes. The patch goes to the `/status` subresource only, so spec is never touched (GitOps
 * tools own spec), and carries the cached resourceVersion so a status computed from a stale cache
 * fails with 409 (retried with backoff) instead of overwriting newer state.
 */
import type { KubeClient } from './kube/client.ts';
import type { KubeObject, ResourceType } from './kube/types.ts';

/** Deep equality of JSON values; conditions compare without `lastTransitionTime`. */
export function statusEqual(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  return JSON.stringify(normalize(value));
}

/** Sorted keys, undefined dropped, every `lastTransitionTime` left out. */
function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined || k === 'lastTransitionTime') continue;
    out[k] = normalize(v);
  }
  return out;
}

/**
 * RFC 7386 merge patch turning `from` into `to`: removed keys become null, arrays are replaced
 * whole.
 */
export function mergePatch(from: unknown, to: unknown): unknown {
  if (!isObject(from) || !isObject(to)) return to === undefined ? null : to;
  const patch: Record<string, unknown> = {};
  for (const key of Object.keys(from)) {
    if (to[key] === undefined && from[key] !== undefined) patch[key] = null;
  }
  for (const [key, value] of Object.entries(to)) {
    if (value === undefined) continue;
    if (JSON.stringify(from[key]) === JSON.stringify(value)) continue;
    patch[key] = isObject(value) && isObject(from[key]) ? mergePatch(from[key], value) : value;
  }
  return patch;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export interface PatchStatusOptions {
  /** Send the cached resourceVersion as a precondition (default true). */
  optimistic?: boolean;
}

/**
 * Patch `obj`'s status to `newStatus` when it differs (ignoring condition lastTransitionTime
 * churn). Resolves the updated object, or undefined when nothing needed writing.
 */
export async function patchStatusIfChanged<T extends KubeObject & { status?: unknown }>(
  client: KubeClient,
  type: ResourceType,
  obj: T,
  newStatus: unknown,
  options: PatchStatusOptions = {},
): Promise<T | undefined> {
  if (statusEqual(obj.status ?? {}, newStatus ?? {})) return undefined;
  const body: Record<string, unknown> = { status: mergePatch(obj.status ?? {}, newStatus ?? {}) };
  if (options.optimistic ?? true) body['metadata'] = { resourceVersion: obj.metadata?.resourceVersion };
  return client.patch<T>(type, obj.metadata?.name ?? '', obj.metadata?.namespace, 'merge', body, { subresource: 'status' });
}
