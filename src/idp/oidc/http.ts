/**
 * The one place adapters speak HTTP to an IdP: per-call timeout, optional CA bundle, call
 * records for latency metrics, and classification of every failure into an {@link IdpError}.
 */
import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import { ResponseTooLarge, readBody } from '../../http/body.ts';
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
  headers: { get(name: string): string | null };
  text: string;
}

/** What the adapters need of a transport: one request, its status, headers and body text. */
type Transport = (url: string, init: { method: string; headers: Record<string, string>; body?: string; signal: AbortSignal }) => Promise<IdpResponse>;

/** Largest IdP response body read (a client list of the admin API included). */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/**
 * The default transport: node:http(s) with keep-alive pools (a fetch costs several times the CPU
 * of a plain request, and the operator makes one IdP call per AgentClient in a burst). Trust: the
 * system roots, plus the CA bundle when one is configured. Redirects are not followed.
 */
function nodeTransport(config: Pick<IdpAdapterConfig, 'caBundle'>): Transport {
  const common = { keepAlive: true, maxSockets: 64, maxFreeSockets: 16, timeout: 30_000, scheduling: 'lifo' as const };
  const agents = {
    http: new http.Agent(common),
    https: new https.Agent({ ...common, ...(config.caBundle ? { ca: [...rootCertificates, config.caBundle] } : {}) }),
  };
  return (url, init) =>
    new Promise<IdpResponse>((resolve, reject) => {
      const target = new URL(url);
      const secure = target.protocol === 'https:';
      const headers: Record<string, string | number> = { ...init.headers };
      if (init.body !== undefined) headers['content-length'] = Buffer.byteLength(init.body);
      const req = (secure ? https : http).request(
        target,
        { method: init.method, headers, agent: secure ? agents.https : agents.http, signal: init.signal },
        (res) => {
          const raw = res.headers;
          // An IdP answer is a few kilobytes; never buffer an unbounded one.
          readBody(res, MAX_RESPONSE_BYTES).then(
            (text) =>
              resolve({
                status: res.statusCode ?? 0,
                headers: { get: (name) => { const v = raw[name.toLowerCase()]; return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v; } },
                text,
              }),
            reject,
          );
        },
      );
      req.on('error', reject);
      req.end(init.body);
    });
}

/** An injected fetch (tests, tools) as a transport. */
function fetchTransport(fetchImpl: typeof fetch): Transport {
  return async (url, init) => {
    const response = await fetchImpl(url, { ...init, redirect: 'manual' });
    return { status: response.status, headers: response.headers, text: await response.text() };
  };
}

export class IdpHttp {
  readonly #transport: Transport;
  readonly #timeoutMs: number;
  readonly #onCall: ((call: IdpCallRecord) => void) | undefined;
  readonly #secrets: () => ReadonlyArray<string | undefined>;

  /**
   * @param secrets Every credential value the adapter may send or receive; redacted from
   *   messages even if an IdP echoes one.
   */
  constructor(config: IdpAdapterConfig, secrets: () => ReadonlyArray<string | undefined>) {
    this.#transport = config.fetch ? fetchTransport(config.fetch) : nodeTransport(config);
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
    let response: IdpResponse;
    try {
      response = await this.#transport(req.url, {
        method: req.method,
        headers,
        signal,
        ...(req.json === undefined ? {} : { body: JSON.stringify(req.json) }),
      });
    } catch (cause: unknown) {
      if (cause instanceof ResponseTooLarge) {
        const error = new IdpError('InvalidResponse', `${req.operation}: ${origin} answered with more than ${MAX_RESPONSE_BYTES} bytes`);
        record(undefined, error);
        throw error;
      }
      const error = errorForTransport(req.operation, cause, origin, this.#timeoutMs);
      record(undefined, error);
      throw error;
    }
    const ok = (response.status >= 200 && response.status < 300) || (req.accept ?? []).includes(response.status);
    if (!ok) {
      const error = errorForResponse({
        operation: req.operation,
        status: response.status,
        bodyText: response.text,
        retryAfter: response.headers.get('retry-after'),
        secrets: [...this.#secrets(), ...extraSecrets, req.bearer],
      });
      record(response.status, error);
      throw error;
    }
    record(response.status);
    return response;
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
