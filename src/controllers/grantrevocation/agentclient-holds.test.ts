/**
 * The AgentClient controller's side of GrantRevocation holds, through its own pure planner and
 * status builder: what a suspension and a deleted registration change, and what they leave alone.
 */
import { describe, expect, it } from 'vitest';
import type { DiscoveredProvider } from '../../idp/adapter.ts';
import { agentView, evaluateCeiling } from '../agentclient/ceiling.ts';
import { FINALIZER, plan } from '../agentclient/plan.ts';
import type { Observation, Step } from '../agentclient/plan.ts';
import type { RegistrationRecord } from '../agentclient/registration-store.ts';
import { buildStatus } from '../agentclient/report.ts';
import { agentClient } from '../agentclient/testdata.ts';
import type { AgentClient } from '../agentclient/types.ts';
import type { RevocationHolds } from './holds.ts';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const discovered: DiscoveredProvider = {
  issuer: 'http://127.0.0.1:4000',
  tokenEndpoint: 'http://127.0.0.1:4000/token',
  capabilities: { registration: true, management: true, revokeClientGrants: true, revokeSubjectGrants: true, tokenLifetimes: true, multipleSecrets: false, jwks: true, disableClient: true },
};
const agent: AgentClient = { ...agentClient(), metadata: { ...agentClient().metadata, finalizers: [FINALIZER] } };
const record: RegistrationRecord = {
  uid: agent.metadata.uid, namespace: 'team-a', name: 'billing-agent', softwareId: 's',
  key: { kid: 'k1', alg: 'ES256', privateJwk: { kty: 'EC', kid: 'k1', d: 'x' } },
  clientId: 'c1', registrationClientUri: 'http://idp/reg/c1', registrationAccessToken: 'rat', issuer: discovered.issuer,
  tokenEndpoint: discovered.tokenEndpoint, registeredAt: '2025-12-31T00:00:00Z', registeredScope: 'invoices:read',
};
const hold = (name: string) => ({ name: `team-a/${name}`, reason: 'incident', since: '2025-12-31T12:00:00Z' });
const none: RevocationHolds = { suspendedBy: [], deletedBy: [] };

function obs(holds: RevocationHolds, overrides: Partial<Observation> = {}): Observation {
  return {
    agent, now: NOW, provider: { found: true, ready: true, discovered }, record,
    secret: { ownership: 'owned', upToDate: true }, intentSettled: false, updated: false, resyncPeriodMs: 600_000,
    verifiedGeneration: 1, lastVerifiedAt: NOW - 1000,
    ceiling: evaluateCeiling({ agent: agentView(agent), namespaceLabels: undefined, policies: [], allowNoPolicy: true, tokenLifetimes: true }),
    policyChanged: false, holds, ...overrides,
  };
}

const stepOf = (step: Step): string => ('action' in step ? step.action.type : 'wait' in step ? `wait:${step.wait}` : 'done');
const cond = (o: Observation, step: Step, type: string) => buildStatus(o, { step }, new Date(NOW)).conditions?.find((c) => c.type === type);

describe('AgentClient planning under GrantRevocation holds', () => {
  it.each([
    ['no hold: steady state', obs(none), 'done'],
    ['suspended: removes its own Secret if it is back', obs({ ...none, suspendedBy: [hold('s')] }), 'deleteSecret'],
    ['suspended: never writes the Secret', obs({ ...none, suspendedBy: [hold('s')] }, { secret: { ownership: 'absent', upToDate: false } }), 'done'],
    ['suspended: leaves a foreign Secret alone', obs({ ...none, suspendedBy: [hold('s')] }, { secret: { ownership: 'foreign', upToDate: false } }), 'wait:SecretConflict'],
    ['suspended: still rotates on request (new key, no Secret)', obs({ ...none, suspendedBy: [hold('s')] }, { secret: { ownership: 'absent', upToDate: false }, agent: { ...agent, metadata: { ...agent.metadata, annotations: { 'agentidentity.dev/rotate': 'revocation:x' } } } }), 'beginRotation'],
    ['registration deleted: no read, no re-registration', obs({ ...none, deletedBy: [hold('d')] }, { lastVerifiedAt: undefined, verifiedGeneration: undefined }), 'wait:DeletedByRevocation'],
    ['registration deleted, record already cleared: still no registration', obs({ ...none, deletedBy: [hold('d')] }, { record: null, secret: { ownership: 'absent', upToDate: false } }), 'wait:DeletedByRevocation'],
  ])('%s', (_label, o, expected) => {
    expect(stepOf(plan(o))).toBe(expected);
  });
});

describe('AgentClient status under GrantRevocation holds', () => {
  it('shows a suspension: Suspended=True, suspendedBy, Ready=False, Stalled', () => {
    const o = obs({ ...none, suspendedBy: [hold('b'), hold('a')].sort((x, y) => x.name.localeCompare(y.name)) }, { secret: { ownership: 'absent', upToDate: false } });
    const status = buildStatus(o, { step: { done: true } }, new Date(NOW));
    expect(status.suspendedBy).toEqual(['team-a/a', 'team-a/b']);
    expect(status.conditions?.find((c) => c.type === 'Suspended')).toMatchObject({ status: 'True', reason: 'SuspendedByRevocation' });
    expect(status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'Suspended' });
    expect(status.conditions?.find((c) => c.type === 'Stalled')?.status).toBe('True');
    expect(status.clientId).toBe('c1');
  });

  it('shows a deleted registration: Registered=False DeletedByRevocation, no client_id', () => {
    const o = obs({ ...none, deletedBy: [hold('d')] });
    const status = buildStatus(o, { step: { wait: 'DeletedByRevocation' } }, new Date(NOW));
    expect(status.conditions?.find((c) => c.type === 'Registered')).toMatchObject({ status: 'False', reason: 'DeletedByRevocation' });
    expect(status.clientId).toBeUndefined();
    expect(status.suspendedBy).toBeUndefined();
  });

  it('says NotSuspended otherwise', () => {
    expect(cond(obs(none), { done: true }, 'Suspended')).toMatchObject({ status: 'False', reason: 'NotSuspended' });
    expect(cond(obs(none), { done: true }, 'Ready')?.status).toBe('True');
  });
});
