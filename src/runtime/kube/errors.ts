/**
 * API server failures as one error class. `reason` is the metav1.Status reason (`NotFound`,
 * `Conflict`, `AlreadyExists`, `Expired`/`Gone`, `Invalid`, ...); messages come from the API
 * server's Status and never carry request bodies (which may hold Secret data).
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  readonly reason: string;
  /** Seconds, from Retry-After or Status.details.retryAfterSeconds (429, some 5xx). */
  readonly retryAfterSeconds: number | undefined;

  constructor(status: number, reason: string, message: string, retryAfterSeconds?: number) {
    super(message);
    this.status = status;
    this.reason = reason;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export function isApiError(error: unknown): error is ApiError {
  return error instanceof ApiError;
}

export const isNotFound = (e: unknown): boolean => isApiError(e) && e.status === 404;
export const isConflict = (e: unknown): boolean => isApiError(e) && e.status === 409;
export const isAlreadyExists = (e: unknown): boolean => isApiError(e) && e.status === 409 && e.reason === 'AlreadyExists';
/** 410 Gone: a watch or list asked for a resourceVersion etcd has compacted away. */
export const isGone = (e: unknown): boolean => isApiError(e) && e.status === 410;
/** 422 from a failed JSON-patch `test` op or a validation failure. */
export const isInvalid = (e: unknown): boolean => isApiError(e) && e.status === 422;
