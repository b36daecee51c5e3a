/**
 * Scope algebra: RFC 6749 section 3.3 scope tokens, space-separated scope strings, set operations
 * with a stable (sorted, de-duplicated) output, and `*` wildcard patterns.
 *
 * Sorting uses plain UTF-16 code-unit order (not locale collation) so every replica and every
 * Node version produces the same string, which keeps status writes and IdP updates idempotent.
 */

/** RFC 6749 section 3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`. */
export const SCOPE_TOKEN_PATTERN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** Upper bound on a scope's length, as the AgentClient CRD enforces it. */
export const MAX_SCOPE_LENGTH = 128;

/** The wildcard character in a scope pattern. */
export const WILDCARD = '*';

/**
 * True when `value` is an RFC 6749 section 3.3 scope-token no longer than
 * {@link MAX_SCOPE_LENGTH}. No whitespace, no `"`, no `\`, printable ASCII only.
 */
export function isScopeToken(value: string): boolean {
  return value.length <= MAX_SCOPE_LENGTH && SCOPE_TOKEN_PATTERN.test(value);
}

/** Result of {@link parseScopeString}: the valid scopes (normalised) and the rejected tokens. */
export interface ParsedScopes {
  scopes: string[];
  invalid: string[];
}

/**
 * Parses an RFC 6749 section 3.3 `scope` value (scope-tokens separated by SP). Runs of spaces and
 * leading/trailing spaces are tolerated (the RFC grammar allows exactly one SP, but IdPs are
 * lenient on output and we read their output); any other character outside the token alphabet
 * makes that token invalid. Never throws.
 */
export function parseScopeString(value: string): ParsedScopes {
  const scopes: string[] = [];
  const invalid: string[] = [];
  for (const token of value.split(' ')) {
    if (token === '') continue;
    (isScopeToken(token) ? scopes : invalid).push(token);
  }
  return { scopes: normalizeScopes(scopes), invalid: normalizeScopes(invalid) };
}

/**
 * Formats scopes as an RFC 6749 section 3.3 `scope` value: de-duplicated, sorted, joined by one
 * SP. Callers pass valid tokens; an invalid token would make the result unparseable, so it throws
 * a TypeError (a programming error, not user input: validate with {@link isScopeToken} first).
 */
export function formatScopeString(scopes: Iterable<string>): string {
  const normalized = normalizeScopes(scopes);
  const bad = normalized.find((s) => !isScopeToken(s));
  if (bad !== undefined) throw new TypeError(`not an RFC 6749 scope-token: ${JSON.stringify(bad)}`);
  return normalized.join(' ');
}

/** Code-unit comparison used for every sorted scope list. */
export function compareScopes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** De-duplicates and sorts (code-unit order). Returns a new array. */
export function normalizeScopes(scopes: Iterable<string>): string[] {
  return [...new Set(scopes)].sort(compareScopes);
}

/** Scopes in `a` or `b`, normalised. */
export function unionScopes(a: Iterable<string>, b: Iterable<string>): string[] {
  return normalizeScopes([...a, ...b]);
}

/** Scopes in both `a` and `b`, normalised. */
export function intersectScopes(a: Iterable<string>, b: Iterable<string>): string[] {
  const inB = new Set(b);
  return normalizeScopes([...a].filter((s) => inB.has(s)));
}

/** Scopes in `a` but not in `b`, normalised. */
export function differenceScopes(a: Iterable<string>, b: Iterable<string>): string[] {
  const inB = new Set(b);
  return normalizeScopes([...a].filter((s) => !inB.has(s)));
}

/** True when every scope of `a` is in `b`. */
export function isSubsetOf(a: Iterable<string>, b: Iterable<string>): boolean {
  const inB = new Set(b);
  for (const s of a) if (!inB.has(s)) return false;
  return true;
}

/** True when `a` and `b` hold the same scopes (order and duplicates ignored). */
export function sameScopes(a: Iterable<string>, b: Iterable<string>): boolean {
  const setA = new Set(a);
  const setB = new Set(b);
  return setA.size === setB.size && isSubsetOf(setA, setB);
}

/**
 * True when `pattern` is a valid scope pattern: a scope-token in which every `*` is a wildcard.
 * (`*` is itself a scope-token character, so every pattern is also a token.)
 */
export function isScopePattern(pattern: string): boolean {
  return isScopeToken(pattern);
}

/**
 * Matches one scope against one pattern. A pattern without `*` matches only the identical scope
 * (case-sensitive, as RFC 6749 section 3.3 scope values are). Each `*` matches any run of zero or
 * more characters within the scope: `code:*` matches `code:read` and `code:`, `*:read` matches
 * `code:read`, `*` matches every scope. A scope never contains a space, so a wildcard never spans
 * two scopes. There is no escape: a literal `*` in a scope is matched by a `*` in the pattern.
 *
 * Greedy two-pointer matching with backtracking to the last `*`: O(len(scope) * len(pattern)) in
 * the worst case, no regular expression, so a hostile pattern cannot cause catastrophic
 * backtracking.
 */
export function matchesPattern(scope: string, pattern: string): boolean {
  let s = 0;
  let p = 0;
  let starP = -1;
  let starS = 0;
  while (s < scope.length) {
    if (p < pattern.length && pattern[p] === WILDCARD) {
      starP = p++;
      starS = s;
    } else if (p < pattern.length && pattern[p] === scope[s]) {
      p++;
      s++;
    } else if (starP >= 0) {
      p = starP + 1;
      s = ++starS;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === WILDCARD) p++;
  return p === pattern.length;
}

/**
 * Index of the first pattern (in list order) that matches `scope`, or -1. List order is the only
 * precedence: an exact pattern does not outrank an earlier wildcard. Callers that need "first
 * match wins" (scopeClasses) use the index; callers that need "any match" (allowedScopes,
 * taskScoped.scopes) only compare it with -1, so order does not matter for them.
 */
export function firstMatchingPattern(scope: string, patterns: readonly string[]): number {
  return patterns.findIndex((pattern) => matchesPattern(scope, pattern));
}

/** True when any pattern matches `scope`. */
export function matchesAnyPattern(scope: string, patterns: readonly string[]): boolean {
  return firstMatchingPattern(scope, patterns) !== -1;
}
