import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateLabelSelector, isLabelKey, isLabelValue, policySelects, selectPolicies, validateLabelSelector } from './selectors.ts';
import type { LabelSelector, PolicyInput } from './types.ts';

const labels = { team: 'payments', tier: 'prod', 'agentidentity.dev/kind': 'coding' };

describe('evaluateLabelSelector', () => {
  it.each<[string, LabelSelector | undefined, boolean]>([
    ['absent selects everything', undefined, true],
    ['empty selects everything', {}, true],
    ['matchLabels equal', { matchLabels: { team: 'payments' } }, true],
    ['matchLabels different value', { matchLabels: { team: 'search' } }, false],
    ['matchLabels missing key', { matchLabels: { owner: 'x' } }, false],
    ['matchLabels all must hold', { matchLabels: { team: 'payments', tier: 'dev' } }, false],
    ['In listed', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['dev', 'prod'] }] }, true],
    ['In not listed', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['dev'] }] }, false],
    ['In absent key', { matchExpressions: [{ key: 'owner', operator: 'In', values: ['a'] }] }, false],
    ['NotIn listed', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['prod'] }] }, false],
    ['NotIn not listed', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['dev'] }] }, true],
    ['NotIn absent key matches', { matchExpressions: [{ key: 'owner', operator: 'NotIn', values: ['a'] }] }, true],
    ['Exists present', { matchExpressions: [{ key: 'agentidentity.dev/kind', operator: 'Exists' }] }, true],
    ['Exists absent', { matchExpressions: [{ key: 'owner', operator: 'Exists' }] }, false],
    ['DoesNotExist absent', { matchExpressions: [{ key: 'owner', operator: 'DoesNotExist', values: [] }] }, true],
    ['DoesNotExist present', { matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] }, false],
    [
      'labels AND expressions',
      { matchLabels: { team: 'payments' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['prod'] }] },
      false,
    ],
  ])('%s', (_name, selector, expected) => {
    expect(evaluateLabelSelector(selector, labels)).toEqual({ ok: true, matches: expected });
  });

  it('treats absent labels as an empty label set', () => {
    expect(evaluateLabelSelector({ matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] }, undefined)).toEqual({ ok: true, matches: true });
    expect(evaluateLabelSelector({ matchLabels: { a: 'b' } }, undefined)).toEqual({ ok: true, matches: false });
  });

  it('does not match inherited object properties', () => {
    expect(evaluateLabelSelector({ matchExpressions: [{ key: 'constructor', operator: 'Exists' }] }, {})).toEqual({ ok: true, matches: false });
  });

  it.each<[string, LabelSelector, RegExp]>([
    ['unknown operator', { matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] }, /unknown operator "Gt"/],
    ['In without values', { matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }, /needs at least one value/],
    ['NotIn without values', { matchExpressions: [{ key: 'a', operator: 'NotIn' }] }, /needs at least one value/],
    ['Exists with values', { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }, /takes no values/],
    ['bad key', { matchLabels: { 'bad key': 'x' } }, /invalid label key/],
    ['bad prefix', { matchLabels: { 'Bad_Prefix/x': 'x' } }, /invalid label key/],
    ['bad value', { matchLabels: { a: '-x' } }, /invalid label value/],
    ['bad expression value', { matchExpressions: [{ key: 'a', operator: 'In', values: ['x'.repeat(64)] }] }, /invalid label value/],
  ])('returns an error value for %s instead of throwing', (_name, selector, message) => {
    const result = evaluateLabelSelector(selector, labels);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(message);
  });

  it('accepts the key and value forms Kubernetes accepts', () => {
    expect(isLabelKey('app.kubernetes.io/managed-by')).toBe(true);
    expect(isLabelKey('a')).toBe(true);
    expect(isLabelKey('x'.repeat(64))).toBe(false);
    expect(isLabelKey('/a')).toBe(false);
    expect(isLabelValue('')).toBe(true);
    expect(isLabelValue('A-1.b_2')).toBe(true);
    expect(validateLabelSelector(undefined)).toBeUndefined();
  });

  const labelName = fc.stringMatching(/^[a-z]([a-z0-9]{0,3})$/);
  const labelSet = fc.dictionary(labelName, labelName, { maxKeys: 5 });

  it('matchLabels selects exactly the label sets that contain it', () => {
    fc.assert(
      fc.property(labelSet, labelSet, (wanted, actual) => {
        const contains = Object.entries(wanted).every(([k, v]) => actual[k] === v);
        expect(evaluateLabelSelector({ matchLabels: wanted }, actual)).toEqual({ ok: true, matches: contains });
      }),
    );
  });

  it('NotIn is the negation of In, and DoesNotExist of Exists', () => {
    fc.assert(
      fc.property(labelSet, labelName, fc.array(labelName, { minLength: 1, maxLength: 3 }), (actual, key, values) => {
        const eval1 = (operator: string, vs?: string[]): boolean => {
          const r = evaluateLabelSelector({ matchExpressions: [{ key, operator, ...(vs ? { values: vs } : {}) }] }, actual);
          if (!r.ok) throw new Error(r.error);
          return r.matches;
        };
        expect(eval1('NotIn', values)).toBe(!eval1('In', values));
        expect(eval1('DoesNotExist')).toBe(!eval1('Exists'));
      }),
    );
  });
});

const policy = (name: string, spec: PolicyInput['spec'] = {}): PolicyInput => ({ name, spec });

describe('policySelects / selectPolicies', () => {
  const target = { labels: { agent: 'coder' }, namespaceLabels: { env: 'prod' } };

  it('needs both the namespace selector and the selector to match', () => {
    expect(policySelects(policy('all'), target)).toEqual({ ok: true, matches: true });
    expect(policySelects(policy('ns', { namespaceSelector: { matchLabels: { env: 'prod' } } }), target)).toEqual({ ok: true, matches: true });
    expect(policySelects(policy('ns', { namespaceSelector: { matchLabels: { env: 'dev' } } }), target)).toEqual({ ok: true, matches: false });
    expect(
      policySelects(policy('both', { namespaceSelector: { matchLabels: { env: 'prod' } }, selector: { matchLabels: { agent: 'reporter' } } }), target),
    ).toEqual({ ok: true, matches: false });
  });

  it('gives a definite "no" when the other selector already excludes, an error otherwise', () => {
    const bad = { matchExpressions: [{ key: 'x', operator: 'Bogus' }] };
    expect(policySelects(policy('p', { namespaceSelector: { matchLabels: { env: 'dev' } }, selector: bad }), target)).toEqual({ ok: true, matches: false });
    expect(policySelects(policy('p', { namespaceSelector: bad, selector: { matchLabels: { agent: 'other' } } }), target)).toEqual({ ok: true, matches: false });
    const err = policySelects(policy('p', { selector: bad }), target);
    expect(err).toEqual({ ok: false, error: expect.stringMatching(/^spec\.selector: .*Bogus/) as unknown });
    const nsErr = policySelects(policy('p', { namespaceSelector: bad }), target);
    expect(nsErr).toEqual({ ok: false, error: expect.stringMatching(/^spec\.namespaceSelector: /) as unknown });
  });

  it('returns matching and invalid policies sorted by name, whatever the input order', () => {
    const policies = [
      policy('zeta'),
      policy('broken', { selector: { matchExpressions: [{ key: 'a', operator: 'In' }] } }),
      policy('alpha', { selector: { matchLabels: { agent: 'coder' } } }),
      policy('other', { selector: { matchLabels: { agent: 'reporter' } } }),
    ];
    const selection = selectPolicies(policies, target);
    expect(selection.matching.map((p) => p.name)).toEqual(['alpha', 'zeta']);
    expect(selection.invalid).toEqual([{ policy: 'broken', error: expect.stringContaining('needs at least one value') as unknown }]);
    expect(selectPolicies([...policies].reverse(), target)).toEqual(selection);
  });
});
