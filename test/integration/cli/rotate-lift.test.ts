/**
 * `kubectl agentid rotate` and `lift` against the real API server. The operator is not running:
 * its part (handling the rotate annotation, holding a GrantRevocation with a finalizer while it
 * lifts a suspension) is simulated in the tests that say so.
 */
import { randomBytes } from 'node:crypto';
import { AuthenticationV1Api } from '@kubernetes/client-node';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { loadKubeConfig } from '../../../src/envtest/index.ts';
import { Cluster, eventually, runPlugin, startPlugin } from './harness.ts';

const kubeconfig = inject('kubeconfigPath');
const cluster = new Cluster(loadKubeConfig(kubeconfig));
const ns = `cli-rotate-lift-${randomBytes(4).toString('hex')}`;
const ROTATE = 'agentidentity.dev/rotate';
const HOLD = 'agentidentity.dev/test-hold';
let me: string;

beforeAll(async () => {
  await cluster.namespace(ns);
  await cluster.createAgent(ns, 'coder');
  await cluster.writeAgentStatus(ns, 'coder', {
    clientId: 'cid-coder',
    credentials: { keyId: 'k1', lastRotationTime: new Date(Date.now() - 86_400_000).toISOString(), rotationSupport: 'Overlap' },
  });
  const review = await cluster.kc.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
  me = review.status?.userInfo?.username ?? '';
});

describe('rotate', () => {
  it('sets the rotate annotation and waits until the simulated operator reports it handled', async () => {
    const run = startPlugin(kubeconfig, ['rotate', 'coder', '-n', ns, '--timeout', '30s']);
    const request = await eventually(async () => (await cluster.getAgent(ns, 'coder')).metadata.annotations?.[ROTATE]);
    expect(Number.isNaN(Date.parse(request))).toBe(false);
    // Waiting: nothing has handled the request yet.
    await eventually(async () => (run.stderr().includes('waiting for the operator to rotate') ? true : undefined));
    expect(run.stderr()).toContain('rotation requested');
    const overlapUntil = new Date(Date.now() + 3_600_000).toISOString();
    await cluster.writeAgentStatus(ns, 'coder', {
      credentials: { keyId: 'k2', previousKeyId: 'k1', lastRotationTime: new Date().toISOString(), overlapUntil, lastRotationRequest: request },
    });
    const result = await run.result;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`agentclient ${ns}/coder: rotation ${request} handled`);
    expect(result.stdout).toMatch(/rotated:\s+0s ago, key k2/);
    expect(result.stdout).toContain(`previous:  k1 accepted until ${overlapUntil}`);
  });

  it('uses a new value each time and prints JSON with -o json (simulated operator)', async () => {
    const before = (await cluster.getAgent(ns, 'coder')).metadata.annotations?.[ROTATE];
    const run = startPlugin(kubeconfig, ['rotate', 'coder', '-n', ns, '-o', 'json']);
    const request = await eventually(async () => {
      const value = (await cluster.getAgent(ns, 'coder')).metadata.annotations?.[ROTATE];
      return value !== before ? value : undefined;
    });
    await cluster.writeAgentStatus(ns, 'coder', { credentials: { keyId: 'k3', previousKeyId: 'k2', lastRotationTime: new Date().toISOString(), lastRotationRequest: request } });
    const result = await run.result;
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ namespace: ns, name: 'coder', request, handled: true, keyId: 'k3' });
  });

  it('keeps waiting while the request is recorded but nothing rotated (the operator records it before the IdP call)', async () => {
    const before = (await cluster.getAgent(ns, 'coder')).metadata.annotations?.[ROTATE];
    const run = startPlugin(kubeconfig, ['rotate', 'coder', '-n', ns, '--timeout', '3s']);
    const request = await eventually(async () => {
      const value = (await cluster.getAgent(ns, 'coder')).metadata.annotations?.[ROTATE];
      return value !== before ? value : undefined;
    });
    // Handled, but lastRotationTime is still the previous rotation's (the IdP call failed).
    await cluster.writeAgentStatus(ns, 'coder', { credentials: { lastRotationRequest: request, lastRotationTime: new Date(Date.now() - 3_600_000).toISOString() } });
    const result = await run.result;
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`the operator took rotation request ${request} but has not rotated yet`);
  });

  it('exits 1 with the operator\'s message when it declines the request as Unsupported (simulated operator)', async () => {
    const before = (await cluster.getAgent(ns, 'coder')).metadata.annotations?.[ROTATE];
    const run = startPlugin(kubeconfig, ['rotate', 'coder', '-n', ns, '--timeout', '30s']);
    const request = await eventually(async () => {
      const value = (await cluster.getAgent(ns, 'coder')).metadata.annotations?.[ROTATE];
      return value !== before ? value : undefined;
    });
    await cluster.writeAgentStatus(ns, 'coder', {
      credentials: { lastRotationRequest: request, lastRotationTime: new Date(Date.now() - 3_600_000).toISOString(), rotationSupport: 'Unsupported', rotationMessage: 'client secrets cannot be rotated through RFC 7592 here' },
    });
    const result = await run.result;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('declined as Unsupported): client secrets cannot be rotated through RFC 7592 here');
    expect(result.stdout).not.toContain('handled');
    await cluster.writeAgentStatus(ns, 'coder', { credentials: { rotationSupport: 'Overlap' } });
  });

  it('exits 3 when nothing handles the request in time, and 4 for an unknown agent', async () => {
    const slow = await runPlugin(kubeconfig, ['rotate', 'coder', '-n', ns, '--timeout', '1500ms']);
    expect(slow.code).toBe(3);
    expect(slow.stderr).toContain('the operator has not handled rotation request');
    expect((await runPlugin(kubeconfig, ['rotate', 'ghost', '-n', ns])).code).toBe(4);
  });
});

describe('lift', () => {
  it('records the reason on the suspending GrantRevocation, then deletes it (simulated operator finalizer)', async () => {
    await cluster.createRevocation(ns, 'coder-suspend', { target: { agentClientName: 'coder' }, actions: ['Suspend'], reason: 'incident' }, [HOLD]);
    await cluster.writeAgentStatus(ns, 'coder', { suspendedBy: [`${ns}/coder-suspend`] });

    const run = startPlugin(kubeconfig, ['lift', 'coder', '-n', ns, '--reason', 'contained, key rotated']);
    // The simulated operator sees the deletion, with the reason already recorded, and lets it go.
    const deleting = await eventually(async () => {
      const r = await cluster.getRevocation(ns, 'coder-suspend');
      return r?.metadata.deletionTimestamp ? r : undefined;
    });
    expect(deleting.metadata.annotations).toMatchObject({
      'agentidentity.dev/lift-reason': 'contained, key rotated',
      'agentidentity.dev/lifted-by': me,
    });
    await eventually(async () => (run.stderr().includes('waiting for deletion') ? true : undefined));
    await cluster.removeFinalizers(ns, 'grantrevocations', 'coder-suspend');
    const result = await run.result;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`suspension lifted: grantrevocation ${ns}/coder-suspend deleted`);
    expect(await cluster.getRevocation(ns, 'coder-suspend')).toBeUndefined();
  });

  it('requires --reason, and --all when several GrantRevocations suspend the agent', async () => {
    await cluster.writeAgentStatus(ns, 'coder', { suspendedBy: [] });
    await cluster.createRevocation(ns, 'susp-a', { target: { agentClientName: 'coder' }, actions: ['Suspend'], reason: 'a' });
    await cluster.createRevocation(ns, 'susp-b', { target: { agentClientName: 'coder' }, actions: ['RevokeGrants', 'Suspend'], reason: 'b' });
    await cluster.createRevocation(ns, 'revoke-only', { target: { agentClientName: 'coder' }, actions: ['RevokeGrants'], reason: 'c' });

    const noReason = await runPlugin(kubeconfig, ['lift', 'susp-a', '-n', ns]);
    expect(noReason.code).toBe(2);
    expect(await cluster.getRevocation(ns, 'susp-a')).toBeDefined();

    // Found from the GrantRevocations themselves, even before the operator reports suspendedBy.
    const ambiguous = await runPlugin(kubeconfig, ['lift', 'coder', '-n', ns, '--reason', 'done']);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain('suspended by 2 GrantRevocations');
    expect(ambiguous.stderr).toContain('--all');

    const notSuspending = await runPlugin(kubeconfig, ['lift', 'revoke-only', '-n', ns, '--reason', 'done']);
    expect(notSuspending.code).toBe(2);
    expect(notSuspending.stderr).toContain('does not suspend anything');

    const all = await runPlugin(kubeconfig, ['lift', 'coder', '-n', ns, '--reason', 'done', '--all', '-o', 'json']);
    expect(all.code).toBe(0);
    const lifted = (JSON.parse(all.stdout) as { lifted: { name: string; reason: string; deleted: boolean }[] }).lifted;
    expect(lifted.map((l) => l.name).sort()).toEqual(['susp-a', 'susp-b']);
    expect(lifted.every((l) => l.deleted && l.reason === 'done')).toBe(true);
    expect(await cluster.getRevocation(ns, 'susp-a')).toBeUndefined();
    expect(await cluster.getRevocation(ns, 'revoke-only')).toBeDefined();

    const nothing = await runPlugin(kubeconfig, ['lift', 'coder', '-n', ns, '--reason', 'again']);
    expect(nothing.code).toBe(0);
    expect(nothing.stderr).toContain('not suspended; nothing to lift');
  });

  it('exits 3 when a finalizer holds the deletion past --timeout, and 4 for an unknown name', async () => {
    await cluster.createRevocation(ns, 'held', { target: { agentClientName: 'coder' }, actions: ['Suspend'], reason: 'held' }, [HOLD]);
    const result = await runPlugin(kubeconfig, ['lift', 'held', '-n', ns, '--reason', 'x', '--timeout', '1500ms']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`finalizers: ${HOLD}`);
    await cluster.removeFinalizers(ns, 'grantrevocations', 'held');
    expect((await runPlugin(kubeconfig, ['lift', 'ghost', '-n', ns, '--reason', 'x'])).code).toBe(4);
  });
});
