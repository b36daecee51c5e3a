import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DURATION_PATTERN, formatDuration, formatDurationNs, parseDuration, parseDurationNs } from './duration.ts';

describe('parseDuration', () => {
  it.each([
    ['0s', 0],
    ['1ns', 0.000001],
    ['1500us', 1.5],
    ['1500µs', 1.5],
    ['250ms', 250],
    ['1.5s', 1500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['90m', 5_400_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['1h30m0s', 5_400_000],
    ['720h', 2_592_000_000],
    ['2160h', 7_776_000_000],
    ['1.5h', 5_400_000],
    ['0.1ns', 0], // Go truncates below one nanosecond
    ['2h45m30.5s', 9_930_500],
    ['1m1m', 120_000], // Go allows repeated units
    ['2562047h47m16.854775807s', 9_223_372_036_854.775],
  ])('%s is %d ms', (input, ms) => {
    expect(parseDuration(input)).toBeCloseTo(ms, 6);
  });

  it('keeps nanosecond precision in parseDurationNs', () => {
    expect(parseDurationNs('2562047h47m16.854775807s')).toBe((1n << 63n) - 1n);
    expect(parseDurationNs('1.000000001s')).toBe(1_000_000_001n);
  });

  it.each(['', '0', '1', '1d', '-1h', '+1h', '1 h', ' 1h', '1h ', '.5s', '5.s', '1H', 'h', '1h-30m', '1e3s', '1μs'])(
    'rejects %j',
    (input) => {
      expect(() => parseDuration(input)).toThrow(/invalid duration/);
    },
  );

  it('rejects durations beyond int64 nanoseconds, as Go does', () => {
    expect(() => parseDuration('2562048h')).toThrow(/too large/);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [0.000001, '1ns'],
    [0.0015, '1.5µs'],
    [1.5, '1.5ms'],
    [250, '250ms'],
    [1500, '1.5s'],
    [60_000, '1m0s'],
    [5_400_000, '1h30m0s'],
    [7_776_000_000, '2160h0m0s'],
    [9_930_500, '2h45m30.5s'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('rejects %d', (ms) => {
    expect(() => formatDuration(ms)).toThrow(RangeError);
  });
});

describe('properties', () => {
  const nanos = fc.bigInt({ min: 0n, max: (1n << 63n) - 1n });
  const millis = fc.integer({ min: 0, max: 2 ** 40 });
  const part = fc.tuple(
    fc.integer({ min: 0, max: 5000 }),
    fc.option(fc.stringMatching(/^[0-9]{1,9}$/), { nil: undefined }),
    fc.constantFrom('ns', 'us', 'µs', 'ms', 's', 'm', 'h'),
  );
  const durationText = fc
    .array(part, { minLength: 1, maxLength: 4 })
    .map((parts) => parts.map(([w, f, u]) => `${w}${f === undefined ? '' : `.${f}`}${u}`).join(''));

  it('parse∘format is the identity on integer nanoseconds', () => {
    fc.assert(fc.property(nanos, (ns) => parseDurationNs(formatDurationNs(ns)) === ns));
  });

  it('parse∘format is the identity on integer milliseconds', () => {
    fc.assert(fc.property(millis, (ms) => parseDuration(formatDuration(ms)) === ms));
  });

  it('format∘parse yields a canonical text that matches the CRD pattern and keeps the value', () => {
    fc.assert(
      fc.property(durationText, (text) => {
        const ns = parseDurationNs(text);
        const canonical = formatDurationNs(ns);
        return DURATION_PATTERN.test(canonical) && parseDurationNs(canonical) === ns && formatDurationNs(parseDurationNs(canonical)) === canonical;
      }),
    );
  });
});
