/**
 * What the cache keeps of an object. With 10,000 AgentClients the two largest parts of each
 * object are bookkeeping no controller reads: `managedFields` and kubectl's
 * `last-applied-configuration` annotation (a second copy of the spec). Dropping both roughly
 * halves the cache.
 *
 * What remains is mostly strings, and most of them repeat across objects (condition types,
 * reasons and messages, namespaces, labels, scopes, timestamps): JSON.parse makes a new copy of
 * each for every object, every time. {@link internStrings} makes equal values share one copy;
 * at 10,000 AgentClients that saves a third of the heap.
 */
import type { KubeObject } from '../kube/types.ts';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Strings longer than this are not shared (keys, certificates: unique anyway). */
const MAX_INTERNED_LENGTH = 512;
/** Distinct strings remembered; the table starts afresh when full, so it stays bounded. */
const MAX_INTERNED = 32_768;
let table = new Map<string, string>();

function intern(value: string): string {
  if (value.length > MAX_INTERNED_LENGTH) return value;
  const known = table.get(value);
  if (known !== undefined) return known;
  if (table.size >= MAX_INTERNED) table = new Map();
  table.set(value, value);
  return value;
}

/**
 * Replaces, in place, every string value in a freshly parsed JSON value by a shared copy of an
 * equal string seen before. Only for objects nobody else holds yet (a decoded list or watch event).
 */
export function internStrings(value: unknown): void {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'string') value[i] = intern(item);
      else if (item !== null && typeof item === 'object') internStrings(item);
    }
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const item = record[key];
    if (typeof item === 'string') record[key] = intern(item);
    else if (item !== null && typeof item === 'object') internStrings(item);
  }
}

/** The informers' default transform: bookkeeping dropped, repeated strings shared. */
export function compact<T extends KubeObject>(obj: T): T {
  const slim = strip(obj);
  internStrings(slim);
  return slim;
}

function strip<T extends KubeObject>(obj: T): T {
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
