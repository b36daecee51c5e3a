/**
 * Wraps a {@link KubeClient} and counts what it writes, per verb and resource, so tests and the
 * benchmark can assert "steady state makes zero writes" from outside the controllers.
 */
import type { KubeClient } from './client.ts';
import type { ResourceType } from './types.ts';

export type WriteVerb = 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface WriteRecord {
  verb: WriteVerb;
  /** `group/plural` (`/secrets` for core) plus `/subresource` when one was used. */
  resource: string;
  namespace: string | undefined;
  name: string | undefined;
}

export interface WriteCounter {
  readonly writes: readonly WriteRecord[];
  /** Writes matching the filter (all by default). */
  count(filter?: (w: WriteRecord) => boolean): number;
  reset(): void;
}

/** A filter that leaves out leader-election Lease renewals (they are writes by design). */
export const excludingLeases = (w: WriteRecord): boolean => w.resource !== 'coordination.k8s.io/leases';

export function countingClient(inner: KubeClient): KubeClient & WriteCounter {
  const writes: WriteRecord[] = [];
  const record = (verb: WriteVerb, type: ResourceType, namespace?: string, name?: string, sub?: string): void => {
    writes.push({ verb, resource: `${type.group}/${type.plural}${sub ? `/${sub}` : ''}`, namespace, name });
  };
  return {
    get writes() {
      return writes;
    },
    count: (filter) => (filter ? writes.filter(filter).length : writes.length),
    reset: () => void writes.splice(0),
    get: (type, name, namespace, options) => inner.get(type, name, namespace, options),
    list: (type, options) => inner.list(type, options),
    watch: (type, options, onEvent) => inner.watch(type, options, onEvent),
    create(type, obj, options) {
      record('POST', type, obj.metadata?.namespace, obj.metadata?.name, options?.subresource);
      return inner.create(type, obj, options);
    },
    replace(type, obj, options) {
      record('PUT', type, obj.metadata?.namespace, obj.metadata?.name, options?.subresource);
      return inner.replace(type, obj, options);
    },
    patch(type, name, namespace, patchType, body, options) {
      record('PATCH', type, namespace, name, options?.subresource);
      return inner.patch(type, name, namespace, patchType, body, options);
    },
    delete(type, name, namespace, options) {
      record('DELETE', type, namespace, name);
      return inner.delete(type, name, namespace, options);
    },
  };
}
