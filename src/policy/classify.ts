/**
 * Scope sensitivity classification along three dimensions (access, environment, data), the order
 * of levels within each, and the task-scoped check.
 */
import { firstMatchingPattern, matchesAnyPattern } from './scopes.ts';
import type { ConsentPolicySpec, Dimension, PolicyInput, ScopeClass } from './types.ts';

/** Every dimension, in the order used for reports. */
export const DIMENSIONS: readonly Dimension[] = ['access', 'environment', 'data'];

/** The levels of each dimension, least sensitive first: the index is the rank. */
export const LEVELS: { readonly [D in Dimension]: readonly ScopeClass[D][] } = {
  access: ['read', 'write', 'admin'],
  environment: ['nonprod', 'prod'],
  data: ['internal', 'external'],
};

/** The class of a scope no rule and no `defaultClass` covers (API.md). */
export const BUILTIN_DEFAULT_CLASS: Readonly<ScopeClass> = { access: 'read', environment: 'nonprod', data: 'internal' };

/**
 * Rank of a level within its dimension: read=0 < write=1 < admin=2; nonprod=0 < prod=1;
 * internal=0 < external=1. An unknown level (a value the CRD schema should have rejected) ranks
 * above every known one, so a typo is treated as most sensitive rather than least.
 */
export function levelRank<D extends Dimension>(dimension: D, level: ScopeClass[D]): number {
  const rank = (LEVELS[dimension] as readonly string[]).indexOf(level);
  return rank === -1 ? LEVELS[dimension].length : rank;
}

/** Compares two levels of one dimension: negative when `a` is less sensitive than `b`. */
export function compareLevels<D extends Dimension>(dimension: D, a: ScopeClass[D], b: ScopeClass[D]): number {
  return levelRank(dimension, a) - levelRank(dimension, b);
}

/** The more sensitive of two levels of one dimension. */
export function maxLevel<D extends Dimension>(dimension: D, a: ScopeClass[D], b: ScopeClass[D]): ScopeClass[D] {
  return compareLevels(dimension, a, b) >= 0 ? a : b;
}

/**
 * A scope's class under one policy: the first `scopeClasses` entry (list order) whose pattern
 * matches; for each dimension that entry leaves out, `defaultClass`, then the built-in
 * {read, nonprod, internal}. A scope no entry matches gets `defaultClass` (completed likewise).
 */
export function classifyScope(scope: string, spec: ConsentPolicySpec): ScopeClass {
  const rules = spec.scopeClasses ?? [];
  const index = firstMatchingPattern(
    scope,
    rules.map((r) => r.pattern),
  );
  const rule = index === -1 ? undefined : rules[index];
  const fallback = spec.defaultClass ?? {};
  return {
    access: rule?.access ?? fallback.access ?? BUILTIN_DEFAULT_CLASS.access,
    environment: rule?.environment ?? fallback.environment ?? BUILTIN_DEFAULT_CLASS.environment,
    data: rule?.data ?? fallback.data ?? BUILTIN_DEFAULT_CLASS.data,
  };
}

/**
 * A scope's class under several matching policies: per dimension, the most sensitive level any
 * of them assigns (most restrictive wins, so a policy cannot lower another's classification).
 * With no policy, the built-in default.
 */
export function classifyScopeUnder(scope: string, policies: readonly PolicyInput[]): ScopeClass {
  let result: ScopeClass = { ...BUILTIN_DEFAULT_CLASS };
  for (const [i, policy] of policies.entries()) {
    const own = classifyScope(scope, policy.spec);
    result =
      i === 0
        ? own
        : {
            access: maxLevel('access', result.access, own.access),
            environment: maxLevel('environment', result.environment, own.environment),
            data: maxLevel('data', result.data, own.data),
          };
  }
  return result;
}

/**
 * True when `scope` may only be granted as task-scoped (short-lived, single use, session bound)
 * under any of the matching policies: the task-scoped sets are united, most restrictive wins.
 */
export function isTaskScoped(scope: string, policies: readonly PolicyInput[]): boolean {
  return policies.some((p) => matchesAnyPattern(scope, p.spec.taskScoped?.scopes ?? []));
}
