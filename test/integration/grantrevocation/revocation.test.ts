/**
 * GrantRevocation against a real kube-apiserver and a real embedded IdP: tokens issued before a
 * revocation stop working (refresh refused, introspection inactive) while another agent's keep
 * working; status, audit records and Events say what was done; IdP failures are retried, never
 * reported done; re-applying is harmless; no credential leaks anywhere.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { matching } from '../../../src/testing/faultproxy.ts';
import { AgentClients as AGENT_CLIENTS, GrantRevocations as GRANT_REVOCATIONS } from '../../../src/controllers/grantrevocation/types.ts';
import { settled } from './settle.ts';
import type { GrantRevocation } from '../../../src/controllers/grantrevocation/types.ts';
import { leakedSecrets, startEnv } from './harness.ts';
import type { Env, WebAgent } from './harness.ts';

let env: Env;
let coding: WebAgent;
let reporting: WebAgent;

const phase = (name: string) => async () => (await env.get(name))?.status?.phase;
const completed = (name: string) => env.waitFor(`${name} Completed`, async () => {
  const g = await env.get(name);
  return g?.status?.phase === 'Completed' ? g : undefined;
});
const result = (g: GrantRevocation, agent: string) => g.status?.targets?.find((t) => t.agentClient === agent)?.results ?? [];

beforeAll(async () => {
  env = await startEnv(inject('kubeconfigPath'), 'grev');
  coding = await env.registerAgent('coding-agent', { team: 'dev' });
  reporting = await env.registerAgent('reporting-agent', { team: 'bi' });
});

afterAll(async () => {
  await env?.stop();
});

describe('RevokeGrants', () => {
  it('revokes every grant of coding-agent; reporting-agent is untouched', async () => {
    const aliceCoding = await env.userToken(coding, 'alice', 'repo:read');
    const bobCoding = await env.userToken(coding, 'bob', 'repo:read');
    const aliceReporting = await env.userToken(reporting, 'alice', 'repo:read');

    await env.apply('revoke-all', { reason: 'coding-agent leaked a token', incidentRef: 'INC-1' }, { 'agentidentity.dev/requested-by': 'oncall@example.com', 'agentidentity.dev/requested-by-groups': 'oncall' });
    const g = await completed('revoke-all');

    for (const token of [aliceCoding, bobCoding]) {
      expect(await env.canRefresh(coding, token)).toBe(false);
      expect(await env.active(token)).toBe(false);
    }
    expect(await env.active(aliceReporting)).toBe(true);
    expect(await env.canRefresh(reporting, aliceReporting)).toBe(true);

    expect(g.status?.requestedBy).toEqual({ username: 'oncall@example.com', groups: ['oncall'] });
    expect(g.status?.startTime).toBeTruthy();
    expect(g.status?.completionTime).toBeTruthy();
    expect(g.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'Completed' });
    expect(g.status?.conditions?.find((c) => c.type === 'Complete')).toMatchObject({ status: 'True' });
    expect(g.status?.targets).toHaveLength(1);
    expect(g.status?.targets?.[0]?.clientId).toBe(coding.clientId);
    expect(result(g, 'coding-agent')).toHaveLength(1);
    expect(result(g, 'coding-agent')[0]).toMatchObject({ action: 'RevokeGrants', outcome: 'Succeeded', grantsRevoked: 2, call: 'DELETE /admin/grants' });
    expect(result(g, 'coding-agent')[0]?.tokensRevoked).toBeGreaterThanOrEqual(4);

    const audit = env.logs.audits().filter((a) => a['grantRevocation'] === `${env.namespace}/revoke-all`);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      action: 'RevokeGrants', clientId: coding.clientId, subject: '*', actor: 'oncall@example.com', idp: 'dev', outcome: 'Succeeded',
      reason: 'coding-agent leaked a token', incidentRef: 'INC-1', counts: { grantsRevoked: 2 },
    });
    const events = await env.waitFor('Events', async () => {
      const list = await env.events();
      const reasons = list.filter((e) => e.reason === 'GrantsRevoked');
      return reasons.length >= 2 ? reasons : undefined;
    });
    expect(events.map((e) => `${e.involvedObject.kind}/${e.involvedObject.name}`).sort()).toEqual(['AgentClient/coding-agent', 'GrantRevocation/revoke-all']);
  });

  it('by client_id and subject: only alice loses her grant on coding-agent', async () => {
    const alice = await env.userToken(coding, 'alice', 'repo:read');
    const bob = await env.userToken(coding, 'bob', 'repo:read');
    await env.apply('revoke-alice', { target: { clientId: coding.clientId }, subject: 'alice', reason: 'alice left' });
    const g = await completed('revoke-alice');
    expect(await env.canRefresh(coding, alice)).toBe(false);
    expect(await env.active(alice)).toBe(false);
    expect(await env.active(bob)).toBe(true);
    expect(result(g, 'coding-agent')[0]).toMatchObject({ outcome: 'Succeeded', grantsRevoked: 1 });
    expect(g.status?.requestedBy).toEqual({ username: 'unknown (no admission stamp)' });
    expect(env.logs.audits().find((a) => a['grantRevocation'] === `${env.namespace}/revoke-alice`)).toMatchObject({ subject: 'alice', actor: 'unknown (no admission stamp)' });
  });

  it('by selector and scope: only grants holding repo:write go, on the selected agents only', async () => {
    const writer = await env.userToken(coding, 'alice', 'repo:read repo:write');
    const reader = await env.userToken(coding, 'bob', 'repo:read');
    const otherWriter = await env.userToken(reporting, 'alice', 'repo:read repo:write');
    await env.apply('revoke-write', { target: { selector: { matchLabels: { team: 'dev' } } }, scopes: ['repo:write'], reason: 'write scope abused' });
    const g = await completed('revoke-write');
    expect(g.status?.targets?.map((t) => t.agentClient)).toEqual(['coding-agent']);
    expect(await env.active(writer)).toBe(false);
    expect(await env.active(reader)).toBe(true);
    expect(await env.active(otherWriter)).toBe(true);
  });

  it('re-applying the same GrantRevocation is harmless: no IdP call, no status write', async () => {
    const before = await env.get('revoke-all');
    const calls = env.proxy.requestCount();
    const audits = env.logs.audits().length;
    await env.apply('revoke-all', {}, {}).catch(() => undefined); // AlreadyExists, as `kubectl create` twice
    const manifest = { ...(before as object), status: undefined };
    const replaced = await env.client.replace(
      { group: 'agentidentity.dev', version: 'v1alpha1', plural: 'grantrevocations', kind: 'GrantRevocation', namespaced: true },
      manifest as never,
    );
    await settled(env.manager, GRANT_REVOCATIONS, env.namespace, 'revoke-all', (replaced as { metadata: { resourceVersion: string } }).metadata.resourceVersion);
    const after = await env.get('revoke-all');
    expect(env.proxy.requestCount()).toBe(calls);
    expect(env.logs.audits().length).toBe(audits);
    expect(after?.status).toEqual(before?.status);
  });

  it('says Unsupported (phase Failed) when the IdP lacks the capability, never Completed', async () => {
    env.capabilityOverrides.revokeSubjectGrants = false;
    try {
      await env.apply('unsupported', { subject: 'bob', reason: 'capability test' });
      const g = await env.waitFor('Failed', async () => {
        const x = await env.get('unsupported');
        return x?.status?.phase === 'Failed' ? x : undefined;
      });
      expect(g.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'Unsupported' });
      expect(result(g, 'coding-agent')[0]?.outcome).toBe('Unsupported');
      expect(result(g, 'coding-agent')[0]?.message).toContain('cannot revoke');
    } finally {
      delete env.capabilityOverrides.revokeSubjectGrants;
    }
  });

  it('reports TargetNotFound for a name that matches nothing, and acts once that AgentClient appears (not terminal)', async () => {
    await env.apply('ghost', { target: { agentClientName: 'ghost-agent' }, reason: 'applied before its AgentClient' });
    const waiting = await env.waitFor('TargetNotFound', async () => {
      const g = await env.get('ghost');
      return g?.status?.conditions?.find((c) => c.type === 'Ready')?.reason === 'TargetNotFound' ? g : undefined;
    });
    expect(waiting.status?.phase).toBe('InProgress');
    expect(waiting.status?.conditions?.find((c) => c.type === 'Complete')?.status).toBe('False');
    const ghost = await env.registerAgent('ghost-agent', { team: 'ghost' });
    const g = await completed('ghost');
    expect(g.status?.targets?.[0]?.clientId).toBe(ghost.clientId);
    expect(result(g, 'ghost-agent')[0]).toMatchObject({ action: 'RevokeGrants', outcome: 'Succeeded' });
  });

  it('acts on the client the registration record holds while the AgentClient status does not name it yet', async () => {
    const lagging = await env.registerAgent('lagging-agent', { team: 'lag' });
    const token = await env.userToken(lagging, 'alice', 'repo:read');
    // As after a crash between the record write and the status write: status has no client_id.
    await env.client.patch(AGENT_CLIENTS, 'lagging-agent', env.namespace, 'merge', { status: { clientId: null } }, { subresource: 'status' });
    await env.apply('revoke-lagging', { target: { agentClientName: 'lagging-agent' }, reason: 'status lags behind the record' });
    const g = await completed('revoke-lagging');
    expect(g.status?.targets?.[0]?.clientId).toBe(lagging.clientId);
    expect(result(g, 'lagging-agent')[0]).toMatchObject({ action: 'RevokeGrants', outcome: 'Succeeded', grantsRevoked: 1 });
    expect(await env.canRefresh(lagging, token)).toBe(false);
  });

  it('waits (AwaitingAgentClient, nothing recorded) while a registration is started but not answered, instead of reporting "no registration"', async () => {
    await env.createRegisteringAgent('registering-agent', { team: 'pending' });
    await env.apply('revoke-registering', { target: { agentClientName: 'registering-agent' }, reason: 'registration in flight' });
    const g = await env.waitFor('AwaitingAgentClient', async () => {
      const x = await env.get('revoke-registering');
      return x?.status?.conditions?.find((c) => c.type === 'Ready')?.reason === 'AwaitingAgentClient' ? x : undefined;
    });
    expect(g.status?.phase).toBe('InProgress');
    expect(result(g, 'registering-agent')).toEqual([]);
    await env.client.delete(GRANT_REVOCATIONS, 'revoke-registering', env.namespace);
  });
});

describe('IdP failures', () => {
  it('keeps a clear condition and retries; never Completed before the IdP did it', async () => {
    const token = await env.userToken(coding, 'bob', 'repo:read');
    env.proxy.serverError(503, matching('DELETE', /^\/admin\/grants/));
    try {
      await env.apply('during-outage', { reason: 'IdP is down' });
      const g = await env.waitFor('IdpUnavailable', async () => {
        const x = await env.get('during-outage');
        return x?.status?.conditions?.find((c) => c.type === 'Ready')?.reason === 'IdpUnavailable' ? x : undefined;
      });
      expect(g.status?.phase).toBe('InProgress');
      expect(g.status?.completionTime).toBeUndefined();
      expect(result(g, 'coding-agent')).toEqual([]);
      expect(await env.active(token)).toBe(true);
      // Retried with backoff: more than one attempt reaches the proxy.
      await env.waitFor('a retry', async () => env.proxy.requests().filter((r) => r.method === 'DELETE').length >= 2);
      expect((await env.get('during-outage'))?.status?.phase).toBe('InProgress');
    } finally {
      env.proxy.reset();
    }
    await env.waitFor('Completed after recovery', async () => (await phase('during-outage')()) === 'Completed', 60_000);
    expect(await env.active(token)).toBe(false);
  });
});

describe('Suspend and lifting', () => {
  it('disables the client and removes its Secret; deleting the GrantRevocation lifts it (recorded)', async () => {
    const token = await env.userToken(reporting, 'bob', 'repo:read');
    await env.apply('suspend-reporting', { target: { agentClientName: 'reporting-agent' }, actions: ['Suspend'], reason: 'suspicious activity' });
    const g = await completed('suspend-reporting');
    expect(g.metadata.finalizers).toContain('agentidentity.dev/suspension');
    expect(result(g, 'reporting-agent')[0]).toMatchObject({ action: 'Suspend', outcome: 'Succeeded' });
    expect(await env.canRefresh(reporting, token)).toBe(false);
    expect(await env.client.get({ group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true }, 'reporting-agent-oauth', env.namespace)).toBeNull();
    expect(env.idp.store.isDisabled(reporting.clientId)).toBe(true);

    // Held: a resync (or any AgentClient status churn) makes no IdP call.
    const calls = env.proxy.requestCount();
    const touched = await env.client.patch(AGENT_CLIENTS, 'reporting-agent', env.namespace, 'merge', { metadata: { labels: { team: 'bi', touched: 'yes' } } });
    await settled(env.manager, AGENT_CLIENTS, env.namespace, 'reporting-agent', touched.metadata!.resourceVersion!);
    expect(env.proxy.requestCount()).toBe(calls);

    await env.client.patch({ group: 'agentidentity.dev', version: 'v1alpha1', plural: 'grantrevocations', kind: 'GrantRevocation', namespaced: true }, 'suspend-reporting', env.namespace, 'merge', {
      metadata: { annotations: { 'agentidentity.dev/lifted-by': 'lead@example.com', 'agentidentity.dev/lift-reason': 'false alarm' } },
    });
    await env.client.delete({ group: 'agentidentity.dev', version: 'v1alpha1', plural: 'grantrevocations', kind: 'GrantRevocation', namespaced: true }, 'suspend-reporting', env.namespace);
    await env.waitFor('gone', async () => (await env.get('suspend-reporting')) === null);
    expect(env.idp.store.isDisabled(reporting.clientId)).toBe(false);
    expect(await env.canRefresh(reporting, token)).toBe(true);
    const lift = env.logs.audits().find((a) => a['action'] === 'LiftSuspension');
    expect(lift).toMatchObject({ clientId: reporting.clientId, actor: 'lead@example.com', liftReason: 'false alarm', grantRevocation: `${env.namespace}/suspend-reporting` });
    const lifted = await env.waitFor('SuspensionLifted Event', async () => (await env.events()).find((e) => e.reason === 'SuspensionLifted' && e.involvedObject.kind === 'AgentClient'));
    expect(lifted.message).toContain('lead@example.com');
  });
});

describe('DeleteRegistration', () => {
  it('deletes the registration at the IdP (RFC 7592)', async () => {
    const doomed = await env.registerAgent('doomed-agent', { team: 'x' });
    await env.apply('delete-doomed', { target: { agentClientName: 'doomed-agent' }, actions: ['RevokeGrants', 'DeleteRegistration'], reason: 'decommission' });
    const g = await completed('delete-doomed');
    expect(result(g, 'doomed-agent').map((r) => [r.action, r.outcome])).toEqual([['RevokeGrants', 'Succeeded'], ['DeleteRegistration', 'Succeeded']]);
    expect(env.idp.store.client(doomed.clientId)).toBeFalsy();
  });
});

describe('secrets', () => {
  it('never appear in logs, Events or status', async () => {
    const events = JSON.stringify(await env.events());
    const list = await env.client.list({ group: 'agentidentity.dev', version: 'v1alpha1', plural: 'grantrevocations', kind: 'GrantRevocation', namespaced: true }, { namespace: env.namespace });
    expect(env.secrets.size).toBeGreaterThan(5);
    expect(leakedSecrets(env.secrets, env.logs.raw.join('\n'))).toEqual([]);
    expect(leakedSecrets(env.secrets, events)).toEqual([]);
    expect(leakedSecrets(env.secrets, JSON.stringify(list.items))).toEqual([]);
  });
});
