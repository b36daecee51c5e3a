/**
 * The ConsentPolicy story end to end (DESIGN.md "The problem"), on the real control plane, the
 * real embedded IdP (oidc-provider) and the whole operator in-process. The agents hold nothing
 * but their Secrets (private_key_jwt through openid-client 6); the user consents on the IdP's
 * own login and consent pages, driven over HTTP.
 *
 * 1. The reporting agent gets reports:read only.
 * 2. The coding agent gets code:read code:write, and a user consents once (refresh token).
 * 3. Six weeks later it adds deployments:trigger: under the sample policy that crosses the
 *    environment boundary (nonprod -> prod), so the history says FullReconsent, an operator
 *    GrantRevocation revokes every grant, and the old refresh token stops working. The new
 *    scope is task-scoped: tokens carrying it live 5 minutes.
 * 4. A same-tier addition (reports:read) is a Delta: existing refresh tokens keep working.
 * 5. The policy drops code:write: the IdP refuses it from then on, and the grants holding it
 *    are revoked through a GrantRevocation owned by the policy (PolicyNarrowed).
 */
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentClient } from '../../../src/controllers/agentclient/types.ts';
import { ConsentPolicies } from '../../../src/controllers/consentpolicy/caches.ts';
import type { KubeObject } from '../../../src/runtime/kube/types.ts';
import { agentAuth } from '../agentclient/harness.ts';
import { authorizeWithConsent, clientConfig, clientCredentials, oauthErrorOf, refresh } from '../idp/flows.ts';
import { condition, createPolicyEnv, eventually } from './harness.ts';
import type { PolicyEnv } from './harness.ts';

let env: PolicyEnv;
let policyName: string;
const redirectUri = 'http://127.0.0.1:9/callback';

beforeAll(async () => {
  env = await createPolicyEnv('cpol-story');
  policyName = `${env.runId}-tenant-agents`;
  await env.applyPolicy(await env.samplePolicy(policyName));
});

afterAll(async () => {
  await env?.teardown();
});

/** Waits until the AgentClient is Ready for its generation and shows `granted`. */
async function settled(name: string, granted: string[]): Promise<AgentClient> {
  return eventually(async () => {
    const agent = await env.getAgent(name);
    const ready = condition(agent, 'Ready')?.status === 'True' && agent?.status?.observedGeneration === agent?.metadata.generation;
    return agent && ready && JSON.stringify(agent.status?.grantedScopes) === JSON.stringify(granted) ? agent : undefined;
  }, `${name} ready with ${granted.join(' ')}`);
}

async function coding() {
  return agentAuth(await env.secret('coding-agent-oauth'));
}

async function consent(scope: string) {
  const { issuer, clientId, auth } = await coding();
  const result = await authorizeWithConsent({ issuer, clientId, auth, redirectUri, scope, login: 'alice', password: 'wonderland', prompt: 'consent' });
  expect(result.error).toBeUndefined();
  return result.tokens!;
}

async function refreshed(refreshToken: string, scope?: string) {
  const { issuer, clientId, auth } = await coding();
  return scope === undefined ? refresh(issuer, clientId, auth, refreshToken) : oidc.refreshTokenGrant(await clientConfig(issuer, clientId, auth), refreshToken, { scope });
}

async function completed(name: string) {
  return eventually(async () => {
    const grev = (await env.revocations()).find((g) => g.metadata.name === name);
    return grev?.status?.phase === 'Completed' ? grev : undefined;
  }, `GrantRevocation ${name} Completed`);
}

describe('ConsentPolicy story', () => {
  let refreshToken = '';

  it('1. the reporting agent gets reports:read only', async () => {
    await env.createAgent('reporting-agent', { grantTypes: ['client_credentials'], scopes: ['reports:read'] });
    const agent = await settled('reporting-agent', ['reports:read']);
    expect(condition(agent, 'PolicyCompliant')).toMatchObject({ status: 'True', reason: 'Compliant' });
    expect(agent.status?.policies).toEqual([policyName]);
    expect(agent.status?.ceilingHistory).toEqual([expect.objectContaining({ decision: 'Initial', added: ['reports:read'], removed: [] })]);
    const { issuer, clientId, auth } = await agentAuth(await env.secret('reporting-agent-oauth'));
    const token = await clientCredentials(issuer, clientId, auth, 'reports:read');
    expect(token.scope).toBe('reports:read');
    // The sample policy's standing access token lifetime (15m) is in force at the IdP.
    expect(token.expires_in).toBe(900);
    expect(await oauthErrorOf(clientCredentials(issuer, clientId, auth, 'code:read'))).toBe('invalid_scope');
  });

  it('2. the coding agent gets code:read code:write; a user consents once', async () => {
    await env.createAgent('coding-agent', {
      grantTypes: ['authorization_code', 'refresh_token'],
      redirectUris: [redirectUri],
      scopes: ['openid', 'offline_access', 'code:read', 'code:write'],
    });
    const agent = await settled('coding-agent', ['code:read', 'code:write', 'offline_access', 'openid']);
    expect(agent.status?.ceilingHistory?.map((h) => h.decision)).toEqual(['Initial']);
    const tokens = await consent('openid offline_access code:read code:write');
    expect(tokens.scope?.split(' ').sort()).toEqual(['code:read', 'code:write']);
    refreshToken = tokens.refresh_token ?? '';
    expect(refreshToken).not.toBe('');
    const next = await refreshed(refreshToken);
    refreshToken = next.refresh_token ?? '';
  });

  it('3. six weeks later it adds deployments:trigger: a boundary crossing forces full re-consent', async () => {
    await env.patchAgent('coding-agent', { spec: { scopes: ['openid', 'offline_access', 'code:read', 'code:write', 'deployments:trigger'] } });
    const agent = await settled('coding-agent', ['code:read', 'code:write', 'deployments:trigger', 'offline_access', 'openid']);
    const last = agent.status?.ceilingHistory?.at(-1);
    expect(last).toMatchObject({ decision: 'FullReconsent', added: ['deployments:trigger'], removed: [], policy: policyName, generation: 2 });
    const grev = (await env.revocations()).find((g) => g.metadata.name.startsWith('coding-agent-reconsent-'));
    expect(grev?.spec).toMatchObject({ target: { agentClientName: 'coding-agent' }, actions: ['RevokeGrants'] });
    expect(grev?.spec.scopes).toBeUndefined();
    expect(grev?.spec.reason).toMatch(/^FullReconsent: /);
    await completed(grev?.metadata.name ?? '');
    expect(await oauthErrorOf(refreshed(refreshToken))).toBe('invalid_grant');
    // The user consents again from scratch; the new scope is task-scoped (5 minutes).
    const tokens = await consent('openid offline_access code:read code:write deployments:trigger');
    expect(tokens.expires_in).toBe(300);
    expect(condition(agent, 'TokenLifetimesProjected')).toMatchObject({ status: 'True', reason: 'Projected' });
    // The standing grant the agent works with from now on.
    refreshToken = (await consent('openid offline_access code:read code:write')).refresh_token ?? '';
    const standing = await refreshed(refreshToken);
    expect(standing.expires_in).toBe(900);
    refreshToken = standing.refresh_token ?? '';
  });

  it('4. a same-tier addition is a Delta: existing refresh tokens keep working', async () => {
    const before = (await env.revocations()).length;
    await env.patchAgent('coding-agent', { spec: { scopes: ['openid', 'offline_access', 'code:read', 'code:write', 'deployments:trigger', 'reports:read'] } });
    const agent = await settled('coding-agent', ['code:read', 'code:write', 'deployments:trigger', 'offline_access', 'openid', 'reports:read']);
    expect(agent.status?.ceilingHistory?.at(-1)).toMatchObject({ decision: 'Delta', added: ['reports:read'], removed: [], generation: 3 });
    expect((await env.revocations()).length).toBe(before);
    const next = await refreshed(refreshToken);
    expect(next.access_token).toBeTruthy();
    refreshToken = next.refresh_token ?? '';
  });

  it('5. a policy that drops code:write narrows the IdP ceiling and revokes the grants holding it', async () => {
    const sample = await env.samplePolicy(policyName);
    const allowed = (sample.spec['allowedScopes'] as string[]).filter((s) => s !== 'code:write');
    await env.patchPolicy(policyName, { spec: { allowedScopes: allowed } });
    const agent = await settled('coding-agent', ['code:read', 'deployments:trigger', 'offline_access', 'openid', 'reports:read']);
    expect(agent.status?.ceilingHistory?.at(-1)).toMatchObject({ decision: 'PolicyNarrowed', added: [], removed: ['code:write'], policy: policyName });
    expect(agent.status?.deniedScopes).toEqual([{ scope: 'code:write', reason: 'NotAllowedByPolicy', policy: policyName }]);
    expect(condition(agent, 'PolicyCompliant')).toMatchObject({ status: 'False', reason: 'ScopesDenied' });
    const grev = (await env.revocations()).find((g) => g.metadata.name.startsWith('coding-agent-narrowed-'));
    expect(grev?.spec).toMatchObject({ actions: ['RevokeGrants'], scopes: ['code:write'] });
    const owners = (grev?.metadata as { ownerReferences?: { kind: string; name: string }[] }).ownerReferences;
    expect(owners).toEqual([expect.objectContaining({ kind: 'ConsentPolicy', name: policyName })]);
    await completed(grev?.metadata.name ?? '');
    // The grant held code:write: its refresh token is gone, and the IdP refuses code:write.
    expect(await oauthErrorOf(refreshed(refreshToken))).toBe('invalid_grant');
    const { issuer, clientId, auth } = await coding();
    const denied = await authorizeWithConsent({ issuer, clientId, auth, redirectUri, scope: 'openid code:write', login: 'alice', password: 'wonderland' }).then(
      (r) => r.error,
      (e: unknown) => (e instanceof oidc.ResponseBodyError ? e.error : String(e)),
    );
    expect(denied).toBe('invalid_scope');
    const reading = await consent('openid offline_access code:read');
    expect(reading.scope).toBe('code:read');
    // The policy reports itself applied to both agents.
    let last: unknown;
    await eventually(async () => {
      const policy = await env.client.get<KubeObject & { status?: { selectedAgentClients?: number; conditions?: { type: string; status: string; reason: string; message: string }[] } }>(ConsentPolicies, policyName);
      last = policy?.status;
      return policy?.status?.selectedAgentClients === 2 && condition(policy, 'Ready')?.status === 'True';
    }, 'policy Ready and applied').catch((e: unknown) => {
      throw new Error(`${String(e)}: ${JSON.stringify(last)}`);
    });
  });
});
