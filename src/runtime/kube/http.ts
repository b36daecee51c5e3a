/**
 * {@link KubeClient} over Node's http(s) with keep-alive connection pools.
 *
 * Why not the generated client-node APIs: in client-node 2.x every request builds a new undici
 * dispatcher, so each call pays a TCP+TLS handshake; under a 1,000-object backlog that starves
 * the API client. Here one pooled agent serves requests (bounded sockets) and a second one serves
 * long-lived watches so they never take a request socket. The server, CA, client certificates and
 * tokens come from a {@link KubeConnectionSource} (`kubeconfig.ts`); a client-node KubeConfig is
 * also accepted (tests and tools have one), through a type-only import so the operator process
 * never loads client-node.
 */
import http from 'node:http';
import https from 'node:https';
import { createInterface } from 'node:readline';
import { readBody } from '../../http/body.ts';
import type { KubeConfig } from '@kubernetes/client-node';
import { ApiError } from './errors.ts';
import type { KubeConnection, KubeConnectionSource } from './kubeconfig.ts';
import { resourcePath } from './client.ts';
import type { DeleteOptions, GetOptions, KubeClient, ListOptions, PatchOptions, PatchType, WatchEvent, WatchOptions, WriteOptions } from './client.ts';
import type { KubeList, KubeObject, ResourceType } from './types.ts';

const CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

export interface HttpKubeClientOptions {
  /** Concurrent request sockets (watches use their own pool). Default 64. */
  maxSockets?: number;
  /** Per-request timeout. Default 30 s. */
  requestTimeoutMs?: number;
  /** Default fieldManager for writes. */
  fieldManager?: string;
  /** How long resolved auth headers are reused (token files rotate). Default 30 s. */
  authCacheMs?: number;
}

interface Connection {
  server: URL;
  tls: https.RequestOptions;
  headers: Record<string, string>;
  at: number;
}

/** A client-node KubeConfig as a connection source (exec and file tokens resolved by it). */
export function clientNodeSource(kc: KubeConfig): KubeConnectionSource {
  return {
    description: `KubeConfig context ${kc.getCurrentContext()}`,
    async resolve(): Promise<KubeConnection> {
      const cluster = kc.getCurrentCluster();
      if (!cluster) throw new Error('kubeconfig has no current cluster');
      const opts: https.RequestOptions & { headers?: Record<string, string> } = {};
      await kc.applyToHTTPSOptions(opts);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(opts.headers ?? {})) if (typeof v === 'string') headers[k] = v;
      if (opts.auth) headers['Authorization'] = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
      return { server: new URL(cluster.server), tls: pickTls(opts), headers };
    },
  };
}

function isClientNodeConfig(config: KubeConfig | KubeConnectionSource): config is KubeConfig {
  return typeof (config as Partial<KubeConfig>).applyToHTTPSOptions === 'function';
}

export class HttpKubeClient implements KubeClient {
  readonly #source: KubeConnectionSource;
  readonly #options: Required<HttpKubeClientOptions>;
  #connection: Promise<Connection> | undefined;
  #requestAgent: http.Agent | undefined;
  #watchAgent: http.Agent | undefined;

  constructor(config: KubeConnectionSource | KubeConfig, options: HttpKubeClientOptions = {}) {
    this.#source = isClientNodeConfig(config) ? clientNodeSource(config) : config;
    this.#options = {
      maxSockets: options.maxSockets ?? 64,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      fieldManager: options.fieldManager ?? 'agent-identity-operator',
      authCacheMs: options.authCacheMs ?? 30_000,
    };
  }

  /** Close pooled sockets (call on shutdown). */
  close(): void {
    this.#requestAgent?.destroy();
    this.#watchAgent?.destroy();
  }

  async get<T extends KubeObject>(type: ResourceType, name: string, namespace?: string, options: GetOptions = {}): Promise<T | null> {
    const path = resourcePath(type, namespace, name);
    try {
      return await this.#request<T>('GET', options.resourceVersion === undefined ? path : `${path}?resourceVersion=${encodeURIComponent(options.resourceVersion)}`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return null;
      throw error;
    }
  }

  list<T extends KubeObject>(type: ResourceType, options: ListOptions = {}): Promise<KubeList<T>> {
    const query = new URLSearchParams();
    if (options.labelSelector) query.set('labelSelector', options.labelSelector);
    if (options.fieldSelector) query.set('fieldSelector', options.fieldSelector);
    if (options.limit) query.set('limit', String(options.limit));
    if (options.continue) query.set('continue', options.continue);
    if (options.resourceVersion !== undefined) query.set('resourceVersion', options.resourceVersion);
    return this.#request<KubeList<T>>('GET', withQuery(resourcePath(type, options.namespace), query));
  }

  create<T extends KubeObject>(type: ResourceType, obj: T, options: WriteOptions = {}): Promise<T> {
    const query = this.#writeQuery(options);
    return this.#request<T>('POST', withQuery(resourcePath(type, obj.metadata?.namespace), query), obj);
  }

  replace<T extends KubeObject>(type: ResourceType, obj: T, options: WriteOptions = {}): Promise<T> {
    const path = resourcePath(type, obj.metadata?.namespace, obj.metadata?.name ?? '', options.subresource);
    return this.#request<T>('PUT', withQuery(path, this.#writeQuery(options)), obj);
  }

  patch<T extends KubeObject>(
    type: ResourceType,
    name: string,
    namespace: string | undefined,
    patchType: PatchType,
    body: unknown,
    options: PatchOptions = {},
  ): Promise<T> {
    const query = this.#writeQuery(options);
    if (patchType === 'apply' && options.force) query.set('force', 'true');
    const path = resourcePath(type, namespace, name, options.subresource);
    return this.#request<T>('PATCH', withQuery(path, query), body, CONTENT_TYPES[patchType]);
  }

  async delete(type: ResourceType, name: string, namespace?: string, options: DeleteOptions = {}): Promise<boolean> {
    const body = { apiVersion: 'v1', kind: 'DeleteOptions', ...options };
    try {
      await this.#request('DELETE', resourcePath(type, namespace, name), body);
      return true;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return false;
      throw error;
    }
  }

  async watch<T extends KubeObject>(
    type: ResourceType,
    options: WatchOptions,
    onEvent: (event: WatchEvent<T>) => void,
  ): Promise<void> {
    const query = new URLSearchParams({ watch: 'true' });
    if (options.labelSelector) query.set('labelSelector', options.labelSelector);
    if (options.fieldSelector) query.set('fieldSelector', options.fieldSelector);
    if (options.resourceVersion) query.set('resourceVersion', options.resourceVersion);
    if (options.allowWatchBookmarks) query.set('allowWatchBookmarks', 'true');
    if (options.timeoutSeconds) query.set('timeoutSeconds', String(options.timeoutSeconds));
    const conn = await this.#connect();
    let res: http.IncomingMessage;
    try {
      res = await this.#send(conn, 'GET', withQuery(resourcePath(type, options.namespace), query), undefined, undefined, {
        agent: this.#agent('watch', conn),
        signal: options.signal,
        timeoutMs: 0,
      });
    } catch (error) {
      // Aborted before the response headers arrived: a stop, not a failure (same as mid-stream).
      if (options.signal?.aborted) return;
      throw error;
    }
    if (res.statusCode !== 200) throw await toApiError(res);
    await new Promise<void>((resolve, reject) => {
      const lines = createInterface({ input: res, crlfDelay: Infinity });
      let failed = false;
      lines.on('line', (line) => {
        if (!line || failed) return;
        let event: WatchEvent<T>;
        try {
          event = JSON.parse(line) as WatchEvent<T>;
        } catch {
          return;
        }
        try {
          onEvent(event);
        } catch (error) {
          failed = true;
          // A throwing handler would otherwise escape through the stream's 'data' emit and crash
          // the process; end this watch with the error instead (the informer re-watches).
          res.destroy(error instanceof Error ? error : new Error(String(error)));
        }
      });
      const fail = (error: Error): void => (options.signal?.aborted ? resolve() : reject(error));
      lines.on('close', () => resolve());
      // readline re-emits the response's errors (an abort shows up as ECONNRESET "aborted").
      lines.on('error', fail);
      res.on('error', fail);
    });
  }

  #writeQuery(options: WriteOptions): URLSearchParams {
    return new URLSearchParams({ fieldManager: options.fieldManager ?? this.#options.fieldManager });
  }

  async #request<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const conn = await this.#connect();
    // A string body goes out in one write with the headers (one TLS record); a Buffer would be a second.
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const res = await this.#send(conn, method, path, payload, contentType, {
      agent: this.#agent('request', conn),
      timeoutMs: this.#options.requestTimeoutMs,
    });
    if (res.statusCode === undefined || res.statusCode < 200 || res.statusCode >= 300) throw await toApiError(res);
    const text = await readBody(res);
    return (text ? JSON.parse(text) : {}) as T;
  }

  #send(
    conn: Connection,
    method: string,
    path: string,
    payload: string | undefined,
    contentType: string | undefined,
    opts: { agent: http.Agent; signal?: AbortSignal | undefined; timeoutMs: number },
  ): Promise<http.IncomingMessage> {
    const server = conn.server;
    const headers: Record<string, string | number> = { ...conn.headers, Accept: 'application/json' };
    if (payload !== undefined) {
      headers['Content-Type'] = contentType ?? 'application/json';
      headers['Content-Length'] = Buffer.byteLength(payload);
    }
    const secure = server.protocol === 'https:';
    const mod = secure ? https : http;
    // TLS settings live on the pooled agent (#agent), which applies them to every socket it opens.
    const options: https.RequestOptions = {
      protocol: server.protocol,
      hostname: server.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: server.port || (secure ? 443 : 80),
      path: server.pathname.replace(/\/$/, '') + path,
      method,
      headers,
      agent: opts.agent,
      ...(opts.signal ? { signal: opts.signal } : {}),
    };
    return new Promise((resolve, reject) => {
      const req = mod.request(options, resolve);
      if (opts.timeoutMs > 0) {
        req.setTimeout(opts.timeoutMs, () => req.destroy(new ApiError(504, 'Timeout', `${method} ${path.split('?')[0] ?? path} timed out`)));
      }
      req.on('error', reject);
      req.end(payload);
    });
  }

  #agent(kind: 'request' | 'watch', conn: Connection): http.Agent {
    const existing = kind === 'request' ? this.#requestAgent : this.#watchAgent;
    if (existing) return existing;
    const options: https.AgentOptions = {
      keepAlive: true,
      keepAliveMsecs: 30_000,
      maxSockets: kind === 'request' ? this.#options.maxSockets : Infinity,
      maxFreeSockets: kind === 'request' ? this.#options.maxSockets : 16,
      scheduling: 'lifo',
      ...(pickTls(conn.tls) as https.AgentOptions),
    };
    const agent = conn.server.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
    if (kind === 'request') this.#requestAgent = agent;
    else this.#watchAgent = agent;
    return agent;
  }

  #connect(): Promise<Connection> {
    const cached = this.#connection;
    if (cached) {
      return cached.then((c) => (Date.now() - c.at < this.#options.authCacheMs ? c : this.#refresh()));
    }
    return this.#refresh();
  }

  #refresh(): Promise<Connection> {
    const next = (async () => {
      const resolved = await this.#source.resolve();
      return { server: resolved.server, tls: pickTls(resolved.tls), headers: resolved.headers, at: Date.now() };
    })();
    this.#connection = next;
    next.catch(() => {
      if (this.#connection === next) this.#connection = undefined;
    });
    return next;
  }
}

function pickTls(opts: https.RequestOptions): https.RequestOptions {
  const tls: https.RequestOptions = {};
  if (opts.ca) tls.ca = opts.ca;
  if (opts.cert) tls.cert = opts.cert;
  if (opts.key) tls.key = opts.key;
  if (opts.rejectUnauthorized !== undefined) tls.rejectUnauthorized = opts.rejectUnauthorized;
  if (opts.servername) tls.servername = opts.servername;
  return tls;
}

function withQuery(path: string, query: URLSearchParams): string {
  const q = query.toString();
  return q ? `${path}?${q}` : path;
}

async function toApiError(res: http.IncomingMessage): Promise<ApiError> {
  const status = res.statusCode ?? 0;
  let reason = http.STATUS_CODES[status] ?? 'Unknown';
  let message = `${status} ${reason}`;
  let retryAfter: number | undefined = Number(res.headers['retry-after']) || undefined;
  try {
    const body = JSON.parse(await readBody(res)) as {
      reason?: string;
      message?: string;
      details?: { retryAfterSeconds?: number };
    };
    if (body.reason) reason = body.reason;
    if (body.message) message = body.message;
    retryAfter = body.details?.retryAfterSeconds ?? retryAfter;
  } catch {
    // Non-JSON error body: keep the status line.
  }
  return new ApiError(status, reason, message, retryAfter);
}
