import { describe, expect, it } from 'vitest';
import { activeSuspensions, planLift, registrationDeletions } from './suspension.ts';
import { agent, grev, result, withResults } from './testdata.ts';

const coding = agent('coding-agent', 'c-coding', { team: 'dev' });
const reporting = agent('reporting-agent', 'c-reporting', { team: 'bi' });
const suspendCoding = grev({ actions: ['Suspend', 'RevokeGrants'], reason: 'token leak' }, { name: 'incident-1', uid: 'g1' });

describe('activeSuspensions', () => {
  it('holds the targeted AgentClient only', () => {
    expect(activeSuspensions(coding, [suspendCoding])).toEqual([{ name: 'team-a/incident-1', reason: 'token leak', since: '2025-01-01T00:00:00Z' }]);
    expect(activeSuspensions(reporting, [suspendCoding])).toEqual([]);
  });

  it('ignores revocations without Suspend and those of other namespaces', () => {
    const revokeOnly = grev({ actions: ['RevokeGrants'] });
    const elsewhere = grev({ actions: ['Suspend'] }, { namespace: 'team-b' });
    expect(activeSuspensions(coding, [revokeOnly, elsewhere])).toEqual([]);
  });

  it('holds across a GitOps re-apply that drops the selecting label or resets status', () => {
    let g = grev({ actions: ['Suspend'], target: { selector: { matchLabels: { team: 'dev' } } } }, { name: 'by-label', uid: 'g2' });
    g = withResults(g, 'coding-agent', 'c-coding', [result('Suspend')]);
    const reapplied = agent('coding-agent', undefined, { team: 'renamed' });
    expect(activeSuspensions(reapplied, [g]).map((h) => h.name)).toEqual(['team-a/by-label']);
  });

  it('holds while terminating until the finalizer is gone', () => {
    const terminating = grev({ actions: ['Suspend'] }, { deletionTimestamp: '2025-01-02T00:00:00Z', finalizers: ['agentidentity.dev/suspension'] });
    expect(activeSuspensions(coding, [terminating])).toHaveLength(1);
    const released = { ...terminating, metadata: { ...terminating.metadata, finalizers: [] } };
    expect(activeSuspensions(coding, [released])).toEqual([]);
  });

  it('lists several holds sorted by name', () => {
    const other = grev({ actions: ['Suspend'], reason: 'second' }, { name: 'a-first', uid: 'g3' });
    expect(activeSuspensions(coding, [suspendCoding, other]).map((h) => h.name)).toEqual(['team-a/a-first', 'team-a/incident-1']);
  });
});

describe('registrationDeletions', () => {
  it('holds once the delete succeeded, not before', () => {
    const g = grev({ actions: ['DeleteRegistration'], target: { clientId: 'c-coding' } });
    expect(registrationDeletions(coding, [g])).toEqual([]);
    const done = withResults(g, 'coding-agent', 'c-coding', [result('DeleteRegistration')]);
    // The AgentClient controller may clear status.clientId after the delete: still held.
    expect(registrationDeletions(agent('coding-agent', undefined), [done])).toHaveLength(1);
  });
});

describe('planLift', () => {
  it('re-enables what this revocation suspended unless another still holds it', () => {
    const lifting = withResults(suspendCoding, 'coding-agent', 'c-coding', [result('Suspend')]);
    expect(planLift(lifting, [coding, reporting], [lifting])).toEqual([{ agentClient: coding, clientId: 'c-coding', stillHeldBy: [], outcomeUnknown: false }]);
    const other = grev({ actions: ['Suspend'] }, { name: 'incident-2', uid: 'g9' });
    expect(planLift(lifting, [coding], [lifting, other])[0]?.stillHeldBy.map((h) => h.name)).toEqual(['team-a/incident-2']);
  });

  it('skips targets never suspended, unregistered or gone', () => {
    let lifting = withResults(suspendCoding, 'coding-agent', 'c-coding', [result('Suspend', 'Unsupported')]);
    lifting = withResults(lifting, 'new-agent', undefined, [result('Suspend')]);
    lifting = withResults(lifting, 'deleted-agent', 'c-gone', [result('Suspend')]);
    expect(planLift(lifting, [coding, agent('new-agent', undefined)], [lifting])).toEqual([]);
  });

  it('re-enables a target whose Suspend result is not on the copy it plans from (written after the delete, or lost in a crash)', () => {
    // The cached copy of a GrantRevocation deleted right after it was applied: no status yet,
    // although the Suspend may already have disabled the client at the IdP.
    const deleting = grev({ actions: ['Suspend'], target: { selector: { matchLabels: { team: 'dev' } } } }, { uid: 'g4', finalizers: ['agentidentity.dev/suspension'] });
    expect(planLift(deleting, [coding, reporting], [deleting])).toEqual([{ agentClient: coding, clientId: 'c-coding', stillHeldBy: [], outcomeUnknown: true }]);
    const other = grev({ actions: ['Suspend'] }, { name: 'incident-2', uid: 'g9' });
    expect(planLift(deleting, [coding], [deleting, other])[0]?.stillHeldBy.map((h) => h.name)).toEqual(['team-a/incident-2']);
    // Never for a revocation without Suspend, nor a target with no registration.
    expect(planLift(grev({ actions: ['RevokeGrants'] }, { uid: 'g5' }), [coding], [])).toEqual([]);
    expect(planLift(deleting, [agent('coding-agent', undefined, { team: 'dev' })], [deleting])).toEqual([]);
  });
});
