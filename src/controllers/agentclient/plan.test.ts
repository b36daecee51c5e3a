import fc from 'fast-check';
import { agentView, evaluateCeiling } from './ceiling.ts';
import { describe, expect, it } from 'vitest';
import type { DiscoveredProvider, Registration } from '../../idp/adapter.ts';
import { canHold, chooseAdoption, FINALIZER, plan, ROTATE_ANNOTATION, SKIP_IDP_CLEANUP_ANNOTATION } from './plan.ts';
import type { Observation, Step } from './plan.ts';
import type { RegistrationRecord } from './registration-store.ts';
import { agentClient } from './testdata.ts';
import type { AgentClient } from './types.ts';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const SOFTWARE_ID = 'agentidentity.dev/default/team-a/billing-agent/5f0c1f0e-1111-4a3b-9c7d-0123456789ab';
const key = { kid: 'k1', alg: 'ES256' as const, privateJwk: { kty: 'EC', kid: 'k1', d: 'x' } };
const discovered: DiscoveredProvider = {
  issuer: 'http://127.0.0.1:4000',
  tokenEndpoint: 'http://127.0.0.1:4000/token',
  capabilities: { registration: true, management: true, revokeClientGrants: true, revokeSubjectGrants: true, tokenLifetimes: true, multipleSecrets: false, jwks: true, disableClient: true },
};

function live(agent: AgentClient = agentClient()): AgentClient {
  return { ...agent, metadata: { ...agent.metadata, finalizers: [FINALIZER] } };
}

const registered: RegistrationRecord = {
  uid: 'u', namespace: 'team-a', name: 'billing-agent', softwareId: SOFTWARE_ID, key,
  clientId: 'c1', registrationClientUri: 'http://idp/reg/c1', registrationAccessToken: 'rat', issuer: discovered.issuer,
  tokenEndpoint: discovered.tokenEndpoint, registeredAt: '2025-12-31T00:00:00Z', registeredScope: 'invoices:read',
};

const unmanaged: RegistrationRecord = { ...registered, registrationClientUri: undefined, registrationAccessToken: undefined };

function reg(clientId: string, softwareId = SOFTWARE_ID, extra: Partial<Registration> = {}): Registration {
  return {
    handle: { clientId, registrationClientUri: `http://idp/reg/${clientId}`, registrationAccessToken: `t-${clientId}` },
    metadata: { client_name: 'x', grant_types: [], redirect_uris: [], scope: '', token_endpoint_auth_method: 'private_key_jwt', software_id: softwareId },
    ...extra,
  };
}

function obs(overrides: Partial<Observation> = {}): Observation {
  return {
    agent: live(),
    now: NOW,
    provider: { found: true, ready: true, discovered },
    record: null,
    secret: { ownership: 'absent', upToDate: false },
    intentSettled: false,
    updated: false,
    resyncPeriodMs: 600_000,
    // ConsentPolicy: no policy, allowed by the flag, so the ceiling is the requested scopes.
    ceiling: evaluateCeiling({ agent: agentView(live()), namespaceLabels: undefined, policies: [], allowNoPolicy: true, tokenLifetimes: true }),
    policyChanged: false,
    ...overrides,
  };
}

const steady = (o: Partial<Observation> = {}): Observation =>
  obs({ record: registered, secret: { ownership: 'owned', upToDate: true }, verifiedGeneration: 1, lastVerifiedAt: NOW - 1000, ...o });

const actionOf = (step: Step): string => ('action' in step ? step.action.type : 'wait' in step ? `wait:${step.wait}` : 'done');

describe('plan: registration', () => {
  it.each<[string, Observation, string]>([
    ['adds the finalizer before anything else', obs({ agent: agentClient() }), 'addFinalizer'],
    ['waits for a missing IdentityProvider', obs({ provider: { found: false, ready: false } }), 'wait:IdentityProviderNotReady'],
    ['writes key and intent before registering', obs(), 'prepareRegistration'],
    ['registers after a fresh intent', obs({ record: { ...registered, clientId: undefined, intent: { op: 'register', at: 'x' } }, intentSettled: true }), 'register'],
    ['searches the IdP for an intent left by a crash', obs({ record: { ...registered, clientId: undefined, intent: { op: 'register', at: 'x' } } }), 'searchRegistrations'],
    ['does not register while a foreign Secret holds the name', obs({ secret: { ownership: 'foreign', upToDate: false } }), 'wait:SecretConflict'],
    ['registers nothing while no scope is allowed', obs({ ceiling: evaluateCeiling({ agent: agentView(live()), namespaceLabels: undefined, policies: [], allowNoPolicy: false, tokenLifetimes: true }) }), 'wait:NoScopesAllowed'],
    ['registers nothing while the Namespace is unknown', obs({ ceiling: evaluateCeiling({ agent: agentView(live()), namespaceLabels: undefined, namespaceKnown: false, policies: [], allowNoPolicy: true, tokenLifetimes: true }) }), 'wait:NoScopesAllowed'],
    ['neither reads nor updates the registration while the Namespace is unknown', steady({ policyChanged: true, lastVerifiedAt: undefined, ceiling: evaluateCeiling({ agent: agentView(live()), namespaceLabels: undefined, namespaceKnown: false, policies: [], allowNoPolicy: true, tokenLifetimes: true }) }), 'done'],
    ['refuses an IdP without DCR', obs({ provider: { found: true, ready: true, discovered: { ...discovered, capabilities: { ...discovered.capabilities, registration: false } } } }), 'wait:RegistrationUnsupported'],
    ['waits after a non-transient failure instead of retrying hot', obs({ blocked: { reason: 'InvalidClientMetadata', message: 'm' } }), 'wait:Blocked'],
    ['is done in steady state (no IdP call, no write)', steady(), 'done'],
    ['recreates a deleted Secret even while the IdP is down', steady({ provider: { found: true, ready: false }, secret: { ownership: 'absent', upToDate: false } }), 'writeSecret'],
    ['never writes a foreign Secret', steady({ secret: { ownership: 'foreign', upToDate: false } }), 'wait:SecretConflict'],
  ])('%s', (_label, observation, expected) => {
    expect(actionOf(plan(observation))).toBe(expected);
  });

  it('sends the first intent together with the finalizer, only for a new agent that would write one next', () => {
    expect(plan(obs({ agent: agentClient() }))).toEqual({ action: { type: 'addFinalizer', withIntent: { keyAlgorithm: 'ES256' } } });
    const secretClient = agentClient({ tokenEndpointAuthMethod: 'client_secret_basic' });
    expect(plan(obs({ agent: secretClient }))).toEqual({ action: { type: 'addFinalizer', withIntent: { keyAlgorithm: null } } });
    // Nothing to prepare yet (provider not ready), or a record already exists (it is read, not overwritten blind).
    expect(plan(obs({ agent: agentClient(), provider: { found: true, ready: false } }))).toEqual({ action: { type: 'addFinalizer' } });
    expect(plan(obs({ agent: agentClient(), record: { ...registered, clientId: undefined, intent: { op: 'register', at: 'x' } } }))).toEqual({ action: { type: 'addFinalizer' } });
  });

  it('generates a key only for private_key_jwt', () => {
    const secretClient = live(agentClient({ tokenEndpointAuthMethod: 'client_secret_basic' }));
    expect(plan(obs())).toEqual({ action: { type: 'prepareRegistration', keyAlgorithm: 'ES256' } });
    expect(plan(obs({ agent: secretClient }))).toEqual({ action: { type: 'prepareRegistration', keyAlgorithm: null } });
  });

  it('after a crash: adopts its own registration, deletes duplicates, ignores other objects', () => {
    const record = { ...registered, clientId: undefined, intent: { op: 'register' as const, at: 'x' } };
    const other = reg('c-other', 'agentidentity.dev/default/team-a/billing-agent/another-uid');
    const step = plan(obs({ record, search: [reg('a', SOFTWARE_ID, { clientIdIssuedAt: 2 }), other, reg('b', SOFTWARE_ID, { clientIdIssuedAt: 1 })] }));
    expect(step).toMatchObject({ action: { type: 'adopt', registration: { handle: { clientId: 'b' } }, extras: [{ handle: { clientId: 'a' } }] } });
    expect(actionOf(plan(obs({ record, search: [other] })))).toBe('register');
    expect(plan(obs({ record, search: null }))).toEqual({ action: { type: 'register', possibleOrphan: true } });
  });

  it('deletes, rather than adopts, a client_secret registration whose secret the IdP does not reveal', () => {
    const agent = live(agentClient({ tokenEndpointAuthMethod: 'client_secret_basic' }));
    const record = { ...registered, key: undefined, clientId: undefined, intent: { op: 'register' as const, at: 'x' } };
    expect(actionOf(plan(obs({ agent, record, search: [reg('a')] })))).toBe('deleteRegistrations');
    expect(actionOf(plan(obs({ agent, record, search: [reg('a', SOFTWARE_ID, { clientSecret: 's' })] })))).toBe('adopt');
  });

  it('prefers the registration that holds our key', () => {
    const a = reg('a', SOFTWARE_ID, { clientIdIssuedAt: 1 });
    const b = reg('b', SOFTWARE_ID, { clientIdIssuedAt: 5, metadata: { ...a.metadata, jwks: { keys: [{ kid: 'k1' }] } } });
    expect(chooseAdoption([a, b], 'k1').registration).toBe(b);
    expect(canHold({ ...a, handle: { ...a.handle, registrationAccessToken: '' } }, 'private_key_jwt')).toBe(false);
  });
});

describe('plan: drift and ownership', () => {
  it.each<[string, Observation, string]>([
    ['reads the registration when the generation moved', steady({ agent: live(agentClient({}, { generation: 2 })) }), 'readRegistration'],
    ['reads on the resync period', steady({ lastVerifiedAt: NOW - 600_000 }), 'readRegistration'],
    ['reads when a ConsentPolicy changed the ceiling or lifetimes', steady({ policyChanged: true }), 'readRegistration'],
    ['updates when the IdP drifted', steady({ remote: { registration: reg('c1') }, drift: ['scope'] }), 'updateRegistration'],
    ['never updates twice in one sync', steady({ remote: { registration: reg('c1') }, drift: ['scope'], updated: true }), 'done'],
    ['re-registers when the registration vanished', steady({ remote: { registration: null } }), 'forgetRegistration'],
    ['never takes over a registration naming another uid', steady({ remote: { registration: reg('c1', 'agentidentity.dev/default/team-a/billing-agent/other') }, drift: ['software_id'] }), 'wait:OwnedByAnotherResource'],
    ['stops when the IdentityProvider points at another issuer', steady({ record: { ...registered, issuer: 'http://elsewhere' } }), 'wait:IdentityProviderChanged'],
    ['never reads periodically with a resync period of 0', steady({ lastVerifiedAt: NOW - 86_400_000, resyncPeriodMs: 0 }), 'done'],
    ['still reads for a spec change with a resync period of 0', steady({ resyncPeriodMs: 0, agent: live(agentClient({}, { generation: 2 })) }), 'readRegistration'],
    ['never reads a registration without an RFC 7592 token', steady({ record: { ...unmanaged }, lastVerifiedAt: NOW - 600_000 }), 'done'],
    ['reports a spec change it cannot apply without RFC 7592', steady({ record: { ...unmanaged }, drift: ['scope'] }), 'wait:RegistrationNotUpdatable'],
    ['leaves a registration without RFC 7592 at deletion', steady({ record: { ...unmanaged }, agent: { ...live(), metadata: { ...live().metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } } }), 'deleteSecret'],
  ])('%s', (_label, observation, expected) => {
    expect(actionOf(plan(observation))).toBe(expected);
  });
});

describe('plan: rotation', () => {
  const annotated = (value: string): AgentClient => live(agentClient({}, { annotations: { [ROTATE_ANNOTATION]: value } }));
  it.each<[string, Observation, string]>([
    ['rotates on a new annotation value', steady({ agent: annotated('r1') }), 'beginRotation'],
    ['does not rotate twice for the same value', steady({ agent: annotated('r1'), record: { ...registered, lastRotationRequest: 'r1' } }), 'done'],
    ['finishes a rotation whose new key was persisted', steady({ record: { ...registered, pendingKey: { ...key, kid: 'k2' }, intent: { op: 'rotate', at: 'x' } } }), 'completeRotation'],
    ['removes the previous key after the overlap', steady({ record: { ...registered, previousKey: { kid: 'k0' }, overlapUntil: '2025-12-31T23:59:59Z' } }), 'endOverlap'],
    ['keeps the previous key during the overlap', steady({ record: { ...registered, previousKey: { kid: 'k0' }, overlapUntil: '2026-01-01T00:00:01Z' } }), 'done'],
    ['rotates on schedule', steady({ rotationPeriodMs: 3_600_000, record: { ...registered, lastRotationTime: '2025-12-31T22:59:59Z' } }), 'beginRotation'],
    ['not before the schedule', steady({ rotationPeriodMs: 3_600_000, record: { ...registered, lastRotationTime: '2025-12-31T23:30:00Z' } }), 'done'],
    ['declines (honestly) for client_secret_basic', steady({ agent: live(agentClient({ tokenEndpointAuthMethod: 'client_secret_basic' }, { annotations: { [ROTATE_ANNOTATION]: 'r' } })) }), 'declineRotation'],
  ])('%s', (_label, observation, expected) => {
    expect(actionOf(plan(observation))).toBe(expected);
  });
});

describe('plan: deletion', () => {
  const deleting = (policy: 'Delete' | 'Orphan', annotations: Record<string, string> = {}): AgentClient =>
    live(agentClient({ deletionPolicy: policy }, { deletionTimestamp: '2026-01-01T00:00:00Z', annotations }));
  it.each<[string, Observation, string]>([
    ['Delete: deletes the registration first', steady({ agent: deleting('Delete') }), 'deleteRegistration'],
    ['Delete: blocked while the IdP is unreachable', steady({ agent: deleting('Delete'), provider: { found: true, ready: false } }), 'wait:DeletionBlocked'],
    ['Delete: escape hatch skips the IdP', steady({ agent: deleting('Delete', { [SKIP_IDP_CLEANUP_ANNOTATION]: 'true' }), provider: { found: false, ready: false } }), 'deleteSecret'],
    ['Delete: then the Secret', steady({ agent: deleting('Delete'), record: { ...registered, clientId: undefined } }), 'deleteSecret'],
    ['then the record', steady({ agent: deleting('Delete'), record: { ...registered, clientId: undefined }, secret: { ownership: 'absent', upToDate: false } }), 'deleteRecord'],
    ['never deletes a foreign Secret', steady({ agent: deleting('Delete'), record: null, secret: { ownership: 'foreign', upToDate: false } }), 'removeFinalizer'],
    ['Orphan: keeps the registration and releases the Secret', steady({ agent: deleting('Orphan') }), 'releaseSecret'],
    ['Orphan: drops the operator-side record', steady({ agent: deleting('Orphan'), secret: { ownership: 'absent', upToDate: false } }), 'deleteRecord'],
    ['Delete: finds registrations of an interrupted attempt', steady({ agent: deleting('Delete'), record: { ...registered, clientId: undefined, intent: { op: 'register', at: 'x' } } }), 'searchRegistrations'],
  ])('%s', (_label, observation, expected) => {
    expect(actionOf(plan(observation))).toBe(expected);
  });
});

describe('plan: properties', () => {
  it('never calls the IdP or writes when the IdentityProvider is not ready, except the Secret and the finalizer', () => {
    const allowed = new Set(['writeSecret', 'addFinalizer', 'wait:IdentityProviderNotReady']);
    fc.assert(
      fc.property(fc.boolean(), fc.constantFrom('absent', 'owned', 'foreign'), fc.boolean(), fc.boolean(), (hasRecord, ownership, upToDate, finalizer) => {
        const agent = finalizer ? live() : agentClient();
        const o = obs({ agent, provider: { found: true, ready: false }, record: hasRecord ? registered : null, secret: { ownership: ownership as 'owned', upToDate } });
        expect(allowed.has(actionOf(plan(o)))).toBe(true);
      }),
    );
  });
});
