/** The background Event recorder against the real API server (what the API server accepts). */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackgroundEventRecorder } from '../../../src/runtime/event-queue.ts';
import { ConfigMaps, CoreEvents } from '../../../src/runtime/kube/types.ts';
import type { KubeObject } from '../../../src/runtime/kube/types.ts';
import { createNamespace, log, realClient } from './env.ts';

type EventObject = KubeObject & { reason?: string; count?: number; involvedObject?: { kind?: string; name?: string; uid?: string } };

const client = realClient();
let ns: string;

beforeAll(async () => {
  ns = await createNamespace(client, 'events');
});
afterAll(() => client.close());

describe('background Event recorder on a real API server', () => {
  it('writes aggregated Events after flush, including about a cluster-scoped IdentityProvider', async () => {
    const recorder = createBackgroundEventRecorder(client, log, { component: 'test', concurrency: 2 });
    const cm = await client.create<KubeObject>(ConfigMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ev', namespace: ns } });
    const idpName = `ev-${randomBytes(4).toString('hex')}`;
    const idp = await client.create<KubeObject>(
      { group: 'agentidentity.dev', version: 'v1alpha1', plural: 'identityproviders', kind: 'IdentityProvider', namespaced: false },
      { apiVersion: 'agentidentity.dev/v1alpha1', kind: 'IdentityProvider', metadata: { name: idpName }, spec: { type: 'oidc', issuer: 'https://idp.example.com' } } as KubeObject,
    );
    for (let i = 0; i < 4; i++) await recorder.event(cm, 'Warning', 'DiscoveryFailed', 'IdP unreachable');
    await recorder.event(idp, 'Normal', 'Discovered', 'discovered');
    expect(await recorder.flush(10_000)).toBe(true);
    // A repeat after the first write bumps the same Event.
    await recorder.event(cm, 'Warning', 'DiscoveryFailed', 'IdP unreachable');
    expect(await recorder.flush(10_000)).toBe(true);

    const inNs = (await client.list<EventObject>(CoreEvents, { namespace: ns })).items.filter((e) => e.reason === 'DiscoveryFailed');
    expect(inNs).toHaveLength(1);
    expect(inNs[0]!.count).toBe(5);
    const inDefault = (await client.list<EventObject>(CoreEvents, { namespace: 'default' })).items.filter((e) => e.involvedObject?.name === idpName && e.reason === 'Discovered'); // other files' operators reconcile this IdentityProvider too
    expect(inDefault).toHaveLength(1);
    expect(inDefault[0]).toMatchObject({ reason: 'Discovered', involvedObject: { kind: 'IdentityProvider', uid: idp.metadata?.uid } });
    expect(recorder.dropped).toBe(0);
  });
});
