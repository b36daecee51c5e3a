import { describe, expect, it } from 'vitest';
import type { PolicyInput } from '../../policy/index.ts';
import { evaluateCeiling, registeredCeilingChange } from '../agentclient/ceiling.ts';
import type { AgentView } from '../agentclient/ceiling.ts';
import { needsRevocation, planCeilingRevocation, revocationName } from './narrowing.ts';
import type { CeilingRevocationInput } from './narrowing.ts';

const policy = (allowed: string[]): PolicyInput => ({
  name: 'tenant-agents',
  spec: {
    allowedScopes: allowed,
    scopeClasses: [
      { pattern: 'code:write', access: 'write' },
      { pattern: 'deployments:trigger', access: 'write', environment: 'prod' },
    ],
  },
});

function input(requested: string[], previous: string[], registered: string[], allowed: string[], extra: Partial<CeilingRevocationInput> = {}): CeilingRevocationInput {
  const agent: AgentView = {
    namespace: 'agents',
    name: 'coding-agent',
    uid: 'uid-1',
    generation: 2,
    requested,
    status: { grantedScopes: previous, policies: ['tenant-agents'], ceilingHistory: [{ time: 't0', added: previous, removed: [], decision: 'Initial' }] },
  };
  const evaluation = evaluateCeiling({ agent, namespaceLabels: undefined, policies: [policy(allowed)], allowNoPolicy: false, tokenLifetimes: true });
  const decided = registeredCeilingChange({ agent, registered, evaluation, time: 't1' });
  return { agent, decided, previous, registered, lastHistoryTime: 't0', policy: { name: 'tenant-agents', uid: 'pol-uid' }, ...extra };
}

describe('planCeilingRevocation', () => {
  it('revokes grants holding scopes a policy removed, owned by the policy', () => {
    const i = input(['code:read', 'code:write'], ['code:read', 'code:write'], ['code:read'], ['code:read'], { requester: 'system:serviceaccount:op:op' });
    const grev = planCeilingRevocation(i);
    expect(grev?.metadata.name).toMatch(/^coding-agent-narrowed-[0-9a-f]{10}$/);
    expect(grev?.metadata.namespace).toBe('agents');
    expect(grev?.spec).toMatchObject({ target: { agentClientName: 'coding-agent' }, actions: ['RevokeGrants'], scopes: ['code:write'] });
    expect(grev?.spec.reason).toMatch(/^PolicyNarrowed: .*ConsentPolicy tenant-agents.*code:write/);
    const meta = grev?.metadata as unknown as { ownerReferences: unknown[]; labels: Record<string, string>; annotations: Record<string, string> };
    expect(meta.ownerReferences).toEqual([{ apiVersion: 'agentidentity.dev/v1alpha1', kind: 'ConsentPolicy', name: 'tenant-agents', uid: 'pol-uid' }]);
    expect(meta.labels).toMatchObject({ 'agentidentity.dev/decision': 'PolicyNarrowed', 'agentidentity.dev/consentpolicy': 'tenant-agents', 'agentidentity.dev/agentclient': 'coding-agent' });
    expect(meta.annotations).toEqual({ 'agentidentity.dev/requested-by': 'system:serviceaccount:op:op' });
  });

  it('revokes every grant on full re-consent; a spec-caused change is owned by the AgentClient', () => {
    const all = ['code:read', 'code:write', 'deployments:trigger'];
    const i = input(all, ['code:read', 'code:write'], all, all);
    expect(i.decided.change.decision).toBe('FullReconsent');
    const grev = planCeilingRevocation(i);
    expect(grev?.metadata.name).toMatch(/^coding-agent-reconsent-[0-9a-f]{10}$/);
    expect(grev?.spec.scopes).toBeUndefined();
    expect(grev?.spec.reason).toMatch(/^FullReconsent: boundary crossed: deployments:trigger/);
    const meta = grev?.metadata as unknown as { ownerReferences: { kind: string; uid: string }[]; annotations?: unknown };
    expect(meta.ownerReferences).toEqual([{ apiVersion: 'agentidentity.dev/v1alpha1', kind: 'AgentClient', name: 'coding-agent', uid: 'uid-1' }]);
    expect(meta.annotations).toBeUndefined();
  });

  it('needs nothing for Initial, a pure same-tier addition, or no change', () => {
    expect(needsRevocation(input(['code:read'], [], ['code:read'], ['code:read']).decided)).toBe(false);
    const delta = input(['code:read', 'reports:read'], ['code:read'], ['code:read', 'reports:read'], ['code:read', 'reports:read']);
    expect(delta.decided.change.decision).toBe('Delta');
    expect(planCeilingRevocation(delta)).toBeUndefined();
    expect(planCeilingRevocation(input(['code:read'], ['code:read'], ['code:read'], ['code:read']))).toBeUndefined();
  });

  it('names deterministically: the same change gets the same name, a repeated later change a new one', () => {
    const a = input(['code:read', 'code:write'], ['code:read', 'code:write'], ['code:read'], ['code:read']);
    expect(revocationName(a)).toBe(revocationName(input(['code:read', 'code:write'], ['code:write', 'code:read'], ['code:read'], ['code:read'])));
    expect(revocationName({ ...a, lastHistoryTime: 't5' })).not.toBe(revocationName(a));
    expect(revocationName({ ...a, agent: { ...a.agent, uid: 'uid-2' } })).not.toBe(revocationName(a));
  });

  it('keeps names within 253 characters', () => {
    const a = input(['code:read', 'code:write'], ['code:read', 'code:write'], ['code:read'], ['code:read']);
    const long = { ...a, agent: { ...a.agent, name: `${'a'.repeat(240)}-${'b'.repeat(12)}` } };
    const name = revocationName(long);
    expect(name.length).toBeLessThanOrEqual(253);
    expect(name).toMatch(/^a+-narrowed-[0-9a-f]{10}$/);
    expect(planCeilingRevocation(long)?.metadata.labels).not.toHaveProperty('agentidentity.dev/agentclient');
  });
});
