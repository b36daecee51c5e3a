/**
 * Before asserting that nothing happened after a change: wait until the operator's caches hold
 * that change (by resourceVersion), then until its work queues are idle. A fixed sleep proves
 * nothing on a slow machine (the change may not have reached the cache yet) and wastes time on a
 * fast one.
 */
import type { ResourceType } from '../../../src/runtime/kube/types.ts';
import type { Manager } from '../../../src/runtime/manager.ts';

const newer = (cached: string | undefined, wanted: string): boolean => {
  if (cached === undefined) return false;
  // etcd resourceVersions are integers; anything else is compared for equality only.
  return /^\d+$/.test(cached) && /^\d+$/.test(wanted) ? BigInt(cached) >= BigInt(wanted) : cached === wanted;
};

/**
 * Resolves once every informer of `manager` watching `type` in `namespace` without a selector (and
 * every selecting one that holds the object) has seen `resourceVersion` of `namespace/name` or a
 * later one, and the manager is idle after that.
 */
export async function settled(manager: Manager, type: ResourceType, namespace: string, name: string, resourceVersion: string, timeoutMs = 20_000): Promise<void> {
  const key = `${namespace}/${name}`;
  const informers = manager.informers.all().filter((i) => i.type.group === type.group && i.type.plural === type.plural && (i.options.namespace ?? namespace) === namespace);
  if (informers.length === 0) throw new Error(`no informer watches ${type.plural} in ${namespace}`);
  const until = Date.now() + timeoutMs;
  for (;;) {
    const behind = informers.filter((i) => {
      const cached = i.getByKey(key);
      if (!cached && (i.options.labelSelector || i.options.fieldSelector)) return false;
      return !newer(cached?.metadata?.resourceVersion, resourceVersion);
    });
    if (behind.length === 0) break;
    if (Date.now() > until) throw new Error(`the operator's cache never saw ${type.plural} ${key} at resourceVersion ${resourceVersion}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  await manager.idle();
}
