import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { policiesArb, requestedArb } from '../testing/policy-arbitraries.ts';
import { effectiveCeiling } from './ceiling.ts';
import { crossedBoundaries, decideCeilingChange, deltaConsentAllowed, fullReconsentDimensions, heldTier } from './decision.ts';
import { differenceScopes, normalizeScopes } from './scopes.ts';
import type { PolicyInput } from './types.ts';

// The platform team's policy from the product story.
const agents: PolicyInput = {
  name: 'agents',
  spec: {
    allowedScopes: ['reports:read', 'code:*', 'deployments:trigger'],
    scopeClasses: [
      { pattern: 'deployments:*', access: 'write', environment: 'prod', data: 'internal' },
      { pattern: 'code:write', access: 'write', environment: 'nonprod', data: 'internal' },
      { pattern: 'code:*', access: 'read', environment: 'nonprod', data: 'internal' },
    ],
    consent: { deltaConsent: true, fullReconsentOn: ['access', 'environment'] },
  },
};

describe('the product story', () => {
  it('walks a reporting agent and a coding agent through Initial, FullReconsent, Delta and PolicyNarrowed', () => {
    const policies = [agents];
    const ceilingOf = (requested: string[], ps = policies): string[] => effectiveCeiling({ requested, policies: ps }).granted;

    const reporting = decideCeilingChange({ previous: undefined, next: ceilingOf(['reports:read']), policies, cause: 'spec' });
    expect(reporting).toMatchObject({ decision: 'Initial', added: ['reports:read'], removed: [], revokeExistingGrants: false });

    const coding1 = ceilingOf(['code:read', 'code:write']);
    expect(decideCeilingChange({ previous: undefined, next: coding1, policies, cause: 'spec' })).toMatchObject({
      decision: 'Initial',
      added: ['code:read', 'code:write'],
    });

    // write/prod: same access tier as code:write, but prod crosses the environment boundary.
    const coding2 = ceilingOf(['code:read', 'code:write', 'deployments:trigger']);
    expect(decideCeilingChange({ previous: coding1, next: coding2, policies, cause: 'spec' })).toEqual({
      decision: 'FullReconsent',
      added: ['deployments:trigger'],
      removed: [],
      crossed: [{ scope: 'deployments:trigger', dimension: 'environment', from: 'nonprod', to: 'prod' }],
      revokeExistingGrants: true,
      revokeScopes: [],
      policy: 'agents',
      message: 'boundary crossed: deployments:trigger environment nonprod->prod',
    });

    const coding3 = ceilingOf(['code:read', 'code:write', 'deployments:trigger', 'code:review']);
    expect(decideCeilingChange({ previous: coding2, next: coding3, policies, cause: 'spec' })).toEqual({
      decision: 'Delta',
      added: ['code:review'],
      removed: [],
      crossed: [],
      revokeExistingGrants: false,
      revokeScopes: [],
      message: 'same-tier addition: code:review',
    });

    // The platform team drops code:write from the policy.
    const narrowed: PolicyInput = { ...agents, spec: { ...agents.spec, allowedScopes: ['reports:read', 'code:read', 'code:review', 'deployments:trigger'] } };
    const coding4 = ceilingOf(['code:read', 'code:write', 'deployments:trigger', 'code:review'], [narrowed]);
    expect(coding4).toEqual(['code:read', 'code:review', 'deployments:trigger']);
    expect(decideCeilingChange({ previous: coding3, next: coding4, policies: [narrowed], cause: 'policy' })).toEqual({
      decision: 'PolicyNarrowed',
      added: [],
      removed: ['code:write'],
      crossed: [],
      revokeExistingGrants: false,
      revokeScopes: ['code:write'],
      message: 'ceiling narrowed by policy: removed code:write',
    });
  });
});

describe('decideCeilingChange rules', () => {
  const policies = [agents];

  it('treats an empty previous ceiling as Initial: no consent can exist on it', () => {
    expect(decideCeilingChange({ previous: [], next: ['deployments:trigger'], policies, cause: 'policy' })).toMatchObject({
      decision: 'Initial',
      revokeExistingGrants: false,
      crossed: [],
    });
  });

  it('returns None for the same set in any order', () => {
    expect(decideCeilingChange({ previous: ['b', 'a'], next: ['a', 'b', 'a'], policies, cause: 'spec' })).toMatchObject({
      decision: 'None',
      added: [],
      removed: [],
      revokeScopes: [],
    });
  });

  it('calls a spec-caused removal a narrowing too, revoking grants that hold the removed scopes', () => {
    expect(decideCeilingChange({ previous: ['code:read', 'code:write'], next: ['code:read'], policies, cause: 'spec' })).toMatchObject({
      decision: 'PolicyNarrowed',
      removed: ['code:write'],
      revokeExistingGrants: false,
      revokeScopes: ['code:write'],
      message: 'ceiling narrowed by spec: removed code:write',
    });
  });

  it('makes a non-crossing add+remove a Delta that revokes the removed scopes only', () => {
    expect(decideCeilingChange({ previous: ['code:read', 'code:write'], next: ['code:read', 'code:review'], policies, cause: 'spec' })).toMatchObject({
      decision: 'Delta',
      added: ['code:review'],
      removed: ['code:write'],
      revokeExistingGrants: false,
      revokeScopes: ['code:write'],
    });
  });

  it('makes a crossing add+remove a FullReconsent', () => {
    expect(decideCeilingChange({ previous: ['code:read', 'code:write'], next: ['code:read', 'deployments:trigger'], policies, cause: 'spec' })).toMatchObject({
      decision: 'FullReconsent',
      removed: ['code:write'],
      revokeExistingGrants: true,
    });
  });

  it('measures crossing against the highest level held in any previous scope', () => {
    // read -> write crosses access; with code:write already held it does not.
    expect(decideCeilingChange({ previous: ['code:read'], next: ['code:read', 'code:write'], policies, cause: 'spec' }).decision).toBe('FullReconsent');
    expect(heldTier(['code:read', 'code:write'], policies)).toEqual({ access: 'write', environment: 'nonprod', data: 'internal' });
  });

  it('ignores boundaries the policies do not name in fullReconsentOn', () => {
    const dataOnly: PolicyInput = { name: 'data-only', spec: { ...agents.spec, consent: { fullReconsentOn: ['data'] } } };
    expect(decideCeilingChange({ previous: ['code:read'], next: ['code:read', 'deployments:trigger'], policies: [dataOnly], cause: 'spec' })).toMatchObject({
      decision: 'Delta',
      crossed: [],
    });
  });

  it('unites fullReconsentOn across matching policies (most restrictive wins) and names the deciding policy', () => {
    const dataOnly: PolicyInput = { name: 'a-data', spec: { ...agents.spec, consent: { fullReconsentOn: ['data'] } } };
    const envOnly: PolicyInput = { name: 'b-env', spec: { allowedScopes: ['*'], consent: { fullReconsentOn: ['environment'] } } };
    expect(fullReconsentDimensions([dataOnly, envOnly])).toEqual(['environment', 'data']);
    expect(fullReconsentDimensions([{ name: 'x', spec: {} }])).toEqual(['access', 'environment', 'data']);
    expect(fullReconsentDimensions([{ name: 'x', spec: { consent: { fullReconsentOn: [] } } }])).toEqual([]);
    const change = decideCeilingChange({ previous: ['code:read'], next: ['code:read', 'deployments:trigger'], policies: [envOnly, dataOnly], cause: 'spec' });
    expect(change).toMatchObject({ decision: 'FullReconsent', policy: 'b-env' });
  });

  it('classifies most-restrictively across policies when measuring crossings', () => {
    // Policy b calls every mail scope external; a alone would see no crossing.
    const a: PolicyInput = { name: 'a', spec: { allowedScopes: ['*'] } };
    const b: PolicyInput = { name: 'b', spec: { allowedScopes: ['*'], scopeClasses: [{ pattern: 'mail:*', data: 'external' }] } };
    expect(crossedBoundaries(['code:read'], ['mail:send'], [a])).toEqual([]);
    expect(crossedBoundaries(['code:read'], ['mail:send'], [a, b])).toEqual([{ scope: 'mail:send', dimension: 'data', from: 'internal', to: 'external' }]);
  });

  it('forces FullReconsent on any addition when a matching policy disables delta consent', () => {
    const strict: PolicyInput = { name: 'strict', spec: { allowedScopes: ['*'], consent: { deltaConsent: false } } };
    expect(deltaConsentAllowed([agents, strict])).toBe(false);
    expect(deltaConsentAllowed([])).toBe(true);
    expect(decideCeilingChange({ previous: ['code:read'], next: ['code:read', 'code:review'], policies: [agents, strict], cause: 'spec' })).toMatchObject({
      decision: 'FullReconsent',
      crossed: [],
      revokeExistingGrants: true,
      policy: 'strict',
      message: 'delta consent disabled by strict',
    });
  });

  it('uses all three dimensions and the built-in class with no policy (allowNoPolicy mode)', () => {
    expect(decideCeilingChange({ previous: ['a'], next: ['a', 'b'], policies: [], cause: 'spec' }).decision).toBe('Delta');
  });
});

describe('decideCeilingChange properties', () => {
  const ceilingArb = requestedArb.map(normalizeScopes);
  const causeArb = fc.constantFrom<'spec' | 'policy'>('spec', 'policy');

  it('decides None for identical sets', () => {
    fc.assert(
      fc.property(ceilingArb.filter((c) => c.length > 0), policiesArb(), causeArb, (ceiling, policies, cause) => {
        const change = decideCeilingChange({ previous: [...ceiling].reverse(), next: ceiling, policies, cause });
        expect(change).toMatchObject({ decision: 'None', added: [], removed: [], crossed: [], revokeExistingGrants: false, revokeScopes: [] });
      }),
    );
  });

  it('reports exact deltas, never crossings on a Delta, and revokes in line with the decision', () => {
    fc.assert(
      fc.property(fc.option(ceilingArb, { nil: undefined }), ceilingArb, policiesArb(), causeArb, (previous, next, policies, cause) => {
        const change = decideCeilingChange({ previous, next, policies, cause });
        if (previous === undefined || previous.length === 0) {
          expect(change).toMatchObject({ decision: 'Initial', added: next, removed: [], revokeExistingGrants: false });
          return;
        }
        expect(change.added).toEqual(differenceScopes(next, previous));
        expect(change.removed).toEqual(differenceScopes(previous, next));
        expect(change.revokeScopes).toEqual(change.removed);
        expect(change.revokeExistingGrants).toBe(change.decision === 'FullReconsent');
        if (change.decision === 'Delta') {
          expect(change.crossed).toEqual([]);
          expect(change.added.length).toBeGreaterThan(0);
        }
        if (change.decision === 'PolicyNarrowed') expect(change.added).toEqual([]);
        if (change.crossed.length > 0) expect(change.decision).toBe('FullReconsent');
        // Deterministic and independent of policy order.
        expect(decideCeilingChange({ previous, next, policies: [...policies].reverse(), cause })).toEqual(change);
      }),
    );
  });
});
