import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Controller } from '../../../src/runtime/controller.ts';
import { Leases, ConfigMaps } from '../../../src/runtime/kube/types.ts';
import type { KubeObject } from '../../../src/runtime/kube/types.ts';
import type { LeaseObject } from '../../../src/runtime/leader.ts';
import { Manager } from '../../../src/runtime/manager.ts';
import { createNamespace, eventually, log, realClient, sleep } from './env.ts';

const client = realClient();
let ns: string;

beforeAll(async () => {
  ns = await createNamespace(client, 'leader');
});
afterAll(() => client.close());

function candidate(identity: string, seen: string[]): Manager {
  const manager = new Manager({
    client,
    log,
    leaderElection: { namespace: ns, name: 'test-leader', identity, leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 300 },
    shutdownDeadlineMs: 2000,
  });
  const controller: Controller<KubeObject> = {
    name: 'configmaps',
    primary: { type: ConfigMaps, namespace: ns },
    reconcile: async (key) => void seen.push(key),
  };
  manager.add(controller);
  return manager;
}

describe('leader election with two managers', () => {
  it('lets only the leader reconcile, and the standby takes over after release', async () => {
    const seenA: string[] = [];
    const seenB: string[] = [];
    const a = candidate('a', seenA);
    await a.start();
    await eventually(() => a.isLeader(), 10_000, 'a to lead');
    const b = candidate('b', seenB);
    await b.start();
    expect(b.readyz()).toEqual({ ok: true });

    await client.create(ConfigMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one', namespace: ns } });
    await eventually(() => seenA.includes(`${ns}/one`), 10_000, 'leader reconcile');
    await sleep(1000);
    expect(b.isLeader()).toBe(false);
    expect(seenB).toEqual([]);
    expect(b.healthz()).toEqual({ ok: true });

    const released = Date.now();
    await a.stop();
    const lease = await client.get<LeaseObject>(Leases, 'test-leader', ns);
    expect(lease?.spec?.holderIdentity).toBe('');
    await eventually(() => b.isLeader(), 10_000, 'b to take over');
    // Released, not expired: the standby does not wait out the 3 s lease.
    expect(Date.now() - released).toBeLessThan(2500);
    // The standby queued keys while its caches filled; it works them once it leads.
    await eventually(() => seenB.includes(`${ns}/one`), 10_000, 'new leader reconcile');
    await client.create(ConfigMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'two', namespace: ns } });
    await eventually(() => seenB.includes(`${ns}/two`), 10_000, 'new leader reconcile of new work');
    expect(seenA).not.toContain(`${ns}/two`);
    const after = await client.get<LeaseObject>(Leases, 'test-leader', ns);
    expect(after?.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    await b.stop();
  });
});
