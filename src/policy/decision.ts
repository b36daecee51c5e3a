/**
 * What a change of an AgentClient's ceiling means for the consent users already gave: the
 * decision recorded in `status.ceilingHistory` and the grant revocations it requires.
 *
 * Rules (DESIGN.md "The problem", point 3; API.md ConsentPolicy `consent`):
 * - no previous ceiling, or an empty one (no consent can exist on it): `Initial`;
 * - same set: `None` (nothing to record, nothing to revoke);
 * - scopes only removed, whatever the cause (a policy change or an edit of `spec.scopes`):
 *   `PolicyNarrowed`. The ceiling narrowed, so grants holding a removed scope are revoked and
 *   others are kept. The history entry's `policy` field (set only when a policy caused it) and
 *   `generation` tell the two causes apart; one decision name per grant action keeps the record
 *   and the controller simple;
 * - scopes added (maybe some removed too): `FullReconsent` when delta consent is off in any
 *   matching policy, or when an added scope is more sensitive, along a dimension some matching
 *   policy lists in `consent.fullReconsentOn`, than every scope of the previous ceiling (the tier
 *   already held). All existing grants of the client are then revoked. Otherwise `Delta`:
 *   existing grants are kept, except those holding a removed scope.
 *
 * Classes are computed under the current matching policies for both old and new scopes (a
 * reclassification takes effect at once); most restrictive wins across policies.
 */
import { classifyScopeUnder, DIMENSIONS, levelRank, maxLevel } from './classify.ts';
import { differenceScopes, normalizeScopes } from './scopes.ts';
import { compareNames } from './selectors.ts';
import type { Dimension, PolicyInput, ScopeClass } from './types.ts';

/** A recorded decision (`status.ceilingHistory[].decision`), or `None` when nothing changed. */
export type CeilingDecision = 'Initial' | 'Delta' | 'FullReconsent' | 'PolicyNarrowed' | 'None';

/** What changed the ceiling: the AgentClient's spec or a ConsentPolicy. */
export type CeilingChangeCause = 'spec' | 'policy';

/** One sensitivity boundary an added scope crosses. Levels are names such as `read` or `prod`. */
export interface CrossedBoundary {
  scope: string;
  dimension: Dimension;
  /** Highest level of this dimension in the previous ceiling. */
  from: string;
  /** The added scope's level. */
  to: string;
}

/** Input of {@link decideCeilingChange}. */
export interface CeilingChangeInput {
  /** The ceiling registered so far (`status.grantedScopes`); undefined before the first one. */
  previous: readonly string[] | undefined;
  /** The new effective ceiling (`effectiveCeiling(...).granted`). */
  next: readonly string[];
  /** The ConsentPolicies that select the AgentClient now. */
  policies: readonly PolicyInput[];
  cause: CeilingChangeCause;
}

/** The decision and what it requires. Scope lists are sorted. */
export interface CeilingChange {
  decision: CeilingDecision;
  added: string[];
  removed: string[];
  /** Boundaries crossed by added scopes along dimensions that force full re-consent. */
  crossed: CrossedBoundary[];
  /** Revoke every grant of the client at the IdP (FullReconsent only). */
  revokeExistingGrants: boolean;
  /** Revoke the grants holding any of these scopes (always `removed`; superseded by the above). */
  revokeScopes: string[];
  /** For FullReconsent: the first policy (by name) whose consent rules forced it. */
  policy?: string;
  /** One human sentence for Events and conditions (scope names only, nothing secret). */
  message: string;
}

const LOWEST_TIER: Readonly<ScopeClass> = { access: 'read', environment: 'nonprod', data: 'internal' };

/** The dimensions any matching policy names in `consent.fullReconsentOn` (default all three). */
export function fullReconsentDimensions(policies: readonly PolicyInput[]): Dimension[] {
  const named = new Set<Dimension>(policies.length === 0 ? DIMENSIONS : []);
  for (const p of policies) for (const d of p.spec.consent?.fullReconsentOn ?? DIMENSIONS) named.add(d);
  return DIMENSIONS.filter((d) => named.has(d));
}

/** Whether delta consent is allowed: only if no matching policy turns it off (default on). */
export function deltaConsentAllowed(policies: readonly PolicyInput[]): boolean {
  return policies.every((p) => p.spec.consent?.deltaConsent ?? true);
}

/** Decides what a ceiling change means for existing consent; see the module comment for the rules. */
export function decideCeilingChange(input: CeilingChangeInput): CeilingChange {
  const next = normalizeScopes(input.next);
  if (input.previous === undefined || input.previous.length === 0) {
    return result('Initial', next, [], [], `initial ceiling: ${list(next)}`);
  }
  const added = differenceScopes(next, input.previous);
  const removed = differenceScopes(input.previous, next);
  if (added.length === 0 && removed.length === 0) return result('None', [], [], [], 'ceiling unchanged');
  if (added.length === 0) {
    const by = input.cause === 'policy' ? 'policy' : 'spec';
    return result('PolicyNarrowed', [], removed, [], `ceiling narrowed by ${by}: removed ${list(removed)}`);
  }
  const policies = [...input.policies].sort((a, b) => compareNames(a.name, b.name));
  const crossed = crossedBoundaries(normalizeScopes(input.previous), added, policies);
  if (!deltaConsentAllowed(policies)) {
    const policy = policies.find((p) => p.spec.consent?.deltaConsent === false)?.name;
    return withPolicy(result('FullReconsent', added, removed, crossed, `delta consent disabled by ${policy}`), policy);
  }
  if (crossed.length > 0) {
    const dims = new Set(crossed.map((c) => c.dimension));
    const policy = policies.find((p) => (p.spec.consent?.fullReconsentOn ?? DIMENSIONS).some((d) => dims.has(d)))?.name;
    const what = crossed.map((c) => `${c.scope} ${c.dimension} ${c.from}->${c.to}`).join(', ');
    return withPolicy(result('FullReconsent', added, removed, crossed, `boundary crossed: ${what}`), policy);
  }
  const suffix = removed.length > 0 ? `; removed ${list(removed)}` : '';
  return result('Delta', added, removed, [], `same-tier addition: ${list(added)}${suffix}`);
}

/**
 * The boundaries `added` scopes cross relative to the tier held by `previous` (the highest level
 * per dimension), along the dimensions that force full re-consent. Sorted by scope, then
 * dimension order.
 */
export function crossedBoundaries(
  previous: readonly string[],
  added: readonly string[],
  policies: readonly PolicyInput[],
): CrossedBoundary[] {
  const dimensions = fullReconsentDimensions(policies);
  const held = heldTier(previous, policies);
  const crossed: CrossedBoundary[] = [];
  for (const scope of normalizeScopes(added)) {
    const cls = classifyScopeUnder(scope, policies);
    for (const d of dimensions) {
      if (levelRank(d, cls[d]) > levelRank(d, held[d])) crossed.push({ scope, dimension: d, from: held[d], to: cls[d] });
    }
  }
  return crossed;
}

/** The highest level per dimension among `scopes` (the lowest levels for an empty set). */
export function heldTier(scopes: readonly string[], policies: readonly PolicyInput[]): ScopeClass {
  const tier: ScopeClass = { ...LOWEST_TIER };
  for (const scope of scopes) {
    const cls = classifyScopeUnder(scope, policies);
    tier.access = maxLevel('access', tier.access, cls.access);
    tier.environment = maxLevel('environment', tier.environment, cls.environment);
    tier.data = maxLevel('data', tier.data, cls.data);
  }
  return tier;
}

function result(
  decision: CeilingDecision,
  added: string[],
  removed: string[],
  crossed: CrossedBoundary[],
  message: string,
): CeilingChange {
  return {
    decision,
    added,
    removed,
    crossed,
    revokeExistingGrants: decision === 'FullReconsent',
    revokeScopes: removed,
    message,
  };
}

function withPolicy(change: CeilingChange, policy: string | undefined): CeilingChange {
  return policy === undefined ? change : { ...change, policy };
}

function list(scopes: readonly string[]): string {
  return scopes.length === 0 ? '(none)' : scopes.join(' ');
}
