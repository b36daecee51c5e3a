import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CeilingChange } from './decision.ts';
import { appendCeilingHistory, CEILING_HISTORY_LIMIT, recordCeilingChange, type CeilingHistoryEntry } from './history.ts';

const entry = (i: number): CeilingHistoryEntry => ({
  time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  added: [`s${i}`],
  removed: [],
  decision: 'Delta',
  generation: i,
});

const change = (decision: CeilingChange['decision'], extra: Partial<CeilingChange> = {}): CeilingChange => ({
  decision,
  added: ['code:review'],
  removed: [],
  crossed: [],
  revokeExistingGrants: decision === 'FullReconsent',
  revokeScopes: [],
  message: '',
  ...extra,
});

describe('appendCeilingHistory', () => {
  it('appends oldest first and keeps the newest 20', () => {
    let history: CeilingHistoryEntry[] = [];
    for (let i = 0; i < 25; i++) history = appendCeilingHistory(history, entry(i));
    expect(CEILING_HISTORY_LIMIT).toBe(20);
    expect(history).toHaveLength(20);
    expect(history[0]).toEqual(entry(5));
    expect(history.at(-1)).toEqual(entry(24));
  });

  it('does not modify its input and accepts an absent history', () => {
    const before = [entry(1)];
    const after = appendCeilingHistory(before, entry(2));
    expect(before).toEqual([entry(1)]);
    expect(after).toEqual([entry(1), entry(2)]);
    expect(appendCeilingHistory(undefined, entry(0))).toEqual([entry(0)]);
  });

  it('trims a history already over a lowered limit', () => {
    expect(appendCeilingHistory([entry(1), entry(2), entry(3)], entry(4), 2)).toEqual([entry(3), entry(4)]);
  });

  it('never exceeds the limit and always ends with the new entry', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(100), { maxLength: 40 }), fc.integer({ min: 1, max: 30 }), (ids, limit) => {
        let history: CeilingHistoryEntry[] = [];
        for (const id of ids) {
          history = appendCeilingHistory(history, entry(id), limit);
          expect(history.length).toBeLessThanOrEqual(limit);
          expect(history.at(-1)).toEqual(entry(id));
        }
        expect(history).toEqual(ids.slice(-limit).map(entry));
      }),
    );
  });
});

describe('recordCeilingChange', () => {
  const time = '2026-03-01T12:00:00.000Z';

  it('records nothing for None', () => {
    const history = [entry(1)];
    expect(recordCeilingChange(history, change('None'), { time })).toEqual(history);
  });

  it('records the decision with its context, taking the policy from the decision when not given', () => {
    expect(recordCeilingChange([], change('FullReconsent', { policy: 'agents' }), { time, generation: 4 })).toEqual([
      { time, added: ['code:review'], removed: [], decision: 'FullReconsent', policy: 'agents', generation: 4 },
    ]);
    expect(
      recordCeilingChange(undefined, change('PolicyNarrowed', { added: [], removed: ['code:write'] }), { time, policy: 'narrowing-policy', generation: 7 }),
    ).toEqual([{ time, added: [], removed: ['code:write'], decision: 'PolicyNarrowed', policy: 'narrowing-policy', generation: 7 }]);
    expect(recordCeilingChange([], change('Initial'), { time })).toEqual([{ time, added: ['code:review'], removed: [], decision: 'Initial' }]);
  });
});
