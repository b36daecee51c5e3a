import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { policiesArb, policyArb, requestedArb } from '../testing/policy-arbitraries.ts';
import { DEFAULT_LIFETIMES, effectiveCeiling, effectiveLifetimes } from './ceiling.ts';
import { isSubsetOf, matchesAnyPattern, normalizeScopes } from './scopes.ts';
import type { PolicyInput } from './types.ts';

const platform: PolicyInput = { name: 'platform', spec: { allowedScopes: ['code:*', 'reports:read', 'deployments:trigger'] } };
const prodGuard: PolicyInput = { name: 'prod-guard', spec: { allowedScopes: ['code:read', 'reports:*'], taskScoped: { scopes: ['reports:*'] } } };

describe('effectiveCeiling', () => {
  it('grants what every matching policy allows and names the first refusing policy by name', () => {
    const ceiling = effectiveCeiling({
      requested: ['code:write', 'code:read', 'reports:read', 'mail:send', 'bad scope', 'code:read'],
      policies: [platform, prodGuard],
    });
    expect(ceiling).toEqual({
      granted: ['code:read', 'reports:read'],
      denied: [
        { scope: 'bad scope', reason: 'InvalidScope' },
        { scope: 'code:write', reason: 'NotAllowedByPolicy', policy: 'prod-guard' },
        { scope: 'mail:send', reason: 'NotAllowedByPolicy', policy: 'platform' },
      ],
      policies: ['platform', 'prod-guard'],
      taskScoped: ['reports:read'],
    });
  });

  it('denies everything with NoMatchingPolicy when no policy matches (secure by default)', () => {
    expect(effectiveCeiling({ requested: ['code:read', 'x"y'], policies: [] })).toEqual({
      granted: [],
      denied: [
        { scope: 'code:read', reason: 'NoMatchingPolicy' },
        { scope: 'x"y', reason: 'InvalidScope' },
      ],
      policies: [],
      taskScoped: [],
    });
  });

  it('grants every valid scope with no policy when the operator flag allows it', () => {
    const ceiling = effectiveCeiling({ requested: ['b', 'a', 'x y'], policies: [], allowNoPolicy: true });
    expect(ceiling.granted).toEqual(['a', 'b']);
    expect(ceiling.denied).toEqual([{ scope: 'x y', reason: 'InvalidScope' }]);
  });

  it('ignores the flag when a policy matches, and a policy without allowedScopes allows nothing', () => {
    const ceiling = effectiveCeiling({ requested: ['a'], policies: [{ name: 'empty', spec: {} }], allowNoPolicy: true });
    expect(ceiling.granted).toEqual([]);
    expect(ceiling.denied).toEqual([{ scope: 'a', reason: 'NotAllowedByPolicy', policy: 'empty' }]);
  });

  it('never grants more than requested, nor more than any matching policy allows', () => {
    fc.assert(
      fc.property(requestedArb, policiesArb(), fc.boolean(), (requested, policies, allowNoPolicy) => {
        const ceiling = effectiveCeiling({ requested, policies, allowNoPolicy });
        expect(isSubsetOf(ceiling.granted, requested)).toBe(true);
        for (const p of policies) {
          for (const s of ceiling.granted) expect(matchesAnyPattern(s, p.spec.allowedScopes ?? [])).toBe(true);
        }
        // Granted and denied partition the request.
        expect(normalizeScopes([...ceiling.granted, ...ceiling.denied.map((d) => d.scope)])).toEqual(normalizeScopes(requested));
        expect(ceiling.granted.filter((s) => ceiling.denied.some((d) => d.scope === s))).toEqual([]);
        expect(isSubsetOf(ceiling.taskScoped, ceiling.granted)).toBe(true);
      }),
    );
  });

  // From zero policies the step is the designed exception: no policy means nothing is allowed.
  it('never widens when a policy is added to a matching set (monotonic) and does not depend on policy order', () => {
    fc.assert(
      fc.property(requestedArb, policiesArb(3, 1), policyArb, (requested, policies, extra) => {
        fc.pre(!policies.some((p) => p.name === extra.name));
        const before = effectiveCeiling({ requested, policies });
        const after = effectiveCeiling({ requested, policies: [...policies, extra] });
        expect(isSubsetOf(after.granted, before.granted)).toBe(true);
        expect(effectiveCeiling({ requested, policies: [...policies].reverse() })).toEqual(before);
      }),
    );
  });

  it('grants nothing without a policy unless allowNoPolicy', () => {
    fc.assert(
      fc.property(requestedArb, (requested) => {
        expect(effectiveCeiling({ requested, policies: [] }).granted).toEqual([]);
        expect(effectiveCeiling({ requested, policies: [], allowNoPolicy: false }).granted).toEqual([]);
      }),
    );
  });
});

describe('effectiveLifetimes', () => {
  it('uses the API defaults with no policy', () => {
    expect(effectiveLifetimes([])).toEqual({
      standing: { accessTokenTTLMs: 3_600_000, refreshTokenTTLMs: 2160 * 3_600_000 },
      taskScoped: { scopes: [], accessTokenTTLMs: 300_000, singleUseRefresh: true, sessionBinding: true },
      errors: [],
    });
  });

  it('takes the shortest TTLs, the union of task-scoped patterns, and OR of the booleans', () => {
    const a: PolicyInput = {
      name: 'a',
      spec: { standing: { accessTokenTTL: '15m' }, taskScoped: { scopes: ['deploy:*'], singleUseRefresh: false, sessionBinding: false } },
    };
    const b: PolicyInput = {
      name: 'b',
      spec: { standing: { accessTokenTTL: '2h', refreshTokenTTL: '720h' }, taskScoped: { scopes: ['admin:*', 'deploy:*'], accessTokenTTL: '10m', sessionBinding: true, singleUseRefresh: false } },
    };
    expect(effectiveLifetimes([a, b])).toEqual({
      standing: { accessTokenTTLMs: 15 * 60_000, refreshTokenTTLMs: 720 * 3_600_000 },
      // a leaves the task TTL out, so the default 5m applies and is shorter than b's 10m.
      taskScoped: { scopes: ['admin:*', 'deploy:*'], accessTokenTTLMs: 300_000, singleUseRefresh: false, sessionBinding: true },
      errors: [],
    });
  });

  it('keeps session binding and single-use refresh on unless every policy turns them off', () => {
    const off: PolicyInput = { name: 'off', spec: { taskScoped: { singleUseRefresh: false, sessionBinding: false } } };
    expect(effectiveLifetimes([off]).taskScoped).toMatchObject({ singleUseRefresh: false, sessionBinding: false });
    expect(effectiveLifetimes([off, { name: 'quiet', spec: {} }]).taskScoped).toMatchObject({ singleUseRefresh: true, sessionBinding: true });
  });

  it('reports unparseable durations and ignores them in the minimum', () => {
    const bad: PolicyInput = { name: 'bad', spec: { standing: { accessTokenTTL: 'soon' } } };
    const good: PolicyInput = { name: 'good', spec: { standing: { accessTokenTTL: '30m' } } };
    expect(effectiveLifetimes([bad, good]).standing.accessTokenTTLMs).toBe(30 * 60_000);
    expect(effectiveLifetimes([bad]).standing.accessTokenTTLMs).toBe(DEFAULT_LIFETIMES.standingAccessTokenTTLMs);
    expect(effectiveLifetimes([bad, good]).errors).toEqual([{ policy: 'bad', field: 'spec.standing.accessTokenTTL', value: 'soon' }]);
  });

  it('is never longer than any single matching policy would allow, and adding a policy never lengthens', () => {
    fc.assert(
      fc.property(policiesArb(), policyArb, (policies, extra) => {
        const all = effectiveLifetimes(policies);
        for (const p of policies) {
          const own = effectiveLifetimes([p]);
          expect(all.standing.accessTokenTTLMs).toBeLessThanOrEqual(own.standing.accessTokenTTLMs);
          expect(all.standing.refreshTokenTTLMs).toBeLessThanOrEqual(own.standing.refreshTokenTTLMs);
          expect(all.taskScoped.accessTokenTTLMs).toBeLessThanOrEqual(own.taskScoped.accessTokenTTLMs);
          expect(isSubsetOf(own.taskScoped.scopes, all.taskScoped.scopes)).toBe(true);
          if (own.taskScoped.sessionBinding) expect(all.taskScoped.sessionBinding).toBe(true);
        }
        const more = effectiveLifetimes([...policies, extra]);
        if (policies.length > 0) expect(more.standing.refreshTokenTTLMs).toBeLessThanOrEqual(all.standing.refreshTokenTTLMs);
      }),
    );
  });
});
