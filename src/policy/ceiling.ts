/**
 * The effective scope ceiling of an AgentClient (the most it can ever obtain, whatever a user
 * approves) and its token lifetimes, from the ConsentPolicies that select it. Several matching
 * policies intersect: most restrictive wins. No matching policy means nothing is allowed unless
 * the operator runs with the "allow without policy" flag.
 */
import { isTaskScoped } from './classify.ts';
import { parseDuration } from '../api/duration.ts';
import { isScopeToken, matchesAnyPattern, normalizeScopes, compareScopes } from './scopes.ts';
import { compareNames } from './selectors.ts';
import type { PolicyInput } from './types.ts';

/** Why a requested scope is not in the ceiling (`status.deniedScopes[].reason`). */
export type DenialReason = 'InvalidScope' | 'NoMatchingPolicy' | 'NotAllowedByPolicy';

/** One `status.deniedScopes` entry. `policy` is set for NotAllowedByPolicy only. */
export interface DeniedScope {
  scope: string;
  reason: DenialReason;
  policy?: string;
}

/** Input of {@link effectiveCeiling}. */
export interface CeilingInput {
  /** `spec.scopes` of the AgentClient. */
  requested: readonly string[];
  /** The ConsentPolicies that select it (see `selectPolicies`), in any order. */
  policies: readonly PolicyInput[];
  /** Operator flag: with no matching policy, grant every valid requested scope. Default false. */
  allowNoPolicy?: boolean;
}

/** The effective ceiling. Every list is sorted and de-duplicated. */
export interface Ceiling {
  /** Scopes to register at the IdP (`status.grantedScopes`). */
  granted: string[];
  /** Requested scopes left out, with the reason (`status.deniedScopes`), sorted by scope. */
  denied: DeniedScope[];
  /** Names of the policies that decided it (`status.policies`). */
  policies: string[];
  /** The granted scopes that any matching policy marks task-scoped (a subset of `granted`). */
  taskScoped: string[];
}

/**
 * Computes the effective ceiling: a requested scope is granted only if it is a valid RFC 6749
 * section 3.3 scope-token and every matching policy's `allowedScopes` has a pattern matching it.
 * A refused scope names the first refusing policy in name order (a stable choice, independent of
 * the order the API server lists policies in). A policy with no `allowedScopes` allows nothing.
 */
export function effectiveCeiling(input: CeilingInput): Ceiling {
  const policies = [...input.policies].sort((a, b) => compareNames(a.name, b.name));
  const granted: string[] = [];
  const denied: DeniedScope[] = [];
  for (const scope of normalizeScopes(input.requested)) {
    if (!isScopeToken(scope)) {
      denied.push({ scope, reason: 'InvalidScope' });
    } else if (policies.length === 0) {
      if (input.allowNoPolicy === true) granted.push(scope);
      else denied.push({ scope, reason: 'NoMatchingPolicy' });
    } else {
      const refusing = policies.find((p) => !matchesAnyPattern(scope, p.spec.allowedScopes ?? []));
      if (refusing === undefined) granted.push(scope);
      else denied.push({ scope, reason: 'NotAllowedByPolicy', policy: refusing.name });
    }
  }
  denied.sort((a, b) => compareScopes(a.scope, b.scope));
  return {
    granted,
    denied,
    policies: [...new Set(policies.map((p) => p.name))],
    taskScoped: granted.filter((s) => isTaskScoped(s, policies)),
  };
}

/** Lifetime defaults from API.md, in milliseconds. */
export const DEFAULT_LIFETIMES = {
  standingAccessTokenTTLMs: 3_600_000,
  standingRefreshTokenTTLMs: 2160 * 3_600_000,
  taskAccessTokenTTLMs: 300_000,
  singleUseRefresh: true,
  sessionBinding: true,
} as const;

/** Token lifetimes and task-scoped rules in force for one AgentClient. Durations in milliseconds. */
export interface EffectiveLifetimes {
  standing: { accessTokenTTLMs: number; refreshTokenTTLMs: number };
  taskScoped: {
    /** Union of every matching policy's task-scoped patterns, sorted. */
    scopes: string[];
    accessTokenTTLMs: number;
    singleUseRefresh: boolean;
    sessionBinding: boolean;
  };
  /** Duration fields that could not be parsed (ignored in the minimum; report them). */
  errors: { policy: string; field: string; value: string }[];
}

/**
 * Combines the lifetimes of the matching policies, most restrictive wins: the shortest TTL of
 * each kind (a policy leaving a TTL out contributes the default), the union of task-scoped
 * patterns, and single-use refresh / session binding on when any policy wants them (their
 * default is on, so turning one off takes every matching policy agreeing). With no policy, the
 * defaults. An unparseable duration is ignored in the minimum and listed in `errors`, so the
 * caller can mark that policy not Ready; the CRD schema should have rejected it already.
 */
export function effectiveLifetimes(policies: readonly PolicyInput[]): EffectiveLifetimes {
  const sorted = [...policies].sort((a, b) => compareNames(a.name, b.name));
  const errors: EffectiveLifetimes['errors'] = [];
  const ttl = (policy: PolicyInput, field: string, value: string | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    try {
      return parseDuration(value);
    } catch {
      errors.push({ policy: policy.name, field, value });
      return Number.POSITIVE_INFINITY;
    }
  };
  const d = DEFAULT_LIFETIMES;
  let access = sorted.length === 0 ? d.standingAccessTokenTTLMs : Number.POSITIVE_INFINITY;
  let refresh = sorted.length === 0 ? d.standingRefreshTokenTTLMs : Number.POSITIVE_INFINITY;
  let task = sorted.length === 0 ? d.taskAccessTokenTTLMs : Number.POSITIVE_INFINITY;
  let singleUseRefresh = sorted.length === 0 ? d.singleUseRefresh : false;
  let sessionBinding = sorted.length === 0 ? d.sessionBinding : false;
  const patterns: string[] = [];
  for (const p of sorted) {
    const { standing, taskScoped } = p.spec;
    access = Math.min(access, ttl(p, 'spec.standing.accessTokenTTL', standing?.accessTokenTTL, d.standingAccessTokenTTLMs));
    refresh = Math.min(refresh, ttl(p, 'spec.standing.refreshTokenTTL', standing?.refreshTokenTTL, d.standingRefreshTokenTTLMs));
    task = Math.min(task, ttl(p, 'spec.taskScoped.accessTokenTTL', taskScoped?.accessTokenTTL, d.taskAccessTokenTTLMs));
    singleUseRefresh ||= taskScoped?.singleUseRefresh ?? d.singleUseRefresh;
    sessionBinding ||= taskScoped?.sessionBinding ?? d.sessionBinding;
    patterns.push(...(taskScoped?.scopes ?? []));
  }
  // Every value of a field unparseable: fall back to the default rather than "forever".
  const finite = (v: number, fallback: number): number => (Number.isFinite(v) ? v : fallback);
  return {
    standing: {
      accessTokenTTLMs: finite(access, d.standingAccessTokenTTLMs),
      refreshTokenTTLMs: finite(refresh, d.standingRefreshTokenTTLMs),
    },
    taskScoped: {
      scopes: normalizeScopes(patterns),
      accessTokenTTLMs: finite(task, d.taskAccessTokenTTLMs),
      singleUseRefresh,
      sessionBinding,
    },
    errors,
  };
}
