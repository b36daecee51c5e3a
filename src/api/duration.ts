/**
 * Go-style durations (`time.ParseDuration` / `time.Duration.String`), as every duration field of
 * the API uses them ("90m", "1h30m", "720h", "1.5s", "300ms"). The accepted syntax is exactly the
 * CRDs' rule, `DURATION_PATTERN`, so whatever the API server admits parses here, and nothing else.
 * Values are computed in integer nanoseconds like Go, then expressed in milliseconds.
 */

/** The CRD validation pattern for durations: unsigned, at least one `<number><unit>` part. */
export const DURATION_PATTERN = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/;

const PART = /([0-9]+)(?:\.([0-9]+))?(ns|us|µs|ms|s|m|h)/g;

const NS_PER_S = 1_000_000_000n;
const NS_PER_M = 60n * NS_PER_S;
const NS_PER_H = 60n * NS_PER_M;

const NS_PER_UNIT: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n,
  ms: 1_000_000n,
  s: NS_PER_S,
  m: NS_PER_M,
  h: NS_PER_H,
};

/** Go's time.Duration is an int64 of nanoseconds; larger values are rejected, as Go does. */
const MAX_NS = (1n << 63n) - 1n;
const NS_PER_MS = 1_000_000n;

/**
 * Parses a duration into integer nanoseconds. Fractions are truncated to the nanosecond, as in
 * Go. Throws a RangeError naming the value when it is malformed or overflows int64.
 */
export function parseDurationNs(s: string): bigint {
  if (!DURATION_PATTERN.test(s)) {
    throw new RangeError(`invalid duration ${JSON.stringify(s)}: expected a Go duration such as 90m, 1h30m or 720h`);
  }
  let total = 0n;
  for (const [, whole = '0', fraction = '', unit = ''] of s.matchAll(PART)) {
    const perUnit = NS_PER_UNIT[unit] ?? 0n;
    const scale = 10n ** BigInt(fraction.length);
    total += BigInt(whole) * perUnit + (BigInt(fraction || '0') * perUnit) / scale;
    if (total > MAX_NS) throw new RangeError(`invalid duration ${JSON.stringify(s)}: too large`);
  }
  return total;
}

/**
 * Parses a duration into milliseconds (fractional below one millisecond: "1500us" is 1.5).
 * Throws a RangeError for anything the CRD pattern rejects, or beyond Go's int64 nanoseconds.
 */
export function parseDuration(s: string): number {
  const ns = parseDurationNs(s);
  return Number(ns / NS_PER_MS) + Number(ns % NS_PER_MS) / 1e6;
}

/**
 * Formats milliseconds as Go's `time.Duration.String` does ("1h30m0s", "1.5s", "250ms", "0s"),
 * rounding to the nanosecond. The result always satisfies DURATION_PATTERN and parses back to
 * the same value. Throws a RangeError for negative, non-finite or out-of-range input.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`cannot format duration ${ms}: must be finite and >= 0`);
  const ns = Number.isInteger(ms) ? BigInt(ms) * NS_PER_MS : BigInt(Math.round(ms * 1e6));
  return formatDurationNs(ns);
}

/** Formats integer nanoseconds like Go's `time.Duration.String` (non-negative only). */
export function formatDurationNs(ns: bigint): string {
  if (ns < 0n || ns > MAX_NS) throw new RangeError(`cannot format duration of ${ns}ns: out of range`);
  if (ns === 0n) return '0s';
  if (ns < 1_000n) return `${ns}ns`;
  // Go prints U+00B5 MICRO SIGN, which the CRD pattern accepts too.
  if (ns < 1_000_000n) return `${decimal(ns, 1_000n)}µs`;
  if (ns < 1_000_000_000n) return `${decimal(ns, 1_000_000n)}ms`;
  const hours = ns / NS_PER_H;
  const minutes = (ns % NS_PER_H) / NS_PER_M;
  const seconds = decimal(ns % NS_PER_M, NS_PER_S);
  if (hours > 0n) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0n) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

/** `value / unit` as a decimal without trailing zeros ("1.5", "2"). */
function decimal(value: bigint, unit: bigint): string {
  const whole = value / unit;
  const rest = value % unit;
  if (rest === 0n) return whole.toString();
  const digits = unit.toString().length - 1;
  const fraction = rest.toString().padStart(digits, '0').replace(/0+$/, '');
  return `${whole}.${fraction}`;
}
