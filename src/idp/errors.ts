/**
 * One error class for every IdP failure, with a stable code and a classification the
 * controllers act on: `transient` errors are retried with backoff; the others become a False
 * condition with the code as reason and wait for a change.
 *
 * Messages never carry credential values: adapters build them from status codes, OAuth `error`
 * codes and `error_description` (which RFC 6749 section 5.2 limits to human-readable text), and
 * pass the raw response only as `cause`.
 */
export type IdpErrorCode =
  | 'Unreachable' // connection refused, DNS, TLS
  | 'Timeout'
  | 'RateLimited' // 429
  | 'ServerError' // 5xx
  | 'InvalidClientMetadata' // RFC 7591 section 3.2.2 invalid_client_metadata / invalid_redirect_uri
  | 'InvalidSoftwareStatement'
  | 'Unauthorized' // initial access token / registration access token / admin token refused
  | 'NotFound'
  | 'Unsupported' // the IdP lacks the capability
  | 'InvalidResponse' // the IdP answered something we cannot parse
  | 'ClientError'; // any other 4xx

const TRANSIENT: ReadonlySet<IdpErrorCode> = new Set(['Unreachable', 'Timeout', 'RateLimited', 'ServerError']);

export class IdpError extends Error {
  override readonly name = 'IdpError';
  readonly code: IdpErrorCode;
  readonly status: number | undefined;
  /** Seconds, from Retry-After where the IdP sent one. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: IdpErrorCode,
    message: string,
    options: { status?: number; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** Retry with backoff; otherwise report and wait for a spec or IdP change. */
  get transient(): boolean {
    return TRANSIENT.has(this.code);
  }
}

export function isIdpError(error: unknown): error is IdpError {
  return error instanceof IdpError;
}
