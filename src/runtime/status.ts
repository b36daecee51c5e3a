/**
 * Status writes that happen only when status really changed: steady state must make zero API
 * writes. The patch goes to the `/status` subresource only, so spec is never touched (GitOps
 * tools own spec), and carries the cached resourceVersion so a status computed from a stale cache
 * fails with 409 (retried with backoff) instead of overwriting newer state.
 *
 * "Changed" cannot be judged against the cache alone: right after this process wrote a status,
 * the informer may still show the one before. A run that then wants that older value back would
 * see "equal" and write nothing, leaving the object wrong until a resync. So the last status this
 * process wrote (and the resourceVersion the write returned) is remembered per object uid, and an
 * "equal to the cache" verdict is trusted only when the cache already shows that write.
 */
import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
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

/**
 * What this process last wrote to one object's status. Kept compact, because an object reconciled
 * once and never again keeps its entry until the bound pushes it out (10,000 parked objects
 * would otherwise hold 10,000 status object graphs plus their canonical JSON): the status as
 * deflated JSON (a condition-heavy status of ~1.8 KB shrinks about fourfold; inflated only when a
 * patch must be computed against it) and a digest of the canonical form.
 */
interface Written {
  resourceVersion: string | undefined;
  /** `deflateRaw(JSON)` as a latin1 string: one byte per byte, on the heap, no Buffer slab kept. */
  statusDeflated: string;
  digest: string;
}

function pack(status: unknown): string {
  return deflateRawSync(JSON.stringify(status)).toString('latin1');
}

function unpack(packed: string): unknown {
  return JSON.parse(inflateRawSync(Buffer.from(packed, 'latin1')).toString('utf8'));
}

/** SHA-256 of a canonical status, for equality only (base64: 44 characters). */
function digest(canonicalJson: string): string {
  return createHash('sha256').update(canonicalJson).digest('base64');
}

/**
 * The last status this process wrote, per object uid. An entry matters only until the cache shows
 * that write (then it is dropped), so the map stays small; a bound (oldest out first) covers
 * objects deleted before their write came back through the watch.
 */
export class StatusMemo {
  readonly #max: number;
  readonly #entries = new Map<string, Written>();

  constructor(maxEntries = 10_000) {
    this.#max = Math.max(1, maxEntries);
  }

  get size(): number {
    return this.#entries.size;
  }

  get(uid: string): Written | undefined {
    return this.#entries.get(uid);
  }

  remember(uid: string, written: Written): void {
    this.#entries.delete(uid);
    this.#entries.set(uid, written);
    if (this.#entries.size > this.#max) {
      for (const oldest of this.#entries.keys()) {
        this.#entries.delete(oldest);
        break;
      }
    }
  }

  /** Drop an object's entry (its write is visible in the cache, or the object is gone). */
  forget(uid: string): void {
    this.#entries.delete(uid);
  }
}

/** Shared by every controller of this process (uids are unique across kinds). */
export const processStatusMemo = new StatusMemo();

export interface PatchStatusOptions {
  /** Send the cached resourceVersion as a precondition (default true). */
  optimistic?: boolean;
  /** Where this process's own writes are remembered (default {@link processStatusMemo}). */
  memo?: StatusMemo;
}

/**
 * Patch `obj`'s status to `newStatus` when it differs (ignoring condition lastTransitionTime
 * churn). Resolves the updated object, or undefined when nothing needed writing.
 *
 * `obj` is usually the cached object. When it equals `newStatus` but this process wrote a
 * different status since (a write the cache does not show yet), the patch is sent anyway, computed
 * against what was written: with the cached resourceVersion as precondition it fails with 409 and
 * the key is retried once the cache has caught up, instead of being skipped for good.
 */
export async function patchStatusIfChanged<T extends KubeObject & { status?: unknown }>(
  client: KubeClient,
  type: ResourceType,
  obj: T,
  newStatus: unknown,
  options: PatchStatusOptions = {},
): Promise<T | undefined> {
  const memo = options.memo ?? processStatusMemo;
  const uid = obj.metadata?.uid;
  const cachedRv = obj.metadata?.resourceVersion;
  const desiredJson = canonical(newStatus ?? {});
  const cachedJson = canonical(obj.status ?? {});
  let written = uid === undefined ? undefined : memo.get(uid);
  if (written && uid !== undefined && (written.resourceVersion === cachedRv || written.digest === digest(cachedJson))) {
    // The cache shows our last write (or the same status): from here on it alone is the truth.
    memo.forget(uid);
    written = undefined;
  }
  let base: unknown = obj.status ?? {};
  if (cachedJson === desiredJson) {
    if (!written || written.digest === digest(desiredJson)) return undefined;
    base = unpack(written.statusDeflated);
  }
  const body: Record<string, unknown> = { status: mergePatch(base, newStatus ?? {}) };
  if (options.optimistic ?? true) body['metadata'] = { resourceVersion: cachedRv };
  const updated = await client.patch<T>(type, obj.metadata?.name ?? '', obj.metadata?.namespace, 'merge', body, { subresource: 'status' });
  const writtenUid = updated.metadata?.uid ?? uid;
  if (writtenUid !== undefined) {
    memo.remember(writtenUid, {
      resourceVersion: updated.metadata?.resourceVersion,
      statusDeflated: pack(newStatus ?? {}),
      digest: digest(desiredJson),
    });
  }
  return updated;
}
