/**
 * Per-key retry delays: exponential with full jitter ("Exponential Backoff And Jitter", AWS
 * Architecture Blog, 2015), so a fleet of keys failing together against one IdP does not retry in
 * lock-step. The draw is floored at the base so a retry is never immediate.
 */
export interface BackoffPolicy {
  /** First ceiling. Default 5 ms. */
  baseMs: number;
  /** Ceiling cap. Default 5 min. */
  maxMs: number;
}

export const defaultBackoff: BackoffPolicy = { baseMs: 5, maxMs: 300_000 };

/** The ceiling after `failures` consecutive failures (1 = first failure). */
export function backoffCeiling(failures: number, policy: BackoffPolicy = defaultBackoff): number {
  const exponent = Math.max(0, failures - 1);
  // 2^exponent overflows to Infinity past ~1024, which Math.min caps correctly.
  return Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
}

/** A delay drawn uniformly from [base, ceiling]; `random` returns [0, 1). */
export function backoffDelay(failures: number, policy: BackoffPolicy = defaultBackoff, random: () => number = Math.random): number {
  const ceiling = backoffCeiling(failures, policy);
  return Math.max(policy.baseMs, Math.floor(random() * ceiling));
}
