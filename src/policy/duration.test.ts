import { describe, expect, it } from 'vitest';
import { parseDurationMs } from './duration.ts';

describe('parseDurationMs (Go time.ParseDuration syntax)', () => {
  it.each<[string, number | undefined]>([
    ['0', 0],
    ['90m', 90 * 60_000],
    ['1h30m', 90 * 60_000],
    ['2160h', 2160 * 3_600_000],
    ['1.5s', 1500],
    ['.5s', 500],
    ['300ms', 300],
    ['+5m', 300_000],
    ['1000us', 1],
    ['1000000ns', 1],
    ['', undefined],
    ['5', undefined],
    ['-5m', undefined],
    ['5d', undefined],
    ['1h 30m', undefined],
    ['h', undefined],
    ['1.h', 3_600_000],
  ])('%j -> %s', (value, expected) => {
    expect(parseDurationMs(value)).toBe(expected);
  });
});
