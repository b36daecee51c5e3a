/**
 * The one place adapters speak HTTP to an IdP: per-call timeout, optional CA bundle, call
 * records for latency metrics, and classification of every failure into an {@link IdpError}.
 */
import { rootCertificates } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';
import type { IdpAdapterConfig, IdpCallRecord } from '../adapter.ts';
import { IdpError } from '../errors.ts';
import { errorForResponse, errorForTransport } from './classify.ts';

export const DEFAULT_TIMEOUT_MS = 10_000;

export interface IdpRequest {
  /** Adapter operation name, for messages and call records. */
  operation: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  /** Bearer token (initial access, registration access or admin token). */
  bearer?: string | undefined;
  json?: unknown;
  signal?: AbortSignal | undefined;
  /** Statuses the caller handles itself instead of getting an IdpError. */
  accept?: readonly number[];
}

export interface IdpResponse {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * Builds the fetch used for the IdP: the injected one, else undici with the CA bundle added to
 * the system roots, else the global fetch.
 */
export function idpFetch(config: Pick<IdpAdapterConfig, 'fetch' | 'caBundle'>): typeof fetch {
  if (config.fetch) return config.fetch;
  if (config.caBundle) {
    const dispatcher = new Agent({ connect: { ca: [...rootCertificates, config.caBundle] } });
    return ((input: string | URL, init?: RequestInit) =>
      undiciFetch(input, { ...(init as object), dispatcher })) as unknown as typeof fetch;
  }
  return globalThis.fetch;
}

export class IdpHttp {
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;
  readonly #onCall: ((call: IdpCallRecord) => void) | undefined;
  readonly #secrets: () => ReadonlyArray<string | undefined>;

  /**
   * @param secrets Every credential value the adapter may send or receive; redacted from
   *   messages even if an IdP echoes one.
   */
  constructor(config: IdpAdapterConfig, secrets: () => ReadonlyArray<string | undefined>) {
    this.#fetch = idpFetch(config);
    this.#timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#onCall = config.onCall;
    this.#secrets = secrets;
  }

  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  /** Performs one request; throws IdpError for transport failures and non-accepted statuses. */
  async request(req: IdpRequest, extraSecrets: ReadonlyArray<string | undefined> = []): Promise<IdpResponse> {
    const started = performance.now();
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (req.bearer !== undefined) headers['authorization'] = `Bearer ${req.bearer}`;
    if (req.json !== undefined) headers['content-type'] = 'application/json';
    const origin = safeOrigin(req.url);
    const record = (status: number | undefined, error?: IdpError): void => {
      this.#onCall?.({
        operation: req.operation,
        status,
        durationMs: performance.now() - started,
        ...(error ? { errorCode: error.code } : {}),
      });
    };
    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(req.url, {
        method: req.method,
        headers,
        signal,
        redirect: 'manual',
        ...(req.json === undefined ? {} : { body: JSON.stringify(req.json) }),
      });
      text = await response.text();
    } catch (cause: unknown) {
      const error = errorForTransport(req.operation, cause, origin, this.#timeoutMs);
      record(undefined, error);
      throw error;
    }
    const ok = (response.status >= 200 && response.status < 300) || (req.accept ?? []).includes(response.status);
    if (!ok) {
      const error = errorForResponse({
        operation: req.operation,
        status: response.status,
        bodyText: text,
        retryAfter: response.headers.get('retry-after'),
        secrets: [...this.#secrets(), ...extraSecrets, req.bearer],
      });
      record(response.status, error);
      throw error;
    }
    record(response.status);
    return { status: response.status, headers: response.headers, text };
  }

  /** Parses a JSON object body or throws InvalidResponse. */
  static json(operation: string, response: IdpResponse): Record<string, unknown> {
    try {
      const body = JSON.parse(response.text) as unknown;
      if (body && typeof body === 'object' && !Array.isArray(body)) return body as Record<string, unknown>;
    } catch {
      // fall through
    }
    throw new IdpError('InvalidResponse', `${operation}: IdP answered HTTP ${response.status} without a JSON object`, {
      status: response.status,
    });
  }
}

/** scheme://host:port of a URL, never its path or query. */
export function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'the IdP';
  }
}
