import { describe, expect, it } from 'vitest';
import type { DiscoveredProvider, IdpCapabilities } from '../../idp/adapter.ts';
import type { PolicyInput } from '../../policy/index.ts';
import type { KubeClient } from '../../runtime/kube/client.ts';
import type { KubeObject } from '../../runtime/kube/types.ts';
import type { PolicyCaches } from '../consentpolicy/caches.ts';
import type { GrantRevocation } from '../grantrevocation/types.ts';
import { agentView, evaluateCeiling } from './ceiling.ts';
import { clientAccessStep, disabledByPolicy, initiallyDisabled, nothingAllowedReady } from './nothing-allowed.ts';
import { FINALIZER, plan } from './plan.ts';
import type { Observation, Step } from './plan.ts';
import { applyCeilingChange } from './policy.ts';
import type { PolicyDeps } from './policy.ts';
import type { RegistrationRecord } from './registration-store.ts';
import { agentClient } from './testdata.ts';
import type { AgentClient } from './types.ts';

const caps = (disableClient: boolean): IdpCapabilities => ({
  registration: true, management: true, revokeClientGrants: true, revokeSubjectGrants: true, tokenLifetimes: true, multipleSecrets: false, jwks: true, disableClient,
});
const discovered = (disableClient = true): DiscoveredProvider => ({ issuer: 'http://127.0.0.1:4000', tokenEndpoint: 'http://127.0.0.1:4000/token', capabilities: caps(disableClient) });
const record: RegistrationRecord = {
  uid: 'u', namespace: 'team-a', name: 'billing-agent', softwareId: 's', key: { kid: 'k1', alg: 'ES256', privateJwk: { kty: 'EC', kid: 'k1', d: 'x' } },
  clientId: 'c1', registrationClientUri: 'http://idp/reg/c1', registrationAccessToken: 'rat', issuer: 'http://127.0.0.1:4000',
  tokenEndpoint: 'http://127.0.0.1:4000/token', registeredAt: '2025-12-31T00:00:00Z', registeredScope: 'invoices:read invoices:write',
};
const allowing = (scopes: string[]): PolicyInput => ({ name: 'fin', spec: { allowedScopes: scopes } });

function agent(reason?: string, status: Partial<NonNullable<AgentClient['status']>> = {}): AgentClient {
  const a = agentClient({ scopes: ['invoices:read', 'invoices:write'] });
  return {
    ...a,
    metadata: { ...a.metadata, finalizers: [FINALIZER] },
    status: {
      clientId: 'c1',
      grantedScopes: ['invoices:read', 'invoices:write'],
      policies: ['fin'],
      ceilingHistory: [{ time: '2025-12-31T00:00:00Z', added: ['invoices:read', 'invoices:write'], removed: [], decision: 'Initial', policy: 'fin' }],
      ...(reason ? { conditions: [{ type: 'PolicyCompliant', status: 'False', reason, message: 'm', lastTransitionTime: '2026-01-01T00:00:00Z' }] } : {}),
      ...status,
    },
  };
}

const evaluate = (a: AgentClient, allowed: string[]) =>
  evaluateCeiling({ agent: agentView(a), namespaceLabels: undefined, policies: [allowing(allowed)], allowNoPolicy: false, tokenLifetimes: true });

function obs(a: AgentClient, allowed: string[], extra: Partial<Observation> = {}): Observation {
  const ceiling = evaluate(a, allowed);
  return {
    agent: a, now: Date.parse('2026-01-02T00:00:00Z'), provider: { found: true, ready: true, discovered: discovered() }, record,
    secret: { ownership: 'owned', upToDate: true }, intentSettled: false, updated: false, resyncPeriodMs: 600_000,
    verifiedGeneration: 1, lastVerifiedAt: Date.parse('2026-01-02T00:00:00Z') - 1000,
    ceiling, policyChanged: false, policyDisabled: initiallyDisabled(a, ceiling, undefined), ...extra,
  };
}

const remote = {
  handle: { clientId: 'c1', registrationClientUri: 'http://idp/reg/c1', registrationAccessToken: 'rat' },
  metadata: { client_name: 'x', grant_types: [], redirect_uris: [], scope: 'invoices:read invoices:write', token_endpoint_auth_method: 'private_key_jwt' as const, software_id: 's' },
};
const stepOf = (step: Step): string =>
  'action' in step ? (step.action.type === 'setPolicyDisabled' ? `setPolicyDisabled:${String(step.action.disabled)}` : step.action.type) : 'wait' in step ? `wait:${step.wait}` : 'done';
const suspended = { suspendedBy: [{ name: 'team-a/incident', reason: 'r', since: 't' }], deletedBy: [] };

describe('planning a client that nothing is allowed to', () => {
  it.each<[string, Observation, string]>([
    ['disables a registered client first', obs(agent(), []), 'setPolicyDisabled:true'],
    ['disables it even before a due drift read', obs(agent(), [], { policyChanged: true }), 'setPolicyDisabled:true'],
    ['is done once status says it is disabled', obs(agent('NothingAllowed', { grantedScopes: [] }), []), 'done'],
    ['withholds the Secret where the IdP cannot disable clients', obs(agent(), [], { provider: { found: true, ready: true, discovered: discovered(false) } }), 'deleteSecret'],
    ['never writes it back there', obs(agent(), [], { provider: { found: true, ready: true, discovered: discovered(false) }, secret: { ownership: 'absent', upToDate: false } }), 'done'],
    ['holds it while an invalid selector holds the ceiling', obs(agent(), [], { ceiling: { ...evaluate(agent(), []), held: true } }), 'done'],
    ['reads the registration before re-enabling once allowed again', obs(agent('NothingAllowed', { grantedScopes: [] }), ['invoices:*'], { policyChanged: true }), 'readRegistration'],
    ['updates the registration before re-enabling', obs(agent('NothingAllowed', { grantedScopes: [] }), ['invoices:read'], { remote: { registration: remote }, drift: ['scope'] }), 'updateRegistration'],
    ['re-enables once the registration holds the new ceiling', obs(agent('NothingAllowed', { grantedScopes: [] }), ['invoices:read'], { remote: { registration: remote }, drift: ['scope'], updated: true }), 'setPolicyDisabled:false'],
    ['re-enables when nothing else is left to do', obs(agent('NothingAllowed', { grantedScopes: [] }), ['invoices:*']), 'setPolicyDisabled:false'],
    ['never re-enables while a suspension holds it', obs(agent('NothingAllowed', { grantedScopes: [] }), ['invoices:*'], { holds: suspended, policyDisabled: true, secret: { ownership: 'absent', upToDate: false } }), 'done'],
  ])('%s', (_name, o, expected) => {
    expect(stepOf(plan(o))).toBe(expected);
  });

  it('hands a disabled client over to a suspension once a policy allows it scopes again', () => {
    const a = agent('NothingAllowed', { grantedScopes: [] });
    expect(initiallyDisabled(a, evaluate(a, ['invoices:*']), undefined)).toBe(true);
    expect(initiallyDisabled(a, evaluate(a, ['invoices:*']), suspended)).toBe(false);
    expect(initiallyDisabled(a, evaluate(a, []), suspended)).toBe(true);
    expect(initiallyDisabled(agent('ScopesDenied'), evaluate(a, []), undefined)).toBe(false);
    expect(disabledByPolicy(a)).toBe(true);
    expect(clientAccessStep(obs(agent(), []), 'enable')).toBeUndefined();
  });

  it('is not Ready while nothing is allowed, and says why', () => {
    const ready = nothingAllowedReady(obs(agent('NothingAllowed', { grantedScopes: [] }), []));
    expect(ready).toMatchObject({ status: 'False', reason: 'NothingAllowed' });
    expect(ready?.message).toContain('disabled at the IdP');
    expect(nothingAllowedReady(obs(agent(), ['invoices:*']))).toBeUndefined();
  });
});

/** Records the GrantRevocations created; the caches know no ConsentPolicy objects (owner falls back to the AgentClient). */
function fakes(): { client: KubeClient; created: GrantRevocation[]; deps: PolicyDeps } {
  const created: GrantRevocation[] = [];
  const client = {
    create: async (_type: unknown, obj: KubeObject) => {
      created.push(obj as unknown as GrantRevocation);
      return obj;
    },
  } as unknown as KubeClient;
  const deps: PolicyDeps = { caches: { policy: () => undefined } as unknown as PolicyCaches, allowNoPolicy: false, requester: async () => 'system:serviceaccount:op:op' };
  return { client, created, deps };
}

describe('the ceiling change when nothing is allowed', () => {
  const now = new Date('2026-01-02T00:00:00Z');

  it('disabled client: PolicyNarrowed with every scope removed, and every grant revoked', async () => {
    const { client, created, deps } = fakes();
    const a = agent();
    const applied = await applyCeilingChange(client, deps, a, evaluate(a, []), ['invoices:read', 'invoices:write'], now, { disabled: true, disableSupported: true });
    expect(applied.registered).toEqual([]);
    expect(applied.decided.history.at(-1)).toMatchObject({ decision: 'PolicyNarrowed', added: [], removed: ['invoices:read', 'invoices:write'], policy: 'fin' });
    expect(created).toHaveLength(1);
    const grev = created[0];
    expect(grev?.metadata.name).toMatch(/^billing-agent-narrowed-[0-9a-f]{10}$/);
    expect(grev?.metadata.labels?.['agentidentity.dev/decision']).toBe('PolicyNarrowed');
    expect(grev?.spec).toMatchObject({ target: { agentClientName: 'billing-agent' }, actions: ['RevokeGrants'] });
    expect(grev?.spec.scopes).toBeUndefined();
    expect(grev?.spec.reason).toMatch(/^PolicyNarrowed: no scope of team-a\/billing-agent is allowed any more .*every grant is revoked$/);
  });

  it('once recorded, nothing more is created', async () => {
    const { client, created, deps } = fakes();
    const a = agent('NothingAllowed', { grantedScopes: [] });
    const applied = await applyCeilingChange(client, deps, a, evaluate(a, []), ['invoices:read', 'invoices:write'], now, { disabled: true, disableSupported: true });
    expect(applied.decided.change.decision).toBe('None');
    expect(created).toHaveLength(0);
  });

  it('IdP keeping its ceiling: every grant revoked once, no history entry, the ceiling in force stays', async () => {
    const { client, created, deps } = fakes();
    const a = agent();
    const applied = await applyCeilingChange(client, deps, a, evaluate(a, []), ['invoices:read', 'invoices:write'], now, { disabled: false, disableSupported: false });
    expect(applied.registered).toEqual(['invoices:read', 'invoices:write']);
    expect(applied.decided.history).toEqual(a.status?.ceilingHistory);
    expect(created.map((g) => [g.metadata.labels?.['agentidentity.dev/decision'], g.spec.scopes])).toEqual([['PolicyNarrowed', undefined]]);
    const recorded = agent('NothingAllowedCeilingKept');
    await applyCeilingChange(client, deps, recorded, evaluate(recorded, []), ['invoices:read', 'invoices:write'], now, { disabled: false, disableSupported: false });
    expect(created).toHaveLength(1);
  });

  it('allowed again after being disabled: a fresh Initial ceiling, nothing revoked', async () => {
    const { client, created, deps } = fakes();
    const a = agent(undefined, { grantedScopes: [] });
    const applied = await applyCeilingChange(client, deps, a, evaluate(a, ['invoices:read']), ['invoices:read'], now, { disabled: false, disableSupported: true });
    expect(applied.decided.history.at(-1)).toMatchObject({ decision: 'Initial', added: ['invoices:read'] });
    expect(created).toHaveLength(0);
  });
});
