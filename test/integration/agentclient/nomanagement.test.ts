/**
 * A generic `oidc` IdP that answers RFC 7591 registration without RFC 7592 management (no
 * registration_client_uri / registration_access_token, simulated by the fault proxy): the
 * registration is never read or updated, a restart does not stall the agent, and a spec change
 * that cannot reach the IdP is reported as such.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClients } from '../../../src/controllers/agentclient/controller.ts';
import { matching } from '../../../src/testing/faultproxy.ts';
import type { KubeObject } from '../../../src/runtime/kube/types.ts';
import { condition, createEnv, eventually, waitReady } from './harness.ts';
import type { Env } from './harness.ts';

let env: Env;
const IdentityProviders = { group: 'agentidentity.dev', version: 'v1alpha1', plural: 'identityproviders', kind: 'IdentityProvider', namespaced: false };
const managementCalls = (): number => env.proxy.requests().filter((r) => r.path.startsWith('/reg/')).length;

beforeAll(async () => {
  env = await createEnv('agc-nomgmt');
});

afterAll(async () => {
  await env?.client.delete(IdentityProviders, `${env.idpName}-generic`).catch(() => undefined);
  await env?.teardown();
});

describe('IdP without RFC 7592 management', () => {
  it('stays Ready across restarts, reads nothing, and reports a spec change it cannot apply', async () => {
    const name = `${env.idpName}-generic`;
    await env.client.create(IdentityProviders, {
      apiVersion: 'agentidentity.dev/v1alpha1', kind: 'IdentityProvider', metadata: { name, labels: { 'agentidentity.dev/test-run': env.runId } },
      spec: { type: 'oidc', issuer: env.proxy.url, requestTimeoutSeconds: 2, registration: { initialAccessTokenSecretRef: { name: 'idp-credentials', key: 'iat' } } },
    } as KubeObject);
    env.proxy.set({ fault: { kind: 'stripManagement' }, match: matching('POST', '/reg') });
    await env.startOperator({ registrationResyncMs: 1000 });
    const created = await env.createAgent('nm', { identityProviderRef: { name }, tokenEndpointAuthMethod: 'client_secret_basic' });
    await waitReady(env, 'nm');

    // A restart (a fresh adapter that has seen no registration yet) and several drift periods.
    await env.stopOperator();
    env.proxy.resetCount();
    await env.startOperator({ registrationResyncMs: 1000 });
    const seen = new Set<string>();
    const until = Date.now() + 5000;
    while (Date.now() < until) {
      const agent = await env.getAgent('nm');
      seen.add(`${condition(agent, 'Ready')?.status}/${condition(agent, 'Stalled')?.status ?? '-'}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect([...seen]).toEqual(['True/-']);
    expect(managementCalls()).toBe(0);
    expect((await env.getAgent('nm'))?.status?.credentials?.rotationSupport).toBe('Unsupported');

    // A change of a registered field cannot be applied: said so, never pretended.
    await env.patchAgent('nm', { spec: { scopes: ['invoices:read', 'reports:read'] } });
    const agent = await eventually(async () => {
      const a = await env.getAgent('nm');
      return a?.status?.observedGeneration === 2 && condition(a, 'Ready')?.reason === 'RegistrationNotUpdatable' ? a : undefined;
    }, 20_000, 'RegistrationNotUpdatable');
    expect(condition(agent, 'Ready')).toMatchObject({ status: 'False' });
    expect(condition(agent, 'Ready')?.message).toMatch(/scope/);
    expect(condition(agent, 'Registered')?.status).toBe('True');
    expect(condition(agent, 'Stalled')?.status).toBe('True');
    expect(managementCalls()).toBe(0);
    // Reverting the change makes it Ready again.
    await env.patchAgent('nm', { spec: { scopes: ['invoices:read'] } });
    await waitReady(env, 'nm');

    // Deletion cannot remove the registration (no RFC 7592): it finishes and says what was left.
    await env.client.delete(AgentClients, 'nm', env.namespace);
    await eventually(async () => (await env.getAgent('nm')) === null, 20_000, 'AgentClient gone');
    expect(env.idpClientsOf(created.metadata.uid)).toHaveLength(1);
    const events = await env.kubectl(['get', 'events', '-n', env.namespace, '--field-selector', 'involvedObject.name=nm', '-o', 'jsonpath={.items[*].reason}']);
    expect(events.stdout).toContain('RegistrationLeftAtIdP');
  });
});
