import { describe, expect, it } from 'vitest';
import { formatAge, formatDuration, formatRelative, formatTimestamp } from './duration.ts';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [999, '0s'],
    [45 * S, '45s'],
    [5 * M + 20 * S, '5m20s'],
    [5 * M, '5m'],
    [H + 30 * S, '1h'],
    [2 * H + 5 * M, '2h5m'],
    [3 * D + 4 * H + 59 * M, '3d4h'],
    [3 * D + 59 * M, '3d'],
    [90 * D, '90d'],
    [-(2 * H), '2h'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('relative times', () => {
  const now = Date.parse('2025-06-10T12:00:00Z');
  it('says how long ago or how long until', () => {
    expect(formatRelative('2025-06-07T08:00:00Z', now)).toBe('3d4h ago');
    expect(formatRelative('2025-06-10T14:00:00Z', now)).toBe('in 2h');
    expect(formatRelative(undefined, now)).toBe('-');
    expect(formatRelative('not a time', now)).toBe('-');
  });
  it('ages and timestamps', () => {
    expect(formatAge('2025-06-10T11:59:15Z', now)).toBe('45s');
    expect(formatAge(undefined, now)).toBe('-');
    expect(formatTimestamp('2025-06-10T11:59:15.123Z')).toBe('2025-06-10 11:59:15Z');
    expect(formatTimestamp('2025-06-10T13:59:15+02:00')).toBe('2025-06-10 11:59:15Z');
  });
});
