import { describe, expect, it } from 'vitest';
import type { IdpCapabilities } from '../../idp/adapter.ts';
import type { PolicyInput } from '../../policy/index.ts';
import { evaluateCeiling } from './ceiling.ts';
import type { AgentView } from './ceiling.ts';
import { ceilingStale, ceilingStatus, policyConditions, policyMetadata, registrableCeiling } from './policy.ts';
import type { AgentClient } from './types.ts';

const policy: PolicyInput = {
  name: 'p',
  spec: { allowedScopes: ['code:*', 'deploy'], standing: { accessTokenTTL: '10m', refreshTokenTTL: '24h' }, taskScoped: { scopes: ['deploy'], accessTokenTTL: '2m' } },
};
const caps = (tokenLifetimes: boolean): IdpCapabilities => ({
  registration: true, management: true, revokeClientGrants: true, revokeSubjectGrants: true, tokenLifetimes, multipleSecrets: false, jwks: true, disableClient: true,
});
const view = (requested: string[], status?: AgentView['status']): AgentView => ({ namespace: 'ns', name: 'a', uid: 'u', generation: 1, requested, ...(status ? { status } : {}) });
const evaluate = (requested: string[], tokenLifetimes = true, status?: AgentView['status']) =>
  evaluateCeiling({ agent: view(requested, status), namespaceLabels: undefined, policies: [policy], allowNoPolicy: false, tokenLifetimes });
const agentWith = (status: AgentClient['status']): AgentClient =>
  ({ metadata: { name: 'a', namespace: 'ns', uid: 'u' }, spec: { scopes: ['code:read'] }, status }) as unknown as AgentClient;

describe('policyMetadata', () => {
  it('projects lifetimes and task-scoped rules where the IdP holds them', () => {
    expect(policyMetadata(evaluate(['code:read', 'deploy']), caps(true))).toEqual({
      ceiling: ['code:read', 'deploy'],
      token_lifetimes: { access_token: 600, refresh_token: 86400 },
      task_scoped: { scopes: ['deploy'], access_token: 120, single_use_refresh: true, session_binding: true },
    });
  });

  it('registers neither where it cannot, and the task-scoped scope is not in the ceiling', () => {
    expect(policyMetadata(evaluate(['code:read', 'deploy'], false), caps(false))).toEqual({ ceiling: ['code:read'] });
  });
});

describe('ceilingStale', () => {
  it('compares the registered scope string with the evaluated ceiling as sets', () => {
    const e = evaluate(['code:write', 'code:read']);
    expect(ceilingStale(e, 'code:write code:read')).toBe(false);
    expect(ceilingStale(e, 'code:read')).toBe(true);
    expect(ceilingStale(e, undefined)).toBe(false);
  });
});

describe('ceilingStatus and policyConditions', () => {
  it('report the evaluation for an unregistered client', () => {
    const e = evaluate(['code:read', 'other']);
    expect(ceilingStatus(agentWith(undefined), e, undefined)).toEqual({ deniedScopes: [{ scope: 'other', reason: 'NotAllowedByPolicy', policy: 'p' }], policies: ['p'] });
    expect(policyConditions(e, undefined).map((c) => [c.type, c.status, c.reason])).toEqual([
      ['PolicyCompliant', 'False', 'ScopesDenied'],
      ['TokenLifetimesProjected', 'True', 'Projected'],
    ]);
  });

  it('keep the last applied fields while the IdP still holds another ceiling', () => {
    const e = evaluate(['code:read', 'other']);
    const previous = { grantedScopes: ['code:read', 'other'], policies: ['old'] };
    const decided = { change: { decision: 'None' }, cause: 'spec', history: [] } as never;
    const status = ceilingStatus(agentWith(previous), e, { decided, registered: ['code:read', 'other'] });
    expect(status).toEqual({ grantedScopes: ['code:read', 'other'], ceilingHistory: undefined, deniedScopes: undefined, policies: ['old'] });
    expect(policyConditions(e, { decided, registered: ['code:read', 'other'] })[0]).toMatchObject({ status: 'Unknown', reason: 'CeilingPending' });
  });

  it('write the evaluation once the IdP holds its ceiling', () => {
    const e = evaluate(['code:read']);
    const history = [{ time: 't', added: ['code:read'], removed: [], decision: 'Initial' as const }];
    const status = ceilingStatus(agentWith(undefined), e, { decided: { change: {} as never, cause: 'spec', history }, registered: ['code:read'] });
    expect(status).toEqual({ grantedScopes: ['code:read'], ceilingHistory: history, deniedScopes: undefined, policies: ['p'] });
  });
});

describe('an empty ceiling', () => {
  it('keeps the registered scope (RFC 7591 cannot express an empty ceiling) and says what holds the client instead', () => {
    const e = evaluate(['other']);
    expect(e.granted).toEqual([]);
    expect(registrableCeiling(e, 'code:read code:write')).toEqual(['code:read', 'code:write']);
    expect(registrableCeiling(e, undefined)).toEqual([]);
    expect(ceilingStale(e, 'code:read')).toBe(false);
    const kept = { decided: { change: {} as never, cause: 'spec' as const, history: [] }, registered: ['code:read', 'code:write'] };
    // The IdP cannot disable a client: it keeps the ceiling, and the condition says what still works.
    const keptCondition = policyConditions(e, kept, { disabled: false, disableSupported: false })[0];
    expect(keptCondition).toMatchObject({ status: 'False', reason: 'NothingAllowedCeilingKept' });
    expect(keptCondition?.message).toContain('the agent Secret is withheld');
    expect(keptCondition?.message).toContain('the IdP keeps code:read code:write: whoever holds a copy of the credentials can still obtain client_credentials tokens up to it');
    expect(ceilingStatus(agentWith({ grantedScopes: ['code:read', 'code:write'] }), e, kept)).toMatchObject({
      grantedScopes: ['code:read', 'code:write'],
      deniedScopes: [{ scope: 'other', reason: 'NotAllowedByPolicy', policy: 'p' }],
    });
    // It can: until the client is disabled the condition says so; once it is, the ceiling in force is empty.
    expect(policyConditions(e, kept, { disabled: false, disableSupported: true })[0]).toMatchObject({ status: 'Unknown', reason: 'CeilingPending' });
    const disabled = { decided: { change: {} as never, cause: 'policy' as const, history: [] }, registered: [] };
    expect(policyConditions(e, disabled, { disabled: true, disableSupported: true })[0]).toMatchObject({ status: 'False', reason: 'NothingAllowed' });
    expect(ceilingStatus(agentWith({ grantedScopes: ['code:read'] }), e, disabled)).toMatchObject({ grantedScopes: [] });
    // Allowed again while still disabled: pending until it is re-enabled.
    const again = evaluate(['code:read']);
    expect(policyConditions(again, disabled, { disabled: true, disableSupported: true })[0]).toMatchObject({ status: 'Unknown', reason: 'CeilingPending' });
  });
});
