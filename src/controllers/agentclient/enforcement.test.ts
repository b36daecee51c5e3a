import { describe, expect, it } from 'vitest';
import type { DiscoveredProvider, IdpCapabilities } from '../../idp/adapter.ts';
import type { PolicyInput } from '../../policy/index.ts';
import type { KubeClient } from '../../runtime/kube/client.ts';
import { ApiError } from '../../runtime/kube/errors.ts';
import type { KubeObject } from '../../runtime/kube/types.ts';
import type { PolicyCaches } from '../consentpolicy/caches.ts';
import type { GrantRevocation } from '../grantrevocation/types.ts';
import { agentView, evaluateCeiling } from './ceiling.ts';
import { CEILING_NOT_ENFORCEABLE, unenforceableCeiling } from './enforcement.ts';
import { clientAccess, initiallyDisabled } from './nothing-allowed.ts';
import { FINALIZER, plan } from './plan.ts';
import type { Observation, Step } from './plan.ts';
import { applyCeilingChange, ceilingStatus, policyConditions } from './policy.ts';
import type { PolicyDeps } from './policy.ts';
import type { RegistrationRecord } from './registration-store.ts';
import { agentClient } from './testdata.ts';
import type { AgentClient } from './types.ts';

const caps = (management: boolean, disableClient: boolean): IdpCapabilities => ({
  registration: true, management, revokeClientGrants: true, revokeSubjectGrants: true, tokenLifetimes: false, multipleSecrets: false, jwks: true, disableClient,
});
const discovered = (management: boolean, disableClient = false): DiscoveredProvider => ({
  issuer: 'http://127.0.0.1:4000', tokenEndpoint: 'http://127.0.0.1:4000/token', capabilities: caps(management, disableClient),
});
const managed: RegistrationRecord = {
  uid: 'u', namespace: 'team-a', name: 'billing-agent', softwareId: 's', key: { kid: 'k1', alg: 'ES256', privateJwk: { kty: 'EC', kid: 'k1', d: 'x' } },
  clientId: 'c1', registrationClientUri: 'http://idp/reg/c1', registrationAccessToken: 'rat', issuer: 'http://127.0.0.1:4000',
  tokenEndpoint: 'http://127.0.0.1:4000/token', registeredAt: '2025-12-31T00:00:00Z', registeredScope: 'invoices:read invoices:write',
};
/** A registration the IdP gave no RFC 7592 token (or a generic OIDC IdP). */
const unmanaged: RegistrationRecord = { ...managed, registrationClientUri: undefined, registrationAccessToken: undefined };
const allowing = (scopes: string[]): PolicyInput => ({ name: 'fin', spec: { allowedScopes: scopes } });

function agent(status: Partial<NonNullable<AgentClient['status']>> = {}): AgentClient {
  const a = agentClient({ scopes: ['invoices:read', 'invoices:write'] });
  return {
    ...a,
    metadata: { ...a.metadata, finalizers: [FINALIZER] },
    status: {
      clientId: 'c1',
      grantedScopes: ['invoices:read', 'invoices:write'],
      policies: ['fin'],
      ceilingHistory: [{ time: '2025-12-31T00:00:00Z', added: ['invoices:read', 'invoices:write'], removed: [], decision: 'Initial', policy: 'fin' }],
      ...status,
    },
  };
}

const evaluate = (a: AgentClient, allowed: string[]) =>
  evaluateCeiling({ agent: agentView(a), namespaceLabels: undefined, policies: [allowing(allowed)], allowNoPolicy: false, tokenLifetimes: false });

function obs(a: AgentClient, allowed: string[], extra: Partial<Observation> = {}): Observation {
  const ceiling = evaluate(a, allowed);
  return {
    agent: a, now: Date.parse('2026-01-02T00:00:00Z'), provider: { found: true, ready: true, discovered: discovered(false) }, record: unmanaged,
    secret: { ownership: 'owned', upToDate: true }, intentSettled: false, updated: false, resyncPeriodMs: 600_000,
    verifiedGeneration: 1, lastVerifiedAt: Date.parse('2026-01-02T00:00:00Z') - 1000,
    ceiling, policyChanged: false, policyDisabled: initiallyDisabled(a, ceiling, undefined), ...extra,
  };
}

const stepOf = (step: Step): string => ('action' in step ? step.action.type : 'wait' in step ? `wait:${step.wait}` : 'done');

describe('unenforceableCeiling', () => {
  it.each<[string, Partial<Observation>, string[], string | undefined]>([
    ['narrowed, registration without RFC 7592 token', {}, ['invoices:read'], 'narrowed:invoices:write'],
    ['narrowed, IdP without management', { record: managed }, ['invoices:read'], 'narrowed:invoices:write'],
    ['narrowed, registration updatable', { record: managed, provider: { found: true, ready: true, discovered: discovered(true) } }, ['invoices:read'], undefined],
    ['widened only: nothing to withhold', {}, ['invoices:*', 'other'], undefined],
    ['nothing allowed, no disableClient', { record: managed, provider: { found: true, ready: true, discovered: discovered(true) } }, [], 'nothing:invoices:read invoices:write'],
    ['nothing allowed, disableClient', { provider: { found: true, ready: true, discovered: discovered(true, true) } }, [], undefined],
    ['IdP not discovered', { provider: { found: true, ready: false } }, ['invoices:read'], undefined],
    ['not registered', { record: { ...unmanaged, clientId: undefined } }, ['invoices:read'], undefined],
  ])('%s', (_name, extra, allowed, expected) => {
    const u = unenforceableCeiling(obs(agent(), allowed, extra));
    expect(u ? `${u.kind}:${u.removed.join(' ')}` : undefined).toBe(expected);
  });

  it('holds nothing back while the ceiling itself is held', () => {
    const o = obs(agent(), ['invoices:read']);
    expect(unenforceableCeiling({ ...o, ceiling: { ...o.ceiling, held: true } })).toBeUndefined();
  });
});

describe('planning a narrowing the registration cannot take', () => {
  it.each<[string, Observation, string]>([
    ['removes the agent Secret', obs(agent(), ['invoices:read'], { drift: ['scope'] }), 'deleteSecret'],
    ['does not write it back', obs(agent(), ['invoices:read'], { drift: ['scope'], secret: { ownership: 'absent', upToDate: false } }), 'wait:RegistrationNotUpdatable'],
    ['never touches a foreign Secret', obs(agent(), ['invoices:read'], { drift: ['scope'], secret: { ownership: 'foreign', upToDate: false } }), 'wait:RegistrationNotUpdatable'],
    ['writes it again once the policy allows the registered ceiling', obs(agent(), ['invoices:*'], { secret: { ownership: 'absent', upToDate: false } }), 'writeSecret'],
  ])('%s', (_name, o, expected) => {
    expect(stepOf(plan(o))).toBe(expected);
  });
});

/** Records the GrantRevocations created; the caches know no ConsentPolicy objects. */
function fakes(): { client: KubeClient; created: GrantRevocation[]; deps: PolicyDeps } {
  const created: GrantRevocation[] = [];
  const client = {
    create: async (_type: unknown, obj: KubeObject) => {
      if (created.some((g) => g.metadata.name === obj.metadata?.name)) throw new ApiError(409, 'AlreadyExists', 'exists');
      created.push(obj as unknown as GrantRevocation);
      return obj;
    },
  } as unknown as KubeClient;
  const deps: PolicyDeps = { caches: { policy: () => undefined } as unknown as PolicyCaches, allowNoPolicy: false, requester: async () => undefined };
  return { client, created, deps };
}

describe('the ceiling change of a narrowing the registration cannot take', () => {
  const now = new Date('2026-01-02T00:00:00Z');
  const registered = ['invoices:read', 'invoices:write'];

  it('revokes the grants holding the removed scopes once, records no history, and says so', async () => {
    const { client, created, deps } = fakes();
    const a = agent();
    const o = obs(a, ['invoices:read']);
    const access = clientAccess(o);
    const applied = await applyCeilingChange(client, deps, a, o.ceiling, registered, now, access);
    expect(applied.registered).toEqual(registered);
    expect(applied.decided.history).toEqual(a.status?.ceilingHistory);
    expect(created).toHaveLength(1);
    expect(created[0]?.metadata.labels?.['agentidentity.dev/decision']).toBe('PolicyNarrowed');
    expect(created[0]?.spec).toMatchObject({ actions: ['RevokeGrants'], scopes: ['invoices:write'] });
    const condition = policyConditions(o.ceiling, applied, access)[0];
    expect(condition).toMatchObject({ status: 'False', reason: CEILING_NOT_ENFORCEABLE });
    expect(condition?.message).toContain('still holds invoices:read invoices:write');
    expect(condition?.message).toContain('Secret is withheld');
    const status = ceilingStatus(a, o.ceiling, applied, access);
    expect(status).toMatchObject({ grantedScopes: registered, deniedScopes: [{ scope: 'invoices:write', reason: 'NotAllowedByPolicy', policy: 'fin' }] });

    // Recorded in status: not created again.
    const recorded = agent({
      deniedScopes: status.deniedScopes ?? [],
      conditions: [{ type: 'PolicyCompliant', status: 'False', reason: CEILING_NOT_ENFORCEABLE, message: 'm', lastTransitionTime: '2026-01-02T00:00:00Z' }],
    });
    const again = obs(recorded, ['invoices:read']);
    await applyCeilingChange(client, deps, recorded, again.ceiling, registered, now, clientAccess(again));
    expect(created).toHaveLength(1);

    // Narrowed further: the newly removed scopes are revoked too.
    const further = obs(recorded, ['invoices:write']);
    await applyCeilingChange(client, deps, recorded, further.ceiling, registered, now, clientAccess(further));
    expect(created).toHaveLength(2);
    expect(created[1]?.spec.scopes).toEqual(['invoices:read']);
  });

  it('revokes nothing where the registration takes the narrowing (the PUT path decides)', async () => {
    const { client, created, deps } = fakes();
    const a = agent();
    const o = obs(a, ['invoices:read'], { record: managed, provider: { found: true, ready: true, discovered: discovered(true) } });
    await applyCeilingChange(client, deps, a, o.ceiling, registered, now, clientAccess(o));
    expect(created).toHaveLength(0);
  });
});
