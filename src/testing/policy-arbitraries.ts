/**
 * fast-check arbitraries for the ConsentPolicy engine's inputs. Scopes come from a small
 * vocabulary so that generated policies, requests and ceilings overlap often enough for the
 * properties to exercise real intersections, plus arbitrary RFC 6749 tokens for breadth.
 */
import fc from 'fast-check';
import type { AccessLevel, DataLevel, Dimension, EnvironmentLevel, PolicyInput, ScopeClassRule } from '../policy/types.ts';

const RESOURCES = ['code', 'reports', 'deployments', 'data', 'mail'] as const;
const VERBS = ['read', 'write', 'admin', 'trigger', 'review'] as const;

/** A valid RFC 6749 scope-token of 1..12 characters from the whole token alphabet. */
export const anyScopeToken = fc.stringMatching(/^[\x21\x23-\x5B\x5D-\x7E]{1,12}$/);

/** A valid scope, mostly `resource:verb` from a small vocabulary. */
export const scopeArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(fc.constantFrom(...RESOURCES), fc.constantFrom(...VERBS)).map(([r, v]) => `${r}:${v}`) },
  { weight: 1, arbitrary: anyScopeToken },
);

/** A scope pattern: exact, `resource:*`, `*:verb`, `*`, or an arbitrary token. */
export const patternArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: scopeArb },
  { weight: 2, arbitrary: fc.constantFrom(...RESOURCES).map((r) => `${r}:*`) },
  { weight: 1, arbitrary: fc.constantFrom(...VERBS).map((v) => `*:${v}`) },
  { weight: 1, arbitrary: fc.constant('*') },
);

export const accessArb = fc.constantFrom<AccessLevel>('read', 'write', 'admin');
export const environmentArb = fc.constantFrom<EnvironmentLevel>('nonprod', 'prod');
export const dataArb = fc.constantFrom<DataLevel>('internal', 'external');
export const dimensionsArb = fc.subarray<Dimension>(['access', 'environment', 'data']);

const scopeClassRuleArb: fc.Arbitrary<ScopeClassRule> = fc.record(
  { pattern: patternArb, access: accessArb, environment: environmentArb, data: dataArb },
  { requiredKeys: ['pattern'] },
);

/** A ConsentPolicy with a unique-enough name and every optional part sometimes present. */
export const policyArb: fc.Arbitrary<PolicyInput> = fc.record({
  name: fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/),
  spec: fc.record(
    {
      allowedScopes: fc.array(patternArb, { maxLength: 8 }),
      scopeClasses: fc.array(scopeClassRuleArb, { maxLength: 6 }),
      defaultClass: fc.record({ access: accessArb, environment: environmentArb, data: dataArb }, { requiredKeys: [] }),
      consent: fc.record({ deltaConsent: fc.boolean(), fullReconsentOn: dimensionsArb }, { requiredKeys: [] }),
      taskScoped: fc.record(
        {
          scopes: fc.array(patternArb, { maxLength: 3 }),
          accessTokenTTL: fc.constantFrom('1m', '5m', '90s', '10m'),
          singleUseRefresh: fc.boolean(),
          sessionBinding: fc.boolean(),
        },
        { requiredKeys: [] },
      ),
      standing: fc.record(
        { accessTokenTTL: fc.constantFrom('15m', '1h', '2h'), refreshTokenTTL: fc.constantFrom('24h', '720h', '2160h') },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: ['allowedScopes'] },
  ),
});

/** Policies with distinct names (so "the refusing policy" is well defined). */
export const policiesArb = (maxLength = 4, minLength = 0): fc.Arbitrary<PolicyInput[]> =>
  fc.uniqueArray(policyArb, { minLength, maxLength, selector: (p) => p.name });

/** A requested scope list (may contain duplicates). */
export const requestedArb = fc.array(scopeArb, { maxLength: 10 });
