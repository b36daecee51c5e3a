import { describe, expect, it } from 'vitest';
import { TokenBucket } from './bucket.ts';

describe('TokenBucket', () => {
  it('gives the burst at once, then one token per 1/qps, and refills while idle (capped at burst)', () => {
    const b = new TokenBucket({ qps: 10, burst: 3 });
    expect([b.reserve(0), b.reserve(0), b.reserve(0)]).toEqual([0, 0, 0]);
    expect([b.reserve(0), b.reserve(0)]).toEqual([100, 200]);
    // 1 s later: the two reservations are paid back and 8 tokens accrued, capped at 3.
    expect([b.reserve(1000), b.reserve(1000), b.reserve(1000), b.reserve(1000)]).toEqual([0, 0, 0, 100]);
  });

  it('rejects a limit that would never refill', () => {
    expect(() => new TokenBucket({ qps: 0, burst: 1 })).toThrow();
    expect(() => new TokenBucket({ qps: 1, burst: 0 })).toThrow();
  });
});
