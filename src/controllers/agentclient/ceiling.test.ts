import { describe, expect, it } from 'vitest';
import type { PolicyInput } from '../../policy/index.ts';
import { ceilingStatusUpToDate, evaluateCeiling, NAMESPACE_UNKNOWN, registeredCeilingChange, TASK_SCOPED_UNSUPPORTED } from './ceiling.ts';
import type { AgentView, CeilingEvaluationInput } from './ceiling.ts';

/** The sample policy (config/samples/consentpolicy.yaml), selecting tenant namespaces. */
const tenant: PolicyInput = {
  name: 'tenant-agents',
  spec: {
    namespaceSelector: { matchLabels: { 'agentidentity.dev/tenant': 'agents' } },
    allowedScopes: ['openid', 'offline_access', 'reports:read', 'code:read', 'code:write', 'deployments:trigger'],
    scopeClasses: [
      { pattern: 'reports:*', access: 'read', data: 'internal' },
      { pattern: 'code:read', access: 'read' },
      { pattern: 'code:write', access: 'write', environment: 'nonprod' },
      { pattern: 'deployments:trigger', access: 'write', environment: 'prod' },
    ],
    consent: { deltaConsent: true, fullReconsentOn: ['access', 'environment', 'data'] },
    standing: { accessTokenTTL: '15m', refreshTokenTTL: '2160h' },
    taskScoped: { scopes: ['deployments:trigger'], accessTokenTTL: '5m', singleUseRefresh: true, sessionBinding: true },
  },
};

const tenantLabels = { 'agentidentity.dev/tenant': 'agents' };

function agent(requested: string[], status?: AgentView['status'], labels?: Record<string, string>): AgentView {
  return { namespace: 'agents', name: 'coding-agent', uid: 'u-1', generation: 3, requested, ...(labels ? { labels } : {}), ...(status ? { status } : {}) };
}

function input(overrides: Partial<CeilingEvaluationInput> & { agent: AgentView }): CeilingEvaluationInput {
  return { namespaceLabels: tenantLabels, policies: [tenant], allowNoPolicy: false, tokenLifetimes: true, ...overrides };
}

describe('evaluateCeiling', () => {
  it('grants what the selecting policy allows and reports the rest as denied', () => {
    const narrow: PolicyInput = { name: 'narrow', spec: { allowedScopes: ['code:*'] } };
    const result = evaluateCeiling(input({ agent: agent(['code:read', 'reports:read', 'bad"scope']), policies: [tenant, narrow] }));
    expect(result.held).toBe(false);
    expect(result.granted).toEqual(['code:read']);
    expect(result.denied).toEqual([
      { scope: 'bad"scope', reason: 'InvalidScope' },
      { scope: 'reports:read', reason: 'NotAllowedByPolicy', policy: 'narrow' },
    ]);
    expect(result.policies).toEqual(['narrow', 'tenant-agents']);
    expect(result.policyCompliant).toMatchObject({ status: 'False', reason: 'ScopesDenied' });
    expect(result.policyCompliant.message).toContain('reports:read (NotAllowedByPolicy by narrow)');
  });

  it('allows nothing without a matching policy, unless --allow-no-policy', () => {
    const outside = input({ agent: agent(['code:read']), namespaceLabels: { team: 'x' } });
    const denied = evaluateCeiling(outside);
    expect(denied.granted).toEqual([]);
    expect(denied.denied).toEqual([{ scope: 'code:read', reason: 'NoMatchingPolicy' }]);
    expect(denied.policyCompliant).toMatchObject({ status: 'False', reason: 'NoMatchingPolicy' });

    const allowed = evaluateCeiling({ ...outside, allowNoPolicy: true });
    expect(allowed.granted).toEqual(['code:read']);
    expect(allowed.policyCompliant).toMatchObject({ status: 'True', reason: 'NoPolicyAllowed' });
    // Defaults apply when no policy says otherwise (1h access, 2160h refresh).
    expect(allowed.projection).toEqual({ token_lifetimes: { access_token: 3600, refresh_token: 2160 * 3600 } });
  });

  it('is compliant when every requested scope is allowed', () => {
    const result = evaluateCeiling(input({ agent: agent(['reports:read']) }));
    expect(result.granted).toEqual(['reports:read']);
    expect(result.policyCompliant).toMatchObject({ status: 'True', reason: 'Compliant' });
    expect(result.policyCompliant.message).toContain('tenant-agents');
  });

  it('holds the current ceiling while a possibly matching policy has an invalid selector', () => {
    const broken: PolicyInput = { name: 'broken', spec: { allowedScopes: [], selector: { matchExpressions: [{ key: 'a', operator: 'Sometimes' }] } } };
    const status = { grantedScopes: ['code:read', 'code:write'], policies: ['tenant-agents'], deniedScopes: [] };
    const result = evaluateCeiling(input({ agent: agent(['code:read', 'code:write'], status), policies: [tenant, broken] }));
    expect(result.held).toBe(true);
    expect(result.granted).toEqual(['code:read', 'code:write']);
    expect(result.policies).toEqual(['tenant-agents']);
    expect(result.policyCompliant).toMatchObject({ status: 'Unknown', reason: 'PolicySelectorInvalid' });
    expect(result.policyCompliant.message).toContain('broken');
    expect(result.policyCompliant.message).toContain('unknown operator');
  });

  it('holds the current ceiling while the Namespace is not in the cache, never widening it', () => {
    // A permissive policy for everyone and a restrictive one for tenant namespaces: read as "no
    // labels", an uncached tenant namespace would escape the restrictive one (and match NotIn).
    const everyone: PolicyInput = { name: 'everyone', spec: { allowedScopes: ['code:read', 'code:write', 'reports:read'] } };
    const tenantOnly: PolicyInput = { name: 'tenant-read', spec: { namespaceSelector: { matchLabels: tenantLabels }, allowedScopes: ['code:read'] } };
    const notProd: PolicyInput = {
      name: 'outside-prod',
      spec: { namespaceSelector: { matchExpressions: [{ key: 'agentidentity.dev/tenant', operator: 'NotIn', values: ['agents'] }] }, allowedScopes: ['reports:read'] },
    };
    const status = { grantedScopes: ['code:read'], policies: ['everyone', 'tenant-read'], deniedScopes: [] };
    const base = { agent: agent(['code:read', 'code:write'], status), policies: [everyone, tenantOnly, notProd] };
    expect(evaluateCeiling(input(base)).granted).toEqual(['code:read']);
    const unknown = evaluateCeiling(input({ ...base, namespaceLabels: undefined, namespaceKnown: false }));
    expect(unknown.held).toBe(true);
    expect(unknown.granted).toEqual(['code:read']);
    expect(unknown.policies).toEqual(['everyone', 'tenant-read']);
    expect(unknown.policyCompliant).toMatchObject({ status: 'Unknown', reason: NAMESPACE_UNKNOWN });
    expect(unknown.policyCompliant.message).toContain('Namespace agents');
    // A new AgentClient has no ceiling to keep: nothing to register.
    const fresh = evaluateCeiling(input({ agent: agent(['code:read', 'code:write']), policies: [everyone], namespaceLabels: undefined, namespaceKnown: false }));
    expect(fresh).toMatchObject({ held: true, granted: [] });
  });

  it('ignores an invalid policy whose other selector rules the AgentClient out', () => {
    const elsewhere: PolicyInput = {
      name: 'elsewhere',
      spec: { allowedScopes: [], namespaceSelector: { matchLabels: { team: 'other' } }, selector: { matchLabels: { 'bad key!': 'x' } } },
    };
    const result = evaluateCeiling(input({ agent: agent(['code:read']), policies: [tenant, elsewhere] }));
    expect(result.held).toBe(false);
    expect(result.granted).toEqual(['code:read']);
  });

  it('selects by AgentClient labels too', () => {
    const labelled: PolicyInput = { name: 'labelled', spec: { selector: { matchLabels: { tier: 'gold' } }, allowedScopes: ['*'] } };
    expect(evaluateCeiling(input({ agent: agent(['x:y'], undefined, { tier: 'gold' }), policies: [labelled] })).granted).toEqual(['x:y']);
    expect(evaluateCeiling(input({ agent: agent(['x:y'], undefined, { tier: 'iron' }), policies: [labelled] })).granted).toEqual([]);
  });

  it('projects standing and task-scoped lifetimes in seconds', () => {
    const result = evaluateCeiling(input({ agent: agent(['code:read', 'deployments:trigger']) }));
    expect(result.granted).toEqual(['code:read', 'deployments:trigger']);
    expect(result.taskScoped).toEqual(['deployments:trigger']);
    expect(result.projection).toEqual({
      token_lifetimes: { access_token: 900, refresh_token: 2160 * 3600 },
      task_scoped: { scopes: ['deployments:trigger'], access_token: 300, single_use_refresh: true, session_binding: true },
    });
    expect(result.lifetimesProjected).toMatchObject({ status: 'True', reason: 'Projected' });
    expect(result.lifetimesProjected.message).toContain('task-scoped deployments:trigger: access 300s, single-use refresh, bound to the user session');
  });

  it('never grants a task-scoped scope where the IdP cannot hold lifetimes', () => {
    for (const tokenLifetimes of [false, undefined]) {
      const result = evaluateCeiling(input({ agent: agent(['code:read', 'deployments:trigger']), tokenLifetimes }));
      expect(result.granted).toEqual(['code:read']);
      expect(result.taskScoped).toEqual([]);
      expect(result.denied).toEqual([{ scope: 'deployments:trigger', reason: TASK_SCOPED_UNSUPPORTED, policy: 'tenant-agents' }]);
      expect(result.projection.task_scoped).toBeUndefined();
      expect(result.policyCompliant.status).toBe('False');
    }
    const unsupported = evaluateCeiling(input({ agent: agent(['code:read']), tokenLifetimes: false }));
    expect(unsupported.lifetimesProjected).toMatchObject({ status: 'False', reason: 'UnsupportedByIdP' });
    expect(unsupported.policyCompliant.status).toBe('True');
    expect(evaluateCeiling(input({ agent: agent(['code:read']), tokenLifetimes: undefined })).lifetimesProjected.status).toBe('Unknown');
  });

  it('tells whether status already reports the evaluation', () => {
    const a = agent(['code:read', 'reports:read'], {
      grantedScopes: ['reports:read', 'code:read'],
      policies: ['tenant-agents'],
    });
    const result = evaluateCeiling(input({ agent: a }));
    expect(ceilingStatusUpToDate(a, result)).toBe(true);
    expect(ceilingStatusUpToDate({ ...a, status: { ...a.status, policies: [] } }, result)).toBe(false);
    // As the API server returns it: object keys sorted.
    const denied = evaluateCeiling(input({ agent: agent(['code:read', 'x:y'], { grantedScopes: ['code:read'], policies: ['tenant-agents'] }) }));
    const stored = agent(['code:read', 'x:y'], { grantedScopes: ['code:read'], policies: ['tenant-agents'], deniedScopes: [{ policy: 'tenant-agents', reason: 'NotAllowedByPolicy', scope: 'x:y' }] });
    expect(ceilingStatusUpToDate(stored, denied)).toBe(true);
  });
});

describe('registeredCeilingChange', () => {
  const time = '2025-03-01T10:00:00Z';
  function decide(requested: string[], status: AgentView['status'], registered: string[], policies: PolicyInput[] = [tenant]) {
    const a = agent(requested, status);
    const evaluation = evaluateCeiling(input({ agent: a, policies }));
    return registeredCeilingChange({ agent: a, registered, evaluation, time });
  }

  it('records the first ceiling as Initial', () => {
    const r = decide(['code:read', 'code:write'], undefined, ['code:read', 'code:write']);
    expect(r.change.decision).toBe('Initial');
    expect(r.history).toEqual([{ time, added: ['code:read', 'code:write'], removed: [], decision: 'Initial', generation: 3 }]);
  });

  it('records a same-tier addition as Delta caused by the spec', () => {
    const r = decide(['code:read', 'code:write', 'reports:read'], { grantedScopes: ['code:read', 'code:write'] }, ['code:read', 'code:write', 'reports:read']);
    expect(r.change.decision).toBe('Delta');
    expect(r.cause).toBe('spec');
    expect(r.change.revokeExistingGrants).toBe(false);
    expect(r.history.at(-1)).toEqual({ time, added: ['reports:read'], removed: [], decision: 'Delta', generation: 3 });
  });

  it('records a boundary crossing as FullReconsent naming the policy', () => {
    const r = decide(['code:read', 'code:write', 'deployments:trigger'], { grantedScopes: ['code:read', 'code:write'] }, ['code:read', 'code:write', 'deployments:trigger']);
    expect(r.change.decision).toBe('FullReconsent');
    expect(r.change.revokeExistingGrants).toBe(true);
    expect(r.policy).toBe('tenant-agents');
    expect(r.history.at(-1)).toMatchObject({ decision: 'FullReconsent', added: ['deployments:trigger'], policy: 'tenant-agents' });
  });

  it('attributes a narrowing to the policy that now denies a still-requested scope', () => {
    const readOnly: PolicyInput = { ...tenant, spec: { ...tenant.spec, allowedScopes: ['code:read'] } };
    const r = decide(['code:read', 'code:write'], { grantedScopes: ['code:read', 'code:write'], policies: ['tenant-agents'] }, ['code:read'], [readOnly]);
    expect(r.change.decision).toBe('PolicyNarrowed');
    expect(r.cause).toBe('policy');
    expect(r.policy).toBe('tenant-agents');
    expect(r.change.revokeScopes).toEqual(['code:write']);
    expect(r.history.at(-1)).toEqual({ time, added: [], removed: ['code:write'], decision: 'PolicyNarrowed', policy: 'tenant-agents', generation: 3 });
  });

  it('attributes a narrowing to the spec when the scope is no longer requested', () => {
    const r = decide(['code:read'], { grantedScopes: ['code:read', 'code:write'], policies: ['tenant-agents'] }, ['code:read']);
    expect(r.change.decision).toBe('PolicyNarrowed');
    expect(r.cause).toBe('spec');
    expect(r.policy).toBeUndefined();
    expect(r.history.at(-1)).not.toHaveProperty('policy');
  });

  it('names the policy that stopped selecting the AgentClient', () => {
    const r = decide(['code:read'], { grantedScopes: ['code:read'], policies: ['tenant-agents'] }, [], []);
    expect(r.change.decision).toBe('PolicyNarrowed');
    expect(r.cause).toBe('policy');
    expect(r.policy).toBe('tenant-agents');
  });

  it('attributes a widening to the policy when a denied scope becomes allowed', () => {
    const status = { grantedScopes: ['code:read'], deniedScopes: [{ scope: 'reports:read', reason: 'NotAllowedByPolicy', policy: 'tenant-agents' }] };
    const r = decide(['code:read', 'reports:read'], status, ['code:read', 'reports:read']);
    expect(r.change.decision).toBe('Delta');
    expect(r.cause).toBe('policy');
    expect(r.policy).toBe('tenant-agents');
  });

  it('records nothing when the registered ceiling is the reported one', () => {
    const history = [{ time: 't0', added: ['code:read'], removed: [], decision: 'Initial' as const }];
    const r = decide(['code:read'], { grantedScopes: ['code:read'], ceilingHistory: history }, ['code:read']);
    expect(r.change.decision).toBe('None');
    expect(r.history).toEqual(history);
  });

  it('keeps the history bounded to the newest 20 entries', () => {
    const history = Array.from({ length: 20 }, (_, i) => ({ time: `t${i}`, added: [], removed: ['x'], decision: 'PolicyNarrowed' as const }));
    const r = decide(['code:read', 'code:write'], { grantedScopes: ['code:read'], ceilingHistory: history }, ['code:read', 'code:write']);
    expect(r.history).toHaveLength(20);
    expect(r.history[0]?.time).toBe('t1');
    expect(r.history.at(-1)?.time).toBe(time);
  });
});
