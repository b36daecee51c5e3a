/**
 * A counting reverse proxy on loopback. The benchmark puts one in front of the kube-apiserver
 * (the operator's and the floor script's kubeconfig point at it) and one at the embedded IdP's
 * issuer address, so API writes and IdP calls are counted from the server side of the wire, not
 * by code inside the process being measured. Bodies are streamed (watches pass through).
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

/** One request as seen by the proxy (no headers, no bodies: they carry credentials). */
export interface SeenRequest {
  /** performance.now() when the request arrived. */
  at: number;
  method: string;
  path: string;
  query: string;
}

export interface CountingProxy {
  url: string;
  /** Requests since start or the last `reset()`. */
  requests(): readonly SeenRequest[];
  reset(): void;
  /** Point the proxy elsewhere (e.g. a restarted IdP behind the same issuer). */
  setTarget(url: string): void;
  /** Called for every request as it arrives. */
  onRequest(listener: ((request: SeenRequest) => void) | undefined): void;
  close(): Promise<void>;
}

export interface CountingProxyOptions {
  target: string;
  /** Serve TLS with this certificate (PEM); plain HTTP when absent. */
  tls?: { cert: string; key: string };
  /** CA trusted for an https target. */
  targetCa?: string;
}

export async function startCountingProxy(options: CountingProxyOptions): Promise<CountingProxy> {
  let target = new URL(options.target);
  let seen: SeenRequest[] = [];
  let listener: ((request: SeenRequest) => void) | undefined;
  const agentOptions = { keepAlive: true, maxSockets: Infinity, maxFreeSockets: 256 };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent({ ...agentOptions, ...(options.targetCa ? { ca: options.targetCa } : {}) });

  const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const request: SeenRequest = {
      at: performance.now(),
      method: req.method ?? 'GET',
      path: q >= 0 ? raw.slice(0, q) : raw,
      query: q >= 0 ? raw.slice(q + 1) : '',
    };
    seen.push(request);
    listener?.(request);
    const secure = target.protocol === 'https:';
    const send = secure ? https.request : http.request;
    const outgoing = send(
      {
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: raw,
        headers: req.headers,
        agent: secure ? httpsAgent : httpAgent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        // Watches stream events line by line: push each chunk at once.
        res.flushHeaders();
        answer.pipe(res);
        res.on('close', () => answer.destroy());
      },
    );
    outgoing.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.destroy();
    });
    req.on('aborted', () => outgoing.destroy());
    res.on('close', () => {
      if (!res.writableFinished) outgoing.destroy();
    });
    req.pipe(outgoing);
  };

  const server = options.tls ? https.createServer({ cert: options.tls.cert, key: options.tls.key }, handle) : http.createServer(handle);
  server.keepAliveTimeout = 60_000;
  const address = await new Promise<AddressInfo>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address() as AddressInfo));
  });
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${address.port}`,
    requests: () => seen,
    reset: () => {
      seen = [];
    },
    setTarget: (url) => {
      target = new URL(url);
    },
    onRequest: (fn) => {
      listener = fn;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        httpAgent.destroy();
        httpsAgent.destroy();
      }),
  };
}

export type WriteVerb = 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const WRITE_VERBS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * `group/plural[/subresource]` of a Kubernetes API path (`/secrets` for core), e.g.
 * `/apis/agentidentity.dev/v1alpha1/namespaces/a/agentclients/x/status` -> `agentidentity.dev/agentclients/status`.
 */
export function apiResource(path: string): string {
  const parts = path.split('/').filter(Boolean);
  let rest: string[];
  let group: string;
  if (parts[0] === 'api') {
    group = '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis') {
    group = parts[1] ?? '';
    rest = parts.slice(3);
  } else {
    return path;
  }
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  const [plural = '', , sub] = rest;
  return `${group}/${plural}${sub ? `/${sub}` : ''}`;
}

/** Kubernetes API writes (POST/PUT/PATCH/DELETE), counted per `VERB group/plural[/sub]`. */
export function countApiWrites(requests: readonly SeenRequest[]): { total: number; byResource: Record<string, number> } {
  const byResource: Record<string, number> = {};
  let total = 0;
  for (const r of requests) {
    if (!WRITE_VERBS.has(r.method)) continue;
    total += 1;
    const key = `${r.method} ${apiResource(r.path)}`;
    byResource[key] = (byResource[key] ?? 0) + 1;
  }
  return { total, byResource };
}

/** Kubernetes API reads: GET (list or get) and watches, per resource. */
export function countApiReads(requests: readonly SeenRequest[]): { total: number; watches: number; byResource: Record<string, number> } {
  const byResource: Record<string, number> = {};
  let total = 0;
  let watches = 0;
  for (const r of requests) {
    if (r.method !== 'GET') continue;
    const watch = /(^|&)watch=(true|1)/.test(r.query);
    if (watch) watches += 1;
    else total += 1;
    const key = `${watch ? 'WATCH' : 'GET'} ${apiResource(r.path)}`;
    byResource[key] = (byResource[key] ?? 0) + 1;
  }
  return { total, watches, byResource };
}

/**
 * What an IdP request was, by the embedded IdP's routes: RFC 7591 `register` (POST /reg), RFC 7592
 * `read`/`update`/`delete` (/reg/<id>), admin `revokeGrants`, `findBySoftwareId`, `setDisabled`,
 * discovery, and `other` (token, revocation, ...).
 */
export function idpOperation(request: SeenRequest): string {
  const { method, path } = request;
  if (path === '/reg') return method === 'POST' ? 'register' : `${method} /reg`;
  if (path.startsWith('/reg/')) return method === 'GET' ? 'read' : method === 'PUT' ? 'update' : method === 'DELETE' ? 'delete' : `${method} /reg/*`;
  if (path === '/admin/grants' && method === 'DELETE') return 'revokeGrants';
  if (path === '/admin/clients' && method === 'GET') return 'findBySoftwareId';
  if (/^\/admin\/clients\/[^/]+\/disabled$/.test(path)) return 'setDisabled';
  if (path.startsWith('/admin/')) return `admin ${method}`;
  if (path.startsWith('/.well-known/')) return 'discovery';
  return 'other';
}

export function countIdpCalls(requests: readonly SeenRequest[]): { total: number; byOperation: Record<string, number> } {
  const byOperation: Record<string, number> = {};
  for (const r of requests) {
    const op = idpOperation(r);
    byOperation[op] = (byOperation[op] ?? 0) + 1;
  }
  return { total: requests.length, byOperation };
}
