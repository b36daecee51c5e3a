/**
 * Polling for tests against real servers (eventually consistent through watches). The harnesses
 * keep their own `eventually` signatures; they all poll through {@link pollUntil}.
 */

export interface PollOptions {
  timeoutMs: number;
  /** Named in the timeout error. */
  what?: string;
  intervalMs?: number;
  /** Whether a value ends the wait. Default: anything but undefined, null and false. */
  ready?: (value: unknown) => boolean;
  /** Whether a throwing check is retried (the last error is named on timeout). Default true. */
  retryErrors?: boolean;
}

const notEmpty = (value: unknown): boolean => value !== undefined && value !== null && value !== false;

/** A `ready` for waits where `null` is a value (a deleted object read as null is what some want). */
export const notUndefinedOrFalse = (value: unknown): boolean => value !== undefined && value !== false;

/** Calls `check` until it returns a ready value, or throws once `timeoutMs` has passed. */
export async function pollUntil<T>(check: () => Promise<T> | T, options: PollOptions): Promise<T> {
  const { timeoutMs, what = 'condition', intervalMs = 100, ready = notEmpty, retryErrors = true } = options;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (ready(value)) return value;
    } catch (error) {
      if (!retryErrors) throw error;
      last = error;
    }
    if (Date.now() > deadline) {
      const cause = last === undefined ? '' : `: ${last instanceof Error ? last.message : JSON.stringify(last)}`;
      throw new Error(`timed out waiting for ${what}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
