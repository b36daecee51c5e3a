/**
 * ConsentPolicy fan-out and secure defaults on the real control plane with the whole operator
 * and the real embedded IdP: one policy change re-evaluates every selected AgentClient through
 * the work queue and narrows each registration at the IdP; no matching policy means nothing is
 * granted; an invalid selector holds every ceiling it might affect and says so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentClient } from '../../../src/controllers/agentclient/types.ts';
import { condition, createPolicyEnv, eventually, TENANT_LABEL } from './harness.ts';
import type { PolicyEnv } from './harness.ts';

const FLEET = 20;
let env: PolicyEnv;
let policyName: string;

beforeAll(async () => {
  env = await createPolicyEnv('cpol-fan');
  policyName = `${env.runId}-fleet`;
});

afterAll(async () => {
  await env?.teardown();
});

const fleetNames = Array.from({ length: FLEET }, (_, i) => `fleet-${String(i).padStart(2, '0')}`);

async function all(names: string[], check: (agent: AgentClient) => boolean, what: string, timeoutMs = 60_000): Promise<AgentClient[]> {
  return eventually(async () => {
    const agents = await Promise.all(names.map((n) => env.getAgent(n)));
    return agents.every((a) => a !== null && check(a)) ? (agents as AgentClient[]) : undefined;
  }, what, timeoutMs);
}

const granted = (a: AgentClient) => (a.status?.grantedScopes ?? []).join(' ');
const ready = (a: AgentClient) => condition(a, 'Ready')?.status === 'True' && a.status?.observedGeneration === a.metadata.generation;

describe('ConsentPolicy fan-out', () => {
  it('grants nothing without a matching policy: PolicyCompliant=False, NoMatchingPolicy', async () => {
    await env.createAgent('orphan', { grantTypes: ['client_credentials'], scopes: ['metrics:read', 'metrics:write'] });
    const [agent] = await all(['orphan'], (a) => condition(a, 'PolicyCompliant')?.reason === 'NoMatchingPolicy' && condition(a, 'Registered')?.reason === 'NoScopesAllowed', 'orphan evaluated');
    expect(condition(agent, 'PolicyCompliant')?.status).toBe('False');
    expect(condition(agent, 'Ready')).toMatchObject({ status: 'False', reason: 'NoScopesAllowed' });
    expect(agent?.status?.grantedScopes).toBeUndefined();
    expect(agent?.status?.deniedScopes).toEqual([
      { scope: 'metrics:read', reason: 'NoMatchingPolicy' },
      { scope: 'metrics:write', reason: 'NoMatchingPolicy' },
    ]);
    // Nothing is registered at the IdP: RFC 7591 cannot express an empty ceiling.
    expect(env.idp.store.clients().filter((c) => String(c['software_id']).includes('/orphan/'))).toEqual([]);
  });

  it('re-evaluates every selected AgentClient through the queue when the policy changes', async () => {
    for (const name of fleetNames) await env.createAgent(name, { grantTypes: ['client_credentials'], scopes: ['metrics:read', 'metrics:write'] });
    await env.applyPolicy({
      apiVersion: 'agentidentity.dev/v1alpha1', kind: 'ConsentPolicy', metadata: { name: policyName },
      spec: {
        namespaceSelector: { matchLabels: { [TENANT_LABEL]: env.runId } },
        allowedScopes: ['metrics:*'],
        scopeClasses: [{ pattern: 'metrics:write', access: 'write' }],
      },
    } as never);
    // The orphan is selected now too: it registers with its first ceiling (Initial).
    const names = [...fleetNames, 'orphan'];
    await all(names, (a) => ready(a) && granted(a) === 'metrics:read metrics:write', 'fleet granted', 90_000);
    await env.patchPolicy(policyName, { spec: { allowedScopes: ['metrics:read'] } });
    const narrowed = await all(names, (a) => granted(a) === 'metrics:read' && a.status?.ceilingHistory?.at(-1)?.decision === 'PolicyNarrowed', 'fleet narrowed', 90_000);
    for (const agent of narrowed) {
      expect(agent.status?.ceilingHistory?.at(-1)).toMatchObject({ removed: ['metrics:write'], policy: policyName });
      expect(agent.status?.deniedScopes).toEqual([{ scope: 'metrics:write', reason: 'NotAllowedByPolicy', policy: policyName }]);
      // Each registration was narrowed at the IdP itself.
      expect(env.idp.store.client(agent.status?.clientId ?? '')?.['scope']).toBe('metrics:read');
    }
    const grevs = (await env.revocations()).filter((g) => g.metadata.name.includes('-narrowed-'));
    expect(new Set(grevs.map((g) => g.spec.target.agentClientName))).toEqual(new Set(names));
    for (const g of grevs) expect(g.spec.scopes).toEqual(['metrics:write']);
  });

  it('holds every ceiling an invalid selector might affect, with a condition, and resumes once fixed', async () => {
    const broken = `${env.runId}-broken`;
    await env.applyPolicy({
      apiVersion: 'agentidentity.dev/v1alpha1', kind: 'ConsentPolicy', metadata: { name: broken },
      spec: { namespaceSelector: { matchLabels: { [TENANT_LABEL]: env.runId } }, selector: { matchLabels: { 'bad key!': 'x' } }, allowedScopes: [] },
    } as never);
    const held = await all(fleetNames, (a) => condition(a, 'PolicyCompliant')?.reason === 'PolicySelectorInvalid', 'ceilings held');
    for (const agent of held) {
      expect(condition(agent, 'PolicyCompliant')?.status).toBe('Unknown');
      expect(condition(agent, 'PolicyCompliant')?.message).toContain(broken);
      expect(granted(agent)).toBe('metrics:read');
    }
    // Widening is held too: the fleet policy allows metrics:write again, nothing moves.
    const widened = await env.patchPolicy(policyName, { spec: { allowedScopes: ['metrics:*'] } });
    await env.quiesce(fleetNames, { [policyName]: widened });
    for (const name of fleetNames.slice(0, 3)) expect(granted((await env.getAgent(name))!)).toBe('metrics:read');
    // Fixed (the broken policy now selects nothing here): every ceiling follows the policy again.
    await env.patchPolicy(broken, { spec: { selector: { matchLabels: { 'bad key!': null, nowhere: 'true' } } } });
    await all(fleetNames, (a) => granted(a) === 'metrics:read metrics:write' && condition(a, 'PolicyCompliant')?.status === 'True', 'ceilings follow again', 90_000);
  });

  it('disables registered clients when a policy allows nothing (an empty ceiling cannot be registered)', async () => {
    await env.patchPolicy(policyName, { spec: { allowedScopes: [] } });
    const cut = await all(fleetNames.slice(0, 5), (a) => condition(a, 'PolicyCompliant')?.reason === 'NothingAllowed', 'NothingAllowed');
    for (const agent of cut) {
      expect(condition(agent, 'PolicyCompliant')?.status).toBe('False');
      expect(condition(agent, 'Ready')).toMatchObject({ status: 'False', reason: 'NothingAllowed' });
      expect(agent.status?.grantedScopes ?? []).toEqual([]);
      expect(agent.status?.ceilingHistory?.at(-1)).toMatchObject({ decision: 'PolicyNarrowed', removed: ['metrics:read', 'metrics:write'] });
      expect(agent.status?.deniedScopes?.map((d) => d.reason)).toEqual(['NotAllowedByPolicy', 'NotAllowedByPolicy']);
      expect(env.idp.store.isDisabled(agent.status?.clientId ?? '')).toBe(true);
    }
  });
});
