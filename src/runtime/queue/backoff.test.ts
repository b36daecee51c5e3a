import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffCeiling, backoffDelay, defaultBackoff } from './backoff.ts';

describe('backoff', () => {
  it('stays within [base, min(cap, base * 2^(n-1))] for any failure count and draw', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (n, r) => {
        const delay = backoffDelay(n, defaultBackoff, () => r);
        const ceiling = Math.min(defaultBackoff.maxMs, defaultBackoff.baseMs * 2 ** (n - 1));
        expect(delay).toBeGreaterThanOrEqual(defaultBackoff.baseMs);
        expect(delay).toBeLessThanOrEqual(ceiling);
        expect(delay).toBeLessThanOrEqual(300_000);
      }),
    );
  });

  it('has a ceiling that never decreases as failures grow', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), (n) => {
        expect(backoffCeiling(n + 1)).toBeGreaterThanOrEqual(backoffCeiling(n));
      }),
    );
  });

  it('reaches the 5 minute cap and stays there', () => {
    expect(backoffCeiling(1)).toBe(5);
    expect(backoffCeiling(2)).toBe(10);
    expect(backoffCeiling(17)).toBe(300_000);
    expect(backoffCeiling(100_000)).toBe(300_000);
  });

  it('spreads a fleet of keys failing together (jitter)', () => {
    const delays = new Set(Array.from({ length: 100 }, () => backoffDelay(12)));
    expect(delays.size).toBeGreaterThan(50);
  });
});
