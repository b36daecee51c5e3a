import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { anyScopeToken, patternArb, scopeArb } from '../testing/policy-arbitraries.ts';
import {
  differenceScopes,
  firstMatchingPattern,
  formatScopeString,
  intersectScopes,
  isScopeToken,
  isSubsetOf,
  matchesAnyPattern,
  matchesPattern,
  normalizeScopes,
  parseScopeString,
  sameScopes,
  unionScopes,
} from './scopes.ts';

describe('isScopeToken (RFC 6749 section 3.3)', () => {
  it.each([
    ['code:read', true],
    ['!', true],
    ['~', true],
    ['https://api.example.com/x.read', true],
    ['a*b', true],
    ['x'.repeat(128), true],
    ['x'.repeat(129), false],
    ['', false],
    ['a b', false],
    ['a"b', false],
    ['a\\b', false],
    ['a\tb', false],
    ['caf\u00e9', false],
    ['\x7f', false],
  ])('%j -> %s', (token, valid) => {
    expect(isScopeToken(token)).toBe(valid);
  });
});

describe('parseScopeString / formatScopeString', () => {
  it('splits on spaces, tolerates runs of spaces, sorts, de-duplicates and reports invalid tokens', () => {
    expect(parseScopeString('  b a  a c"d ')).toEqual({ scopes: ['a', 'b'], invalid: ['c"d'] });
    expect(parseScopeString('')).toEqual({ scopes: [], invalid: [] });
  });

  it('treats other whitespace as part of a (then invalid) token, as the grammar allows only SP', () => {
    expect(parseScopeString('a\tb c')).toEqual({ scopes: ['c'], invalid: ['a\tb'] });
  });

  it('formats sorted in code-unit order, not locale order', () => {
    expect(formatScopeString(['b', 'B', 'a', 'a', '_'])).toBe('B _ a b');
  });

  it('refuses to format an invalid token', () => {
    expect(() => formatScopeString(['ok', 'not ok'])).toThrow(TypeError);
  });

  it('round-trips any set of valid scopes', () => {
    fc.assert(
      fc.property(fc.array(anyScopeToken), (scopes) => {
        expect(parseScopeString(formatScopeString(scopes))).toEqual({ scopes: normalizeScopes(scopes), invalid: [] });
      }),
    );
  });
});

describe('set operations', () => {
  it.each([
    [['b', 'a'], ['c', 'a'], ['a', 'b', 'c'], ['a'], ['b']],
    [[], ['x'], ['x'], [], []],
    [['a', 'a'], ['a'], ['a'], ['a'], []],
  ])('%j with %j', (a, b, union, inter, diff) => {
    expect(unionScopes(a, b)).toEqual(union);
    expect(intersectScopes(a, b)).toEqual(inter);
    expect(differenceScopes(a, b)).toEqual(diff);
  });

  it('subset and equality ignore order and duplicates', () => {
    expect(isSubsetOf(['a', 'a'], ['b', 'a'])).toBe(true);
    expect(isSubsetOf(['a', 'c'], ['b', 'a'])).toBe(false);
    expect(sameScopes(['b', 'a', 'a'], ['a', 'b'])).toBe(true);
    expect(sameScopes(['a'], ['a', 'b'])).toBe(false);
  });

  it('obey the set laws and always return sorted unique lists', () => {
    const sortedUnique = (xs: string[]): boolean => xs.every((x, i) => i === 0 || xs[i - 1]! < x);
    fc.assert(
      fc.property(fc.array(scopeArb), fc.array(scopeArb), (a, b) => {
        const u = unionScopes(a, b);
        const i = intersectScopes(a, b);
        const d = differenceScopes(a, b);
        for (const xs of [u, i, d]) expect(sortedUnique(xs)).toBe(true);
        expect(isSubsetOf(a, u) && isSubsetOf(b, u)).toBe(true);
        expect(isSubsetOf(i, a) && isSubsetOf(i, b)).toBe(true);
        expect(intersectScopes(d, b)).toEqual([]);
        expect(unionScopes(d, i)).toEqual(normalizeScopes(a));
      }),
    );
  });
});

describe('matchesPattern', () => {
  it.each([
    ['code:read', 'code:read', true],
    ['code:read', 'code:write', false],
    ['code:read', 'Code:read', false],
    ['code:read', 'code:*', true],
    ['code:', 'code:*', true],
    ['code', 'code:*', false],
    ['code:read', '*:read', true],
    ['reports:read', '*:read', true],
    ['code:read', '*', true],
    ['code:read', 'c*e*d', true],
    ['code:read', 'c*x*d', false],
    ['code:read', 'code:read*', true],
    ['code:readx', 'code:read', false],
    ['a*b', 'a*b', true],
    ['aaaaaaaaaaaaaaaaaaaaaaaaaaaaab', '*a*a*a*a*a*a*a*c', false],
  ])('%j against %j -> %s', (scope, pattern, expected) => {
    expect(matchesPattern(scope, pattern)).toBe(expected);
  });

  // A straightforward regular-expression reference: `*` = `.*`, everything else literal.
  const reference = (scope: string, pattern: string): boolean =>
    new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(scope);

  it('agrees with a regular-expression reference on arbitrary tokens and patterns', () => {
    const token = fc.stringMatching(/^[ab*:]{0,8}$/);
    fc.assert(
      fc.property(token, token, (scope, pattern) => {
        expect(matchesPattern(scope, pattern)).toBe(reference(scope, pattern));
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(scopeArb, patternArb, (scope, pattern) => {
        expect(matchesPattern(scope, pattern)).toBe(reference(scope, pattern));
      }),
    );
  });

  it('without a wildcard is plain equality', () => {
    fc.assert(
      fc.property(scopeArb.filter((s) => !s.includes('*')), scopeArb, (pattern, scope) => {
        expect(matchesPattern(scope, pattern)).toBe(scope === pattern);
      }),
    );
  });
});

describe('pattern lists', () => {
  it('first match wins by list order; an exact pattern does not outrank an earlier wildcard', () => {
    expect(firstMatchingPattern('code:read', ['code:*', 'code:read'])).toBe(0);
    expect(firstMatchingPattern('code:read', ['mail:*', 'code:read', 'code:*'])).toBe(1);
    expect(firstMatchingPattern('code:read', ['mail:*'])).toBe(-1);
  });

  it('any-match ignores order and an empty list matches nothing', () => {
    fc.assert(
      fc.property(scopeArb, fc.array(patternArb), (scope, patterns) => {
        expect(matchesAnyPattern(scope, patterns)).toBe(matchesAnyPattern(scope, [...patterns].reverse()));
      }),
    );
    expect(matchesAnyPattern('code:read', [])).toBe(false);
  });
});
