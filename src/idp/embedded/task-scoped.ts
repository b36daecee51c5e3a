/**
 * Task-scoped grants in the embedded IdP (DESIGN.md "The problem" point 4): the ConsentPolicy
 * names scopes that serve high-risk, user-present actions; the operator registers them in the
 * client metadata field `task_scoped` (with `token_lifetimes` for standing grants), and the IdP
 * enforces:
 *
 * - an access token carrying a task-scoped scope lives `access_token` seconds at most;
 * - a refresh token carrying one is a task chain: it ends `access_token` seconds after the chain
 *   began (rotation never extends it), it is single-use when `single_use_refresh` (rotated on
 *   every use; oidc-provider revokes the whole grant when a used one is presented again), and it
 *   dies with the user's session when `session_binding` (oidc-provider `expiresWithSession`);
 * - client_credentials never yields a task-scoped scope (no user is present);
 * - a standing refresh token yields one only if its chain already held the scope: a refresh may
 *   only narrow the refresh token's own scope (RFC 6749 section 6). A chain holds it under standing
 *   lifetimes only when a policy reclassified an already granted scope as task-scoped; the operator
 *   then revokes the grants holding it (a TaskScopedReclassified GrantRevocation,
 *   consentpolicy/narrowing.ts), so such chains end.
 *
 * Pure helpers here; `config.ts` wires them into oidc-provider's TTL and policy hooks.
 */

/** The `task_scoped` client metadata the operator registers. Seconds. */
export interface TaskScopedMetadata {
  /** Exact scopes (the operator resolves the policy's patterns against the ceiling). */
  scopes: string[];
  access_token: number;
  single_use_refresh: boolean;
  session_binding: boolean;
}

const KEYS = new Set(['scopes', 'access_token', 'single_use_refresh', 'session_binding']);

/** Why a `task_scoped` value is invalid, or undefined when it is fine. */
export function taskScopedProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'must be an object';
  const v = value as Record<string, unknown>;
  const unknown = Object.keys(v).find((k) => !KEYS.has(k));
  if (unknown !== undefined) return `has an unknown member ${unknown}`;
  if (!Array.isArray(v['scopes']) || !v['scopes'].every((s) => typeof s === 'string' && s.length > 0 && !s.includes(' '))) {
    return 'scopes must be a list of scopes';
  }
  const ttl = v['access_token'];
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl <= 0) return 'access_token must be a positive integer';
  if (typeof v['single_use_refresh'] !== 'boolean' || typeof v['session_binding'] !== 'boolean') {
    return 'single_use_refresh and session_binding must be booleans';
  }
  return undefined;
}

/** The task-scoped rules of a client, from its metadata; undefined when it has none. */
export function taskRules(metadata: Record<string, unknown> | undefined): TaskScopedMetadata | undefined {
  const value = metadata?.['task_scoped'];
  if (value === undefined || taskScopedProblem(value) !== undefined) return undefined;
  const rules = value as TaskScopedMetadata;
  return rules.scopes.length > 0 ? rules : undefined;
}

function scopesOf(scope: string | Iterable<string> | undefined): string[] {
  if (scope === undefined) return [];
  return typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [...scope];
}

/** The task-scoped scopes among `scope` (a space-separated string or a set). */
export function taskScopesIn(scope: string | Iterable<string> | undefined, rules: TaskScopedMetadata | undefined): string[] {
  if (!rules) return [];
  const task = new Set(rules.scopes);
  return scopesOf(scope).filter((s) => task.has(s));
}

/** Access token lifetime: the task TTL when the token carries a task-scoped scope. */
export function accessTokenTTL(standing: number, scope: string | undefined, rules: TaskScopedMetadata | undefined): number {
  return taskScopesIn(scope, rules).length > 0 && rules ? Math.min(standing, rules.access_token) : standing;
}

/**
 * Refresh token lifetime. A task chain lives `access_token` seconds from its first token: a
 * rotated token gets what remains of the one it replaces, never a fresh period.
 */
export function refreshTokenTTL(
  standing: number,
  scope: string | undefined,
  rules: TaskScopedMetadata | undefined,
  rotatedRemaining: number | undefined,
): number {
  if (taskScopesIn(scope, rules).length === 0 || !rules) return standing;
  const cap = rotatedRemaining === undefined ? rules.access_token : Math.min(rules.access_token, rotatedRemaining);
  return Math.max(1, Math.min(standing, cap));
}

/** Whether a refresh token issued for `scopes` must die with the user's session. */
export function bindToSession(scopes: Iterable<string>, rules: TaskScopedMetadata | undefined, fallback: boolean): boolean {
  return (rules?.session_binding === true && taskScopesIn(scopes, rules).length > 0) || fallback;
}
