import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeTarget, orderedActions, planSteps, resolveTargets, tally } from './plan.ts';
import { agent, grev, NS, result, withResults } from './testdata.ts';
import type { RevocationAction } from './types.ts';

const never = { suspensionAsserted: () => false };
const always = { suspensionAsserted: () => true };
const names = (list: { metadata: { name: string } }[]) => list.map((a) => a.metadata.name);

const coding = agent('coding-agent', 'c-coding', { team: 'dev', tier: 'gold' });
const reporting = agent('reporting-agent', 'c-reporting', { team: 'bi' });
const unregistered = agent('new-agent', undefined, { team: 'dev' });
const otherNs = agent('coding-agent', 'c-other', { team: 'dev' }, { namespace: 'team-b', uid: 'uid-b' });
const all = [reporting, coding, unregistered, otherNs];

describe('resolveTargets', () => {
  it.each([
    ['by name', { agentClientName: 'coding-agent' }, ['coding-agent']],
    ['by client_id', { clientId: 'c-reporting' }, ['reporting-agent']],
    ['by matchLabels', { selector: { matchLabels: { team: 'dev' } } }, ['coding-agent', 'new-agent']],
    ['by matchExpressions', { selector: { matchExpressions: [{ key: 'tier', operator: 'Exists' }] } }, ['coding-agent']],
    ['empty selector is everything in the namespace', { selector: {} }, ['coding-agent', 'new-agent', 'reporting-agent']],
  ])('%s', (_label, target, expected) => {
    const res = resolveTargets(grev({ target }), all);
    expect(res.problem).toBeUndefined();
    expect(names(res.targets)).toEqual(expected);
  });

  it('never reaches another namespace, even by client_id', () => {
    const res = resolveTargets(grev({ target: { clientId: 'c-other' } }), all);
    expect(res.targets).toEqual([]);
    expect(res.problem).toEqual({ reason: 'TargetNotFound', message: `client_id c-other matches no AgentClient in namespace ${NS}` });
  });

  it('reports a missing name as TargetNotFound', () => {
    expect(resolveTargets(grev({ target: { agentClientName: 'ghost' } }), all).problem?.reason).toBe('TargetNotFound');
  });

  it.each([
    ['two kinds', { agentClientName: 'a', clientId: 'b' }],
    ['no kind', {}],
    ['bad selector', { selector: { matchExpressions: [{ key: 'team', operator: 'In' }] } }],
  ])('rejects an invalid target (%s)', (_label, target) => {
    const res = resolveTargets(grev({ target }), all);
    expect(res.targets).toEqual([]);
    expect(res.problem?.reason).toBe('InvalidTarget');
  });

  it('keeps targets recorded in status after they stop matching (label removed, client_id cleared)', () => {
    let g = grev({ target: { selector: { matchLabels: { team: 'dev' } } } });
    g = withResults(g, 'coding-agent', 'c-coding', [result('RevokeGrants')]);
    const relabelled = agent('coding-agent', undefined, { team: 'escaped' });
    expect(names(resolveTargets(g, [relabelled, reporting]).targets)).toEqual(['coding-agent']);
  });

  it('describes each target kind for messages', () => {
    expect(describeTarget(grev({ target: { selector: { matchLabels: { a: 'b' }, matchExpressions: [{ key: 'c', operator: 'In', values: ['d', 'e'] }] } } }))).toBe('selector a=b,c In (d,e)');
    expect(describeTarget(grev({ target: { selector: {} } }))).toBe('selector (everything)');
  });
});

describe('planSteps', () => {
  it('orders actions for containment first, whatever the spec order', () => {
    const g = grev({ actions: ['DeleteRegistration', 'RevokeGrants', 'RotateCredentials', 'Suspend'] });
    expect(orderedActions(g)).toEqual(['Suspend', 'RevokeGrants', 'RotateCredentials', 'DeleteRegistration']);
    expect(planSteps(g, [coding], never).map((s) => s.action)).toEqual(['Suspend', 'RevokeGrants', 'RotateCredentials', 'DeleteRegistration']);
  });

  it('skips what status records as done, so a crash mid-way resumes', () => {
    let g = grev({ actions: ['RevokeGrants', 'RotateCredentials'] });
    g = withResults(g, 'coding-agent', 'c-coding', [result('RevokeGrants')]);
    expect(planSteps(g, [coding], never).map((s) => s.action)).toEqual(['RotateCredentials']);
  });

  it('treats Failed and Unsupported as terminal (no hot retry of a permanent refusal)', () => {
    let g = grev({ actions: ['RevokeGrants', 'DeleteRegistration'] });
    g = withResults(g, 'coding-agent', 'c-coding', [result('RevokeGrants', 'Unsupported'), result('DeleteRegistration', 'Failed')]);
    expect(planSteps(g, [coding], never)).toEqual([]);
  });

  it('does not redo one-shot actions when the client_id changed (a new registration has no old grants)', () => {
    let g = grev({ actions: ['RevokeGrants', 'RotateCredentials', 'DeleteRegistration'] });
    g = withResults(g, 'coding-agent', 'c-old', [result('RevokeGrants'), result('RotateCredentials'), result('DeleteRegistration')]);
    expect(planSteps(g, [coding], never)).toEqual([]);
  });

  it('re-asserts a held suspension only on change', () => {
    let g = grev({ actions: ['Suspend'] });
    g = withResults(g, 'coding-agent', 'c-coding', [result('Suspend')]);
    expect(planSteps(g, [coding], always)).toEqual([]);
    expect(planSteps(g, [coding], never)).toEqual([{ agentClient: coding, action: 'Suspend', clientId: 'c-coding', reassert: true }]);
    const reRegistered = agent('coding-agent', 'c-new');
    expect(planSteps(g, [reRegistered], always)).toEqual([{ agentClient: reRegistered, action: 'Suspend', clientId: 'c-new', reassert: true }]);
  });

  it('plans unregistered targets too (the executor records that there was nothing at the IdP)', () => {
    expect(planSteps(grev(), [unregistered], never)).toEqual([{ agentClient: unregistered, action: 'RevokeGrants', clientId: undefined, reassert: false }]);
  });

  const actionsArb = fc.uniqueArray(fc.constantFrom<RevocationAction>('RevokeGrants', 'RotateCredentials', 'Suspend', 'DeleteRegistration'), { minLength: 1, maxLength: 4 });
  const outcomeArb = fc.option(fc.constantFrom('Succeeded' as const, 'Failed' as const, 'Unsupported' as const), { nil: undefined });

  it('property: steps + terminal results always cover every requested pair exactly once (asserted suspensions)', () => {
    fc.assert(
      fc.property(actionsArb, fc.array(outcomeArb, { minLength: 4, maxLength: 4 }), (actions, outcomes) => {
        let g = grev({ actions });
        const recorded = actions.flatMap((a, i) => (outcomes[i] ? [result(a, outcomes[i])] : []));
        if (recorded.length) g = withResults(g, 'coding-agent', 'c-coding', recorded);
        const steps = planSteps(g, [coding], always);
        const t = tally(g, [coding]);
        expect(steps.length + t.succeeded + t.failed + t.unsupported).toBe(t.requested);
        expect(t.requested).toBe(actions.length);
        expect(new Set(steps.map((s) => s.action)).size).toBe(steps.length);
      }),
    );
  });
});
