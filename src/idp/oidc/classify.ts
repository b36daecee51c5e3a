/**
 * Pure classification of IdP failures into {@link IdpError} codes, and redaction of messages.
 *
 * Messages are built from the operation, the HTTP status and the OAuth `error` /
 * `error_description` (RFC 6749 section 5.2, RFC 7591 section 3.2.2). Every credential the
 * adapter holds is redacted from them anyway, in case an IdP echoes one back.
 */
import { IdpError } from '../errors.ts';
import type { IdpErrorCode } from '../errors.ts';

const MAX_DESCRIPTION = 300;

/** Replaces every occurrence of a secret (of 4+ characters) and strips control characters. */
export function redact(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  // eslint-disable-next-line no-control-regex
  return out.replace(/[\u0000-\u001f\u007f]/g, ' ');
}

/**
 * Seconds to wait from a Retry-After header (RFC 9110 section 10.2.3): delay-seconds or an
 * HTTP-date. Undefined when absent or unparsable.
 */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

/** The OAuth error body of a response, when it has one. */
export interface OAuthErrorBody {
  error?: string;
  error_description?: string;
}

/** Parses `{ error, error_description }` from a response body text; {} when not JSON. */
export function parseOAuthError(text: string): OAuthErrorBody {
  try {
    const body = JSON.parse(text) as unknown;
    if (!body || typeof body !== 'object') return {};
    const { error, error_description: description } = body as Record<string, unknown>;
    return {
      ...(typeof error === 'string' ? { error } : {}),
      ...(typeof description === 'string' ? { error_description: description } : {}),
    };
  } catch {
    return {};
  }
}

/** The code for an HTTP error response. */
export function codeForResponse(status: number, oauthError: string | undefined): IdpErrorCode {
  if (status === 429) return 'RateLimited';
  if (status >= 500) return 'ServerError';
  if (oauthError === 'invalid_client_metadata' || oauthError === 'invalid_redirect_uri') return 'InvalidClientMetadata';
  if (oauthError === 'invalid_software_statement' || oauthError === 'unapproved_software_statement') {
    return 'InvalidSoftwareStatement';
  }
  if (status === 401 || status === 403 || oauthError === 'invalid_token') return 'Unauthorized';
  if (status === 404) return 'NotFound';
  return 'ClientError';
}

export interface ResponseFailure {
  operation: string;
  status: number;
  bodyText: string;
  retryAfter: string | null;
  secrets: ReadonlyArray<string | undefined>;
}

/** Builds the IdpError for a non-success response. The raw body is never part of the message. */
export function errorForResponse(failure: ResponseFailure): IdpError {
  const body = parseOAuthError(failure.bodyText);
  const code = codeForResponse(failure.status, body.error);
  const parts = [`${failure.operation}: IdP answered HTTP ${failure.status}`];
  if (body.error) parts.push(redact(body.error, failure.secrets).slice(0, 64));
  if (body.error_description) {
    parts.push(`(${redact(body.error_description, failure.secrets).slice(0, MAX_DESCRIPTION)})`);
  }
  const retryAfterSeconds = parseRetryAfter(failure.retryAfter);
  return new IdpError(code, parts.join(' '), {
    status: failure.status,
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    // The cause holds only the parsed, redacted OAuth error, not headers (they carry our tokens).
    cause: {
      status: failure.status,
      ...(body.error === undefined ? {} : { error: redact(body.error, failure.secrets) }),
      ...(body.error_description === undefined ? {} : { error_description: redact(body.error_description, failure.secrets) }),
    },
  });
}

/** Node's network error codes (undici puts them on `cause`). */
function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function isAbort(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'AbortError' || name === 'TimeoutError';
}

/** Builds the IdpError for a request that got no response (network failure, timeout, abort). */
export function errorForTransport(operation: string, error: unknown, origin: string, timeoutMs: number): IdpError {
  if (isAbort(error)) {
    return new IdpError('Timeout', `${operation}: no answer from ${origin} within ${timeoutMs} ms (or the call was aborted)`);
  }
  const code = networkCode(error);
  // Only the error code and the IdP origin: never the request URL (a registration client URI
  // may be opaque) nor the error's own message.
  return new IdpError('Unreachable', `${operation}: cannot reach ${origin}${code ? ` (${code})` : ''}`, {
    cause: code === undefined ? undefined : { code },
  });
}
