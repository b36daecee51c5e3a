import { describe, expect, it } from 'vitest';
import { setCondition } from './conditions.ts';
import { mergePatch, statusEqual } from './status.ts';

const t0 = new Date('2025-01-01T00:00:00.000Z');
const t1 = new Date('2025-01-01T01:00:00.000Z');

describe('setCondition', () => {
  it('adds a condition stamped with now (seconds precision, as metav1.Time)', () => {
    const out = setCondition(undefined, { type: 'Ready', status: 'False', reason: 'Pending', message: 'm', observedGeneration: 1 }, t0);
    expect(out).toEqual([{ type: 'Ready', status: 'False', reason: 'Pending', message: 'm', observedGeneration: 1, lastTransitionTime: '2025-01-01T00:00:00Z' }]);
  });

  it('keeps lastTransitionTime when status is unchanged, even if reason or message change', () => {
    const a = setCondition(undefined, { type: 'Ready', status: 'False', reason: 'A', message: 'a' }, t0);
    const b = setCondition(a, { type: 'Ready', status: 'False', reason: 'B', message: 'b' }, t1);
    expect(b[0]).toMatchObject({ reason: 'B', lastTransitionTime: '2025-01-01T00:00:00Z' });
  });

  it('moves lastTransitionTime when status changes, and leaves other conditions and the input alone', () => {
    const a = setCondition(
      setCondition(undefined, { type: 'Ready', status: 'False', reason: 'A', message: '' }, t0),
      { type: 'Registered', status: 'True', reason: 'R', message: '' },
      t0,
    );
    const b = setCondition(a, { type: 'Ready', status: 'True', reason: 'A', message: '' }, t1);
    expect(b.map((c) => [c.type, c.lastTransitionTime])).toEqual([
      ['Ready', '2025-01-01T01:00:00Z'],
      ['Registered', '2025-01-01T00:00:00Z'],
    ]);
    expect(a[0]!.status).toBe('False');
  });
});

describe('statusEqual / mergePatch', () => {
  it('ignores key order, undefined fields and lastTransitionTime churn', () => {
    const a = { x: 1, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: 'a' }], y: undefined };
    const b = { conditions: [{ lastTransitionTime: 'b', status: 'True', type: 'Ready' }], x: 1 };
    expect(statusEqual(a, b)).toBe(true);
    expect(statusEqual(a, { ...b, x: 2 })).toBe(false);
  });

  it('builds an RFC 7386 patch that nulls removed keys and replaces arrays whole', () => {
    const from = { a: 1, b: { c: 1, d: 2 }, list: [1, 2], gone: 'x' };
    const to = { a: 1, b: { c: 1, d: 3 }, list: [1] };
    expect(mergePatch(from, to)).toEqual({ b: { d: 3 }, list: [1], gone: null });
  });
});
