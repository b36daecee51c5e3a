import { describe, expect, it } from 'vitest';
import { codeForResponse, errorForResponse, errorForTransport, parseRetryAfter, redact } from './classify.ts';

describe('IdP error classification', () => {
  it.each([
    [429, undefined, 'RateLimited'],
    [500, undefined, 'ServerError'],
    [503, 'temporarily_unavailable', 'ServerError'],
    [400, 'invalid_client_metadata', 'InvalidClientMetadata'],
    [400, 'invalid_redirect_uri', 'InvalidClientMetadata'],
    [400, 'invalid_software_statement', 'InvalidSoftwareStatement'],
    [401, 'invalid_token', 'Unauthorized'],
    [403, undefined, 'Unauthorized'],
    [400, 'invalid_token', 'Unauthorized'],
    [404, undefined, 'NotFound'],
    [400, 'invalid_request', 'ClientError'],
    [409, undefined, 'ClientError'],
  ] as const)('HTTP %i %s -> %s', (status, error, code) => {
    expect(codeForResponse(status, error)).toBe(code);
  });

  it('parses Retry-After as seconds or HTTP-date', () => {
    expect(parseRetryAfter('7')).toBe(7);
    expect(parseRetryAfter(new Date(1_000_000 + 30_000).toUTCString(), 1_000_000)).toBe(30);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it('never puts a secret into the message, even if the IdP echoes it', () => {
    const secret = 'reg-token-0123456789abcdef';
    const error = errorForResponse({
      operation: 'update', status: 400, retryAfter: '3',
      bodyText: JSON.stringify({ error: 'invalid_client_metadata', error_description: `bad token ${secret}\nend` }),
      secrets: [secret, undefined],
    });
    expect(error.code).toBe('InvalidClientMetadata');
    expect(error.message).not.toContain(secret);
    expect(error.message).toContain('[redacted]');
    expect(error.message).not.toContain('\n');
    expect(error.retryAfterSeconds).toBe(3);
    expect(JSON.stringify(error.cause)).not.toContain('authorization');
    expect(redact('abc', ['abc'])).toBe('abc'); // too short to be a credential
  });

  it('ignores non-JSON bodies', () => {
    const error = errorForResponse({ operation: 'read', status: 502, bodyText: '<html>proxy</html>', retryAfter: null, secrets: [] });
    expect(error.code).toBe('ServerError');
    expect(error.message).toBe('read: IdP answered HTTP 502');
    expect(error.transient).toBe(true);
  });

  it('classifies transport failures', () => {
    const refused = errorForTransport('register', Object.assign(new TypeError('fetch failed'), {
      cause: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:1' },
    }), 'http://127.0.0.1:1', 1000);
    expect(refused.code).toBe('Unreachable');
    expect(refused.message).toBe('register: cannot reach http://127.0.0.1:1 (ECONNREFUSED)');
    const timeout = errorForTransport('read', new DOMException('timed out', 'TimeoutError'), 'http://x', 50);
    expect(timeout.code).toBe('Timeout');
    const aborted = errorForTransport('read', new DOMException('aborted', 'AbortError'), 'http://x', 50);
    expect(aborted.code).toBe('Timeout');
  });
});
