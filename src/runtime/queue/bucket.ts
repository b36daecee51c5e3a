/**
 * An overall retry budget for one work queue: a token bucket (`qps` tokens a second, at most
 * `burst` saved up), after client-go's DefaultControllerRateLimiter, which takes the later of a
 * key's own exponential backoff and this bucket (10 qps, burst 100 there). Per-key backoff alone
 * lets a fleet of keys failing against one IdP retry together: with 1,000 AgentClients the first
 * retries of all of them land within milliseconds. The bucket spreads them to `qps` a second once
 * the burst is spent.
 *
 * Reservations, like golang.org/x/time/rate's `Reserve`: a caller always gets a token, possibly
 * one that only becomes available later, and is told how long to wait for it.
 */
export interface RetryRateLimit {
  /** Tokens added per second (> 0). */
  qps: number;
  /** Bucket size: how many retries may go at once after a quiet period (>= 1). */
  burst: number;
}

export class TokenBucket {
  readonly #perMs: number;
  readonly #burst: number;
  #tokens: number;
  #last: number | undefined;

  constructor(limit: RetryRateLimit) {
    if (!(limit.qps > 0) || !(limit.burst >= 1)) throw new Error('retry rate limit needs qps > 0 and burst >= 1');
    this.#perMs = limit.qps / 1000;
    this.#burst = limit.burst;
    this.#tokens = limit.burst;
  }

  /** Take one token at time `now` (ms); returns how long to wait until it is available (0 = now). */
  reserve(now: number): number {
    if (this.#last !== undefined) this.#tokens = Math.min(this.#burst, this.#tokens + Math.max(0, now - this.#last) * this.#perMs);
    this.#last = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil(-this.#tokens / this.#perMs);
  }
}
