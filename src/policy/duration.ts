/**
 * Go-style duration strings (`time.ParseDuration`: "90m", "1h30m", "2160h", "1.5s", "300ms"),
 * as the ConsentPolicy lifetime fields use them. Local to the policy engine until the shared
 * `src/api/duration.ts` exists; same contract (milliseconds), but returns undefined instead of
 * throwing so the engine stays total.
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  'μs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const WHOLE = /^(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h)(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))*$/;
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;

/**
 * Parses a non-negative Go duration into milliseconds; `"0"` is zero. Returns undefined for
 * anything `time.ParseDuration` would reject, and for negative durations (meaningless as a TTL).
 */
export function parseDurationMs(value: string): number | undefined {
  if (value === '0') return 0;
  const unsigned = value.startsWith('+') ? value.slice(1) : value;
  if (!WHOLE.test(unsigned)) return undefined;
  let total = 0;
  for (const [, amount, unit] of unsigned.matchAll(PART)) {
    total += Number(amount) * (UNIT_MS[unit ?? ''] ?? Number.NaN);
  }
  return Number.isFinite(total) ? total : undefined;
}
