/**
 * Durations as kubectl prints them: the two most significant units, no spaces ("3d4h", "5m20s",
 * "45s"). Used for ages, rotation times and elapsed time while waiting.
 */

const UNITS: ReadonlyArray<readonly [string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/** Formats a length of time; negative values are formatted by magnitude, below a second is "0s". */
export function formatDuration(ms: number): string {
  let rest = Math.floor(Math.abs(ms) / 1000) * 1000;
  const parts: string[] = [];
  for (const [unit, size] of UNITS) {
    if (parts.length === 2) break;
    const amount = Math.floor(rest / size);
    rest -= amount * size;
    // Once the leading unit is found, the next unit is shown only when non-zero ("3d", not "3d0h").
    if (amount > 0) parts.push(`${amount}${unit}`);
    else if (parts.length === 1) break;
  }
  return parts.length === 0 ? '0s' : parts.join('');
}

function parseTime(iso: string | undefined): number | undefined {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}

/** Age of a timestamp ("3d4h"), or "-" when absent or unparseable. */
export function formatAge(iso: string | undefined, now: number): string {
  const t = parseTime(iso);
  return t === undefined ? '-' : formatDuration(now - t);
}

/** "3d4h ago" for the past, "in 2h" for the future, "-" when absent. */
export function formatRelative(iso: string | undefined, now: number): string {
  const t = parseTime(iso);
  if (t === undefined) return '-';
  return t <= now ? `${formatDuration(now - t)} ago` : `in ${formatDuration(t - now)}`;
}

/** A timestamp as "2025-06-01 10:00:00Z" (UTC, seconds): compact and sortable. */
export function formatTimestamp(iso: string | undefined): string {
  const t = parseTime(iso);
  if (t === undefined) return '-';
  return new Date(t).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}
