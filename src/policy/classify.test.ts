import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { policiesArb, policyArb, scopeArb } from '../testing/policy-arbitraries.ts';
import { BUILTIN_DEFAULT_CLASS, classifyScope, classifyScopeUnder, compareLevels, DIMENSIONS, isTaskScoped, levelRank, maxLevel } from './classify.ts';
import { policyInput, type ConsentPolicySpec, type PolicyInput } from './types.ts';

const spec: ConsentPolicySpec = {
  scopeClasses: [
    { pattern: 'deployments:*', access: 'write', environment: 'prod' },
    { pattern: '*:write', access: 'write' },
    { pattern: 'code:write', access: 'admin', environment: 'prod', data: 'external' },
    { pattern: 'mail:*', access: 'read', environment: 'nonprod', data: 'external' },
  ],
  defaultClass: { data: 'external' },
};

describe('level order', () => {
  it('ranks read < write < admin, nonprod < prod, internal < external', () => {
    expect(levelRank('access', 'read')).toBeLessThan(levelRank('access', 'write'));
    expect(levelRank('access', 'write')).toBeLessThan(levelRank('access', 'admin'));
    expect(compareLevels('environment', 'nonprod', 'prod')).toBeLessThan(0);
    expect(compareLevels('data', 'external', 'internal')).toBeGreaterThan(0);
    expect(maxLevel('access', 'admin', 'read')).toBe('admin');
    expect(maxLevel('data', 'internal', 'external')).toBe('external');
  });

  it('ranks an unknown level (schema bypassed) above every known one', () => {
    expect(levelRank('access', 'superuser' as 'admin')).toBeGreaterThan(levelRank('access', 'admin'));
  });
});

describe('classifyScope', () => {
  it.each([
    // First matching entry wins, even over a later exact entry.
    ['code:write', { access: 'write', environment: 'nonprod', data: 'external' }],
    ['deployments:trigger', { access: 'write', environment: 'prod', data: 'external' }],
    ['mail:read', { access: 'read', environment: 'nonprod', data: 'external' }],
    // No entry: defaultClass, completed by the built-in default.
    ['code:read', { access: 'read', environment: 'nonprod', data: 'external' }],
  ])('%s', (scope, expected) => {
    expect(classifyScope(scope, spec)).toEqual(expected);
  });

  it('falls back to the built-in {read, nonprod, internal} with no rules and no defaultClass', () => {
    expect(classifyScope('anything', {})).toEqual(BUILTIN_DEFAULT_CLASS);
    expect(classifyScope('anything', { defaultClass: { access: 'admin', environment: 'prod', data: 'external' } })).toEqual({
      access: 'admin',
      environment: 'prod',
      data: 'external',
    });
  });

  it('is deterministic', () => {
    fc.assert(
      fc.property(scopeArb, policyArb, (scope, policy) => {
        expect(classifyScope(scope, structuredClone(policy.spec))).toEqual(classifyScope(scope, policy.spec));
      }),
    );
  });
});

describe('classifyScopeUnder several policies', () => {
  const a: PolicyInput = { name: 'a', spec: { scopeClasses: [{ pattern: 'x', access: 'write' }] } };
  const b: PolicyInput = { name: 'b', spec: { scopeClasses: [{ pattern: 'x', environment: 'prod' }], defaultClass: { access: 'read' } } };

  it('takes the most sensitive level per dimension', () => {
    expect(classifyScopeUnder('x', [a, b])).toEqual({ access: 'write', environment: 'prod', data: 'internal' });
    expect(classifyScopeUnder('x', [])).toEqual(BUILTIN_DEFAULT_CLASS);
  });

  it('is at least every single policy\'s class, and independent of policy order', () => {
    fc.assert(
      fc.property(scopeArb, policiesArb(), (scope, policies) => {
        const combined = classifyScopeUnder(scope, policies);
        expect(classifyScopeUnder(scope, [...policies].reverse())).toEqual(combined);
        for (const p of policies) {
          const own = classifyScope(scope, p.spec);
          for (const d of DIMENSIONS) expect(compareLevels(d, combined[d], own[d])).toBeGreaterThanOrEqual(0);
        }
      }),
    );
  });
});

describe('isTaskScoped', () => {
  it('is true when any matching policy lists a matching task-scoped pattern', () => {
    const policies: PolicyInput[] = [
      { name: 'a', spec: {} },
      { name: 'b', spec: { taskScoped: { scopes: ['deployments:*'] } } },
    ];
    expect(isTaskScoped('deployments:trigger', policies)).toBe(true);
    expect(isTaskScoped('code:read', policies)).toBe(false);
    expect(isTaskScoped('deployments:trigger', [])).toBe(false);
  });
});

describe('policyInput', () => {
  it('takes the name and spec of a ConsentPolicy object as read from the API server', () => {
    const spec = { allowedScopes: ['code:*'] };
    expect(policyInput({ metadata: { name: 'agents' }, spec })).toEqual({ name: 'agents', spec });
  });
});
