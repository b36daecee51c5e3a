/**
 * A ConsentPolicy that later allows NOTHING to a registered agent (DESIGN.md "Blast radius": what
 * was granted beyond the new boundary is revoked), on the real control plane, the real embedded
 * IdP (which can disable a client) and the whole operator in-process. The agent holds only its
 * Secret (private_key_jwt); the user consents on the IdP's own pages, driven over HTTP.
 *
 * 1. A user grant exists (refresh token) and client_credentials works.
 * 2. The policy allows nothing: the client is disabled at the IdP, a PolicyNarrowed
 *    GrantRevocation revokes every grant, the history records every scope removed, the refresh
 *    token and client_credentials are refused.
 * 3. The policy allows again: the client is re-enabled with the new ceiling, works again, and the
 *    user consents afresh (the old grant stays revoked).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentClient } from '../../../src/controllers/agentclient/types.ts';
import type { KubeObject } from '../../../src/runtime/kube/types.ts';
import { agentAuth } from '../agentclient/harness.ts';
import { authorizeWithConsent, clientCredentials, oauthErrorOf, refresh } from '../idp/flows.ts';
import { condition, createPolicyEnv, eventually, TENANT_LABEL } from './harness.ts';
import type { PolicyEnv } from './harness.ts';

let env: PolicyEnv;
let policyName: string;
const redirectUri = 'http://127.0.0.1:9/callback';
const ALL = ['offline_access', 'openid', 'reports:read'];

beforeAll(async () => {
  env = await createPolicyEnv('cpol-nothing');
  policyName = `${env.runId}-reports`;
  await env.applyPolicy({
    apiVersion: 'agentidentity.dev/v1alpha1',
    kind: 'ConsentPolicy',
    metadata: { name: policyName },
    spec: { namespaceSelector: { matchLabels: { [TENANT_LABEL]: env.runId } }, allowedScopes: ALL },
  } as KubeObject);
});

afterAll(async () => {
  await env?.teardown();
});

async function agentState(check: (a: AgentClient) => boolean, what: string): Promise<AgentClient> {
  let last: AgentClient | null = null;
  return eventually(async () => {
    last = await env.getAgent('reporter');
    return last && check(last) ? last : undefined;
  }, what).catch((error: unknown) => {
    throw new Error(`${String(error)}; last status: ${JSON.stringify(last?.status)}`);
  });
}

async function auth() {
  return agentAuth(await env.secret('reporter-oauth'));
}

async function consent(): Promise<string> {
  const { issuer, clientId, auth: a } = await auth();
  const result = await authorizeWithConsent({ issuer, clientId, auth: a, redirectUri, scope: 'openid offline_access reports:read', login: 'alice', password: 'wonderland', prompt: 'consent' });
  expect(result.error).toBeUndefined();
  const token = result.tokens?.refresh_token ?? '';
  expect(token).not.toBe('');
  return token;
}

describe('a ConsentPolicy that allows nothing', () => {
  let refreshToken = '';
  let clientId = '';

  it('1. the agent is registered, a user consents, client_credentials works', async () => {
    await env.createAgent('reporter', { grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'], redirectUris: [redirectUri], scopes: ALL });
    const agent = await agentState((a) => condition(a, 'Ready')?.status === 'True' && JSON.stringify(a.status?.grantedScopes) === JSON.stringify(ALL), 'reporter Ready');
    clientId = agent.status?.clientId ?? '';
    refreshToken = await consent();
    const { issuer, auth: a } = await auth();
    expect((await clientCredentials(issuer, clientId, a, 'reports:read')).scope).toBe('reports:read');
    refreshToken = (await refresh(issuer, clientId, a, refreshToken)).refresh_token ?? refreshToken;
    expect(env.idp.store.grantsOf(clientId)).toHaveLength(1);
  });

  it('2. nothing allowed: disabled at the IdP, every grant revoked, recorded as PolicyNarrowed', async () => {
    await env.patchPolicy(policyName, { spec: { allowedScopes: [] } });
    const agent = await agentState((a) => condition(a, 'PolicyCompliant')?.reason === 'NothingAllowed', 'PolicyCompliant NothingAllowed');
    expect(condition(agent, 'PolicyCompliant')?.status).toBe('False');
    expect(condition(agent, 'PolicyCompliant')?.message).toContain('the client is disabled at the IdP');
    expect(condition(agent, 'Ready')).toMatchObject({ status: 'False', reason: 'NothingAllowed' });
    expect(condition(agent, 'Registered')?.status).toBe('True');
    expect(agent.status?.grantedScopes ?? []).toEqual([]);
    expect(agent.status?.deniedScopes?.map((d) => [d.scope, d.reason, d.policy])).toEqual(ALL.map((s) => [s, 'NotAllowedByPolicy', policyName]));
    expect(agent.status?.ceilingHistory?.at(-1)).toMatchObject({ decision: 'PolicyNarrowed', added: [], removed: ALL, policy: policyName });
    expect(env.idp.store.isDisabled(clientId)).toBe(true);

    const grev = await eventually(async () => {
      const found = (await env.revocations()).find((g) => g.metadata.name.startsWith('reporter-narrowed-'));
      return found?.status?.phase === 'Completed' ? found : undefined;
    }, 'PolicyNarrowed GrantRevocation Completed');
    expect(grev.metadata.labels?.['agentidentity.dev/decision']).toBe('PolicyNarrowed');
    expect(grev.spec).toMatchObject({ target: { agentClientName: 'reporter' }, actions: ['RevokeGrants'] });
    expect(grev.spec.scopes).toBeUndefined();
    expect(grev.status?.targets?.[0]?.results?.[0]).toMatchObject({ action: 'RevokeGrants', outcome: 'Succeeded', grantsRevoked: 1 });
    expect(env.idp.store.grantsOf(clientId)).toHaveLength(0);

    const { issuer, auth: a } = await auth();
    expect(await oauthErrorOf(refresh(issuer, clientId, a, refreshToken))).toBe('invalid_client');
    expect(await oauthErrorOf(clientCredentials(issuer, clientId, a, 'reports:read'))).toBe('invalid_client');
    expect(await oauthErrorOf(clientCredentials(issuer, clientId, a))).toBe('invalid_client');

    // Steady: one revocation, and the status stays put (no history entry per sync).
    await env.quiesce(['reporter']);
    const later = await env.getAgent('reporter');
    expect(later?.status?.ceilingHistory).toEqual(agent.status?.ceilingHistory);
    expect((await env.revocations()).filter((g) => g.metadata.name.startsWith('reporter-'))).toHaveLength(1);
  });

  it('3. allowed again: re-enabled with the new ceiling; the old grant stays revoked, users consent afresh', async () => {
    await env.patchPolicy(policyName, { spec: { allowedScopes: ALL } });
    const agent = await agentState((a) => condition(a, 'Ready')?.status === 'True' && JSON.stringify(a.status?.grantedScopes) === JSON.stringify(ALL), 'reporter Ready again');
    expect(condition(agent, 'PolicyCompliant')).toMatchObject({ status: 'True', reason: 'Compliant' });
    expect(agent.status?.ceilingHistory?.at(-1)).toMatchObject({ decision: 'Initial', added: ALL, removed: [] });
    expect(agent.status?.clientId).toBe(clientId);
    expect(env.idp.store.isDisabled(clientId)).toBe(false);
    const { issuer, auth: a } = await auth();
    expect((await clientCredentials(issuer, clientId, a, 'reports:read')).scope).toBe('reports:read');
    expect(await oauthErrorOf(refresh(issuer, clientId, a, refreshToken))).toBe('invalid_grant');
    const fresh = await consent();
    expect((await refresh(issuer, clientId, a, fresh)).access_token).toBeTruthy();
    expect((await env.revocations()).filter((g) => g.metadata.name.startsWith('reporter-'))).toHaveLength(1);
  });
});
