import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { phaseOf, readyState, recordResult, requestedByOf, setCondition, summarize } from './status.ts';
import type { ReadyInput } from './status.ts';
import { grev, result } from './testdata.ts';
import type { Condition } from './types.ts';

const T0 = '2025-01-01T00:00:00Z';
const T1 = '2025-01-01T00:00:05Z';
const base: ReadyInput = { tally: { requested: 2, succeeded: 0, failed: 0, unsupported: 0 }, remaining: 2, holdsSuspension: false };

describe('readyState and phaseOf', () => {
  const cases: [string, ReadyInput, string, string][] = [
    ['work remaining', base, 'InProgress', 'InProgress'],
    ['all done', { ...base, remaining: 0, tally: { ...base.tally, succeeded: 2 } }, 'Completed', 'Completed'],
    ['IdP down mid-way', { ...base, remaining: 1, tally: { ...base.tally, succeeded: 1 }, waiting: { reason: 'IdpUnavailable', message: 'ServerError: 503' } }, 'IdpUnavailable', 'InProgress'],
    ['IdentityProvider not ready', { ...base, waiting: { reason: 'IdentityProviderNotReady', message: 'IdentityProvider dev is not Ready' } }, 'IdentityProviderNotReady', 'InProgress'],
    // Not terminal: the AgentClient may be applied after the revocation, or the cache may lag.
    ['target missing', { ...base, problem: { reason: 'TargetNotFound', message: 'x' } }, 'TargetNotFound', 'InProgress'],
    ['invalid target', { ...base, problem: { reason: 'InvalidTarget', message: 'x' } }, 'InvalidTarget', 'Failed'],
    ['partly unsupported', { ...base, remaining: 0, tally: { ...base.tally, succeeded: 1, unsupported: 1 } }, 'Unsupported', 'Failed'],
    ['permanent failure', { ...base, remaining: 0, tally: { ...base.tally, succeeded: 1, failed: 1 } }, 'ActionFailed', 'Failed'],
    // Unsupported on one target must not hide that another is still retrying.
    ['unsupported while another retries', { ...base, remaining: 1, tally: { ...base.tally, unsupported: 1 }, waiting: { reason: 'IdpUnavailable', message: 'm' } }, 'IdpUnavailable', 'InProgress'],
  ];
  it.each(cases)('%s', (_label, input, reason, phase) => {
    const ready = readyState(input);
    expect(ready.reason).toBe(reason);
    const conditions = setCondition([], { type: 'Ready', status: ready.status, reason: ready.reason, message: ready.message }, T0);
    expect(phaseOf(conditions)).toBe(phase);
  });

  it('is Pending before any evaluation', () => {
    expect(phaseOf(undefined)).toBe('Pending');
    expect(phaseOf([{ type: 'Ready', status: 'Unknown', reason: 'Pending', message: '', lastTransitionTime: T0 }])).toBe('Pending');
  });

  it('says a held suspension lasts until deletion', () => {
    expect(readyState({ ...base, remaining: 0, tally: { ...base.tally, succeeded: 2 }, holdsSuspension: true }).message).toMatch(/held until this GrantRevocation is deleted/);
  });

  it('property: Completed only when every requested action succeeded and nothing remains', () => {
    fc.assert(
      fc.property(fc.nat(5), fc.nat(5), fc.nat(5), fc.nat(5), fc.boolean(), (succeeded, failed, unsupported, remaining, waiting) => {
        const requested = succeeded + failed + unsupported + remaining;
        const ready = readyState({
          tally: { requested, succeeded, failed, unsupported },
          remaining,
          holdsSuspension: false,
          ...(waiting ? { waiting: { reason: 'IdpUnavailable' as const, message: 'm' } } : {}),
        });
        const completed = ready.status === 'True';
        expect(completed).toBe(remaining === 0 && failed === 0 && unsupported === 0 && !waiting);
      }),
    );
  });
});

describe('setCondition', () => {
  it('moves lastTransitionTime only when status changes', () => {
    const a = setCondition([], { type: 'Ready', status: 'False', reason: 'InProgress', message: 'a' }, T0);
    const b = setCondition(a, { type: 'Ready', status: 'False', reason: 'IdpUnavailable', message: 'b' }, T1);
    expect(b[0]?.lastTransitionTime).toBe(T0);
    const c = setCondition(b, { type: 'Ready', status: 'True', reason: 'Completed', message: 'c' }, T1);
    expect(c[0]?.lastTransitionTime).toBe(T1);
    expect(c).toHaveLength(1);
  });
});

describe('recordResult', () => {
  it('replaces an action result per target and keeps targets sorted', () => {
    let s = recordResult(undefined, 'b-agent', 'cb', result('RevokeGrants'));
    s = recordResult(s, 'a-agent', 'ca', result('Suspend'));
    s = recordResult(s, 'b-agent', 'cb2', { ...result('RevokeGrants'), grantsRevoked: 3 });
    expect(s.targets?.map((t) => t.agentClient)).toEqual(['a-agent', 'b-agent']);
    expect(s.targets?.[1]).toEqual({ agentClient: 'b-agent', clientId: 'cb2', results: [{ ...result('RevokeGrants'), grantsRevoked: 3 }] });
  });
});

describe('summarize', () => {
  const ready = (status: 'True' | 'False', reason: 'Completed' | 'InProgress') => ({ status, reason, message: 'm' });
  it('stamps start time once and completion time when terminal, clearing it when work reappears', () => {
    const g = grev({}, { generation: 1 });
    const s1 = summarize(undefined, { grev: g, ready: ready('False', 'InProgress'), now: T0 });
    expect(s1).toMatchObject({ phase: 'InProgress', startTime: T0, observedGeneration: 1 });
    expect(s1.completionTime).toBeUndefined();
    const s2 = summarize(s1, { grev: g, ready: ready('True', 'Completed'), now: T1 });
    expect(s2).toMatchObject({ phase: 'Completed', startTime: T0, completionTime: T1 });
    const s3 = summarize(s2, { grev: g, ready: ready('True', 'Completed'), now: '2025-01-02T00:00:00Z' });
    expect(s3.completionTime).toBe(T1);
    const s4 = summarize(s3, { grev: g, ready: ready('False', 'InProgress'), now: T1 });
    expect(s4.completionTime).toBeUndefined();
    expect((s4.conditions as Condition[])[0]?.observedGeneration).toBe(1);
    expect(s2.conditions?.find((c) => c.type === 'Complete')?.status).toBe('True');
    expect(s4.conditions?.find((c) => c.type === 'Complete')?.status).toBe('False');
  });
});

describe('requestedByOf', () => {
  it('reads the admission stamp', () => {
    const g = grev({}, { annotations: { 'agentidentity.dev/requested-by': 'alice@example.com', 'agentidentity.dev/requested-by-uid': 'u-1', 'agentidentity.dev/requested-by-groups': 'oncall,system:authenticated' } });
    expect(requestedByOf(g)).toEqual({ username: 'alice@example.com', uid: 'u-1', groups: ['oncall', 'system:authenticated'] });
  });
  it('never guesses without it', () => {
    const g = grev({}, { managedFields: [{ manager: 'kubectl-client-side-apply' }] } as never);
    expect(requestedByOf(g)).toEqual({ username: 'unknown (no admission stamp)' });
  });
});
