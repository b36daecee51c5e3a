import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdentityProviders } from '../../../src/controllers/identityprovider/controller.ts';
import type { IdentityProvider } from '../../../src/api/v1alpha1/index.ts';
import { setCondition } from '../../../src/runtime/conditions.ts';
import { createEventRecorder } from '../../../src/runtime/events.ts';
import { ensureFinalizer, removeFinalizer } from '../../../src/runtime/finalizers.ts';
import { countingClient } from '../../../src/runtime/kube/counting.ts';
import { isConflict, isInvalid } from '../../../src/runtime/kube/errors.ts';
import { ConfigMaps, CoreEvents } from '../../../src/runtime/kube/types.ts';
import type { KubeObject } from '../../../src/runtime/kube/types.ts';
import { patchStatusIfChanged } from '../../../src/runtime/status.ts';
import { createNamespace, log, realClient } from './env.ts';

const http = realClient();
const client = countingClient(http);
let ns: string;

beforeAll(async () => {
  ns = await createNamespace(http, 'helpers');
});
afterAll(() => http.close());

describe('patchStatusIfChanged', () => {
  it('writes status only when it changed, never spec, and refuses a stale object', async () => {
    const name = `status-${randomBytes(4).toString('hex')}`;
    const created = await client.create<IdentityProvider>(IdentityProviders, {
      apiVersion: 'agentidentity.dev/v1alpha1',
      kind: 'IdentityProvider',
      metadata: { name },
      spec: { type: 'oidc', issuer: 'https://idp.example.com' },
    });
    client.reset();
    const t0 = new Date('2025-01-01T00:00:00Z');
    const status = { observedGeneration: 1, conditions: setCondition([], { type: 'Ready', status: 'False', reason: 'Pending', message: 'm' }, t0) };
    const updated = await patchStatusIfChanged(client, IdentityProviders, created, status);
    expect(updated?.status).toMatchObject(status);
    expect(client.count()).toBe(1);
    expect(client.writes[0]).toMatchObject({ verb: 'PATCH', resource: 'agentidentity.dev/identityproviders/status' });

    // Same status, a later clock: no write (lastTransitionTime is kept by setCondition, and ignored anyway).
    const same = { ...status, conditions: setCondition(updated!.status!.conditions, { type: 'Ready', status: 'False', reason: 'Pending', message: 'm' }, new Date()) };
    expect(await patchStatusIfChanged(client, IdentityProviders, updated!, same)).toBeUndefined();
    expect(client.count()).toBe(1);

    // A spec change meanwhile: a status computed from the old object fails instead of overwriting.
    await http.patch(IdentityProviders, name, undefined, 'merge', { spec: { requestTimeoutSeconds: 20 } });
    const stale = patchStatusIfChanged(client, IdentityProviders, updated!, { ...status, observedGeneration: 9 });
    await expect(stale).rejects.toSatisfy(isConflict);
    const fresh = await http.get<IdentityProvider>(IdentityProviders, name);
    expect(fresh?.spec.requestTimeoutSeconds).toBe(20);
    expect(fresh?.spec.issuer).toBe('https://idp.example.com');
    await http.delete(IdentityProviders, name);
  });
  it('writes back a value the cache still shows when this process wrote something else since (stale cache)', async () => {
    const name = `stale-${randomBytes(4).toString('hex')}`;
    const created = await client.create<IdentityProvider>(IdentityProviders, {
      apiVersion: 'agentidentity.dev/v1alpha1',
      kind: 'IdentityProvider',
      metadata: { name },
      spec: { type: 'oidc', issuer: 'https://idp.example.com' },
    });
    const t0 = new Date('2025-01-01T00:00:00Z');
    const readyTrue = { observedGeneration: 1, conditions: setCondition([], { type: 'Ready', status: 'True', reason: 'Discovered', message: 'm' }, t0) };
    const readyFalse = { observedGeneration: 1, conditions: setCondition([], { type: 'Ready', status: 'False', reason: 'DiscoveryFailed', message: 'm' }, t0) };
    const cachedTrue = (await patchStatusIfChanged(client, IdentityProviders, created, readyTrue))!;
    // This process writes Ready=False; its informer has not delivered that update yet.
    await patchStatusIfChanged(client, IdentityProviders, cachedTrue, readyFalse);
    client.reset();
    // The next run wants Ready=True back and still sees Ready=True in its cache: it must not skip.
    // The cached resourceVersion is stale, so the write is refused and the key retried.
    await expect(patchStatusIfChanged(client, IdentityProviders, cachedTrue, readyTrue)).rejects.toSatisfy(isConflict);
    expect(client.count()).toBe(1);
    // Once the cache has caught up, the retry writes Ready=True.
    const fresh = (await http.get<IdentityProvider>(IdentityProviders, name))!;
    expect(await patchStatusIfChanged(client, IdentityProviders, fresh, readyTrue)).toBeDefined();
    const final = (await http.get<IdentityProvider>(IdentityProviders, name))!;
    expect(final.status?.conditions?.[0]).toMatchObject({ status: 'True', reason: 'Discovered' });
    // Steady state again: the cache shows what was written last, so nothing is written.
    client.reset();
    expect(await patchStatusIfChanged(client, IdentityProviders, final, readyTrue)).toBeUndefined();
    expect(client.count()).toBe(0);
    await http.delete(IdentityProviders, name);
  });
});

describe('finalizers', () => {
  it('adds and removes ours without clobbering a finalizer another actor added concurrently', async () => {
    const obj = await client.create<KubeObject>(ConfigMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fin', namespace: ns } });
    const withOurs = await ensureFinalizer(client, ConfigMaps, obj, 'agentidentity.dev/ours');
    expect(withOurs?.metadata?.finalizers).toEqual(['agentidentity.dev/ours']);
    expect(await ensureFinalizer(client, ConfigMaps, withOurs!, 'agentidentity.dev/ours')).toBeUndefined();

    // Someone else adds theirs; our view is now stale.
    await http.patch(ConfigMaps, 'fin', ns, 'json', [{ op: 'add', path: '/metadata/finalizers/-', value: 'example.com/theirs' }]);
    await expect(ensureFinalizer(client, ConfigMaps, withOurs!, 'agentidentity.dev/second')).rejects.toSatisfy(
      (e: unknown) => isInvalid(e) || isConflict(e),
    );
    const current = (await http.get<KubeObject>(ConfigMaps, 'fin', ns))!;
    expect(current.metadata?.finalizers).toEqual(['agentidentity.dev/ours', 'example.com/theirs']);

    const removed = await removeFinalizer(client, ConfigMaps, current, 'agentidentity.dev/ours');
    expect(removed?.metadata?.finalizers).toEqual(['example.com/theirs']);
    expect(await removeFinalizer(client, ConfigMaps, removed!, 'agentidentity.dev/ours')).toBeUndefined();
    await http.patch(ConfigMaps, 'fin', ns, 'merge', { metadata: { finalizers: null } });
  });

  it('sets annotations in the same patch, never replacing annotations someone else added meanwhile', async () => {
    const bare = await client.create<KubeObject>(ConfigMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fin-ann', namespace: ns } });
    const added = await ensureFinalizer(client, ConfigMaps, bare, 'agentidentity.dev/ours', { 'agentidentity.dev/intent': 't1' });
    expect(added?.metadata?.finalizers).toEqual(['agentidentity.dev/ours']);
    expect(added?.metadata?.annotations).toEqual({ 'agentidentity.dev/intent': 't1' });

    // No annotations map yet on our (stale) view, but another actor has just added one: the patch fails.
    const other = await client.create<KubeObject>(ConfigMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fin-ann2', namespace: ns, finalizers: ['example.com/theirs'] } });
    await http.patch(ConfigMaps, 'fin-ann2', ns, 'merge', { metadata: { annotations: { 'example.com/theirs': 'x' } } });
    await expect(ensureFinalizer(client, ConfigMaps, other, 'agentidentity.dev/ours', { 'agentidentity.dev/intent': 't2' })).rejects.toSatisfy(
      (e: unknown) => isInvalid(e) || isConflict(e),
    );
    const fresh = (await http.get<KubeObject>(ConfigMaps, 'fin-ann2', ns))!;
    const both = await ensureFinalizer(client, ConfigMaps, fresh, 'agentidentity.dev/ours', { 'agentidentity.dev/intent': 't2' });
    expect(both?.metadata?.annotations).toEqual({ 'example.com/theirs': 'x', 'agentidentity.dev/intent': 't2' });
    expect(both?.metadata?.finalizers).toEqual(['example.com/theirs', 'agentidentity.dev/ours']);
    for (const name of ['fin-ann', 'fin-ann2']) await http.patch(ConfigMaps, name, ns, 'merge', { metadata: { finalizers: null } });
  });
});

describe('Event recorder', () => {
  it('aggregates repeats into one Event with a count, and scrubs credentials from messages', async () => {
    const obj = await client.create<KubeObject>(ConfigMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ev', namespace: ns } });
    const recorder = createEventRecorder(client, log, { component: 'test' });
    await recorder.event(obj, 'Warning', 'DiscoveryFailed', 'IdP unreachable');
    await recorder.event(obj, 'Warning', 'DiscoveryFailed', 'IdP unreachable');
    await recorder.event(obj, 'Warning', 'DiscoveryFailed', 'IdP unreachable');
    await recorder.event(obj, 'Normal', 'Discovered', 'sent Authorization: Bearer abc.def-123 and client_secret=hunter2');
    const events = (await http.list<KubeObject & { reason?: string; count?: number; message?: string }>(CoreEvents, { namespace: ns })).items;
    const failed = events.filter((e) => e.reason === 'DiscoveryFailed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.count).toBe(3);
    const scrubbed = events.find((e) => e.reason === 'Discovered')!;
    expect(scrubbed.message).not.toContain('abc.def-123');
    expect(scrubbed.message).not.toContain('hunter2');
    expect(scrubbed).toMatchObject({ involvedObject: { kind: 'ConfigMap', name: 'ev', uid: obj.metadata?.uid } });
  });
});
