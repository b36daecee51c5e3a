/**
 * Kill the operator at each step of registration and rotation (a sync frozen at a named point,
 * the operator stopped, a fresh one started): afterwards there is exactly one IdP client per
 * AgentClient and its working credentials are in the Secret. With a generic IdP that cannot list
 * registrations, the operator says honestly that one may have been left behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncPoint } from '../../../src/controllers/agentclient/state.ts';
import { Secrets } from '../../../src/runtime/kube/types.ts';
import type { KubeObject } from '../../../src/runtime/kube/types.ts';
import { clientCredentials } from '../idp/flows.ts';
import { agentAuth, createEnv, decode, eventually, waitReady } from './harness.ts';
import type { Env } from './harness.ts';

let env: Env;

beforeAll(async () => {
  env = await createEnv('agc-crash');
});

afterAll(async () => {
  await env?.teardown();
});

/** Runs an operator that freezes (as if killed) when `name` reaches `point`; resolves once frozen. */
async function crashAt(point: SyncPoint, name: string, act: () => Promise<unknown>): Promise<void> {
  let frozen!: () => void;
  const reached = new Promise<void>((resolve) => (frozen = resolve));
  await env.startOperator({
    hooks: {
      at: async (at, agent) => {
        if (at === point && agent.name === name) {
          frozen();
          await new Promise(() => undefined); // never returns: the process is "dead" from here on
        }
      },
    },
  });
  await act();
  await reached;
  await env.stopOperator();
}

async function assertOneWorkingClient(name: string): Promise<void> {
  const agent = await waitReady(env, name, 30_000);
  const clients = env.idpClientsOf(agent.metadata.uid);
  expect(clients.map((c) => c['client_id'])).toEqual([agent.status?.clientId]);
  const secret = await eventually(async () => {
    const s = await env.secret(`${name}-oauth`);
    return decode(s, 'client_id') === agent.status?.clientId && decode(s, 'key_id') === agent.status?.credentials?.keyId ? s : undefined;
  });
  const { issuer, clientId, auth } = await agentAuth(secret);
  expect((await clientCredentials(issuer, clientId, auth, 'invoices:read')).access_token).toBeTruthy();
}

describe('crash safety', () => {
  it.each<SyncPoint>(['afterIntent', 'afterRegister', 'afterRecord', 'afterSecret'])('registration killed %s: exactly one IdP client, credentials in the Secret', async (point) => {
    const name = `c-${point.toLowerCase()}`;
    await crashAt(point, name, () => env.createAgent(name));
    await env.startOperator();
    try {
      await assertOneWorkingClient(name);
    } finally {
      await env.stopOperator();
    }
  });

  it.each<SyncPoint>(['afterRotationKey', 'afterRotationUpdate'])('rotation killed %s: the rotation completes, one client, the new key works', async (point) => {
    const name = `r-${point.toLowerCase()}`;
    await env.startOperator();
    await env.createAgent(name, { credentials: { overlap: '1h' } });
    const before = await waitReady(env, name);
    await env.stopOperator();
    await crashAt(point, name, () => env.patchAgent(name, { metadata: { annotations: { 'agentidentity.dev/rotate': 'r1' } } }));
    await env.startOperator();
    try {
      const rotated = await eventually(async () => {
        const a = await env.getAgent(name);
        return a?.status?.credentials?.lastRotationRequest === 'r1' && a.status.credentials.keyId !== before.status?.credentials?.keyId ? a : undefined;
      });
      expect(rotated.status?.credentials?.previousKeyId).toBe(before.status?.credentials?.keyId);
      await assertOneWorkingClient(name);
    } finally {
      await env.stopOperator();
    }
  });

  it('registration killed afterRegister, then the AgentClient deleted: the interrupted registration is found and deleted', async () => {
    const name = 'c-deleted';
    await crashAt('afterRegister', name, () => env.createAgent(name));
    const agent = await env.getAgent(name);
    if (!agent) throw new Error('agent gone');
    // Only the finalizer patch (with the intent) was written; the IdP holds a client no record names.
    expect(agent.metadata.annotations?.['agentidentity.dev/registration-intent']).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await env.client.get(Secrets, `agc-${agent.metadata.uid}`, env.operatorNamespace)).toBeNull();
    expect(env.idpClientsOf(agent.metadata.uid)).toHaveLength(1);
    await env.kubectl(['delete', 'agentclient', name, '-n', env.namespace, '--wait=false']);
    await env.startOperator();
    try {
      await eventually(async () => ((await env.getAgent(name)) === null ? true : undefined), 30_000, 'the AgentClient deleted');
      expect(env.idpClientsOf(agent.metadata.uid)).toHaveLength(0);
    } finally {
      await env.stopOperator();
    }
  });

  it('generic oidc IdP (cannot list registrations): killed after register, says a registration may have been left', async () => {
    const oidcIdp = `${env.idpName}-generic`;
    await env.client.create({ group: 'agentidentity.dev', version: 'v1alpha1', plural: 'identityproviders', kind: 'IdentityProvider', namespaced: false }, {
      apiVersion: 'agentidentity.dev/v1alpha1', kind: 'IdentityProvider', metadata: { name: oidcIdp, labels: { 'agentidentity.dev/test-run': env.runId } },
      spec: { type: 'oidc', issuer: env.proxy.url, registration: { initialAccessTokenSecretRef: { name: 'idp-credentials', key: 'iat' } } },
    } as KubeObject);
    try {
      const name = 'c-generic';
      await crashAt('afterRegister', name, () => env.createAgent(name, { identityProviderRef: { name: oidcIdp } }));
      await env.startOperator();
      const agent = await waitReady(env, name);
      const events = await env.kubectl(['get', 'events', '-n', env.namespace, '--field-selector', `involvedObject.name=${name}`, '-o', 'jsonpath={.items[*].reason}']);
      expect(events.stdout).toContain('PossibleOrphanRegistration');
      // Honest, not magic: the interrupted registration is still at the IdP, the new one works.
      expect(env.idpClientsOf(agent.metadata.uid)).toHaveLength(2);
      const { issuer, clientId, auth } = await agentAuth(await env.secret(`${name}-oauth`));
      expect(clientId).toBe(agent.status?.clientId);
      expect((await clientCredentials(issuer, clientId, auth, 'invoices:read')).access_token).toBeTruthy();
    } finally {
      await env.stopOperator();
      await env.client.delete({ group: 'agentidentity.dev', version: 'v1alpha1', plural: 'identityproviders', kind: 'IdentityProvider', namespaced: false }, oidcIdp).catch(() => undefined);
    }
  });
});
