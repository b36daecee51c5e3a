/**
 * A loopback HTTP proxy in front of an IdP whose behaviour tests switch at run time: pass
 * through, drop the connection, delay, answer 5xx / 429 / a given 4xx body, only for the Nth
 * matching request or only for requests matching a method + path predicate. Counts requests.
 *
 * Issuer: RFC 8414 requires the discovered issuer to equal the configured one, so the proxy must
 * sit AT the issuer address rather than rewrite documents. Start the proxy first, then the IdP
 * with `issuer: proxy.url` (see `startEmbeddedIdp({ issuer })`), then `proxy.setTarget(idp.url)`.
 * The proxy forwards the Host header unchanged.
 */
import { createServer, request as httpRequest } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  | { kind: 'pass' }
  /** Destroys the client socket without answering (the client sees a reset / closed socket). */
  | { kind: 'drop' }
  /** Waits, then passes through (a client with a shorter timeout sees a timeout). */
  | { kind: 'delay'; ms: number }
  /** Answers this status and body itself (5xx, 4xx with an OAuth error body, ...). */
  | { kind: 'respond'; status: number; body?: unknown; headers?: Record<string, string> }
  /** Forwards (the IdP acts on it), then answers this status with an HTML body (a gateway that lost the answer). */
  | { kind: 'forwardThenRespond'; status: number }
  /** Forwards only after `ms` even if the client gave up meanwhile (a request that lands after the client's timeout). */
  | { kind: 'forwardLate'; ms: number }
  /** Forwards and removes registration_client_uri / registration_access_token from the JSON answer (an IdP without RFC 7592). */
  | { kind: 'stripManagement' };

export interface RequestInfo {
  method: string;
  path: string;
}

export interface FaultRule {
  fault: Fault;
  /** Only requests this predicate accepts count for and get the fault (default: all). */
  match?: (request: RequestInfo) => boolean;
  /** Fault only the Nth (1-based) matching request after the rule was set; others pass. */
  nth?: number;
  /** Fault this many matching requests, then pass (default: unlimited). */
  times?: number;
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: use it as the IdP issuer. */
  url: string;
  setTarget(url: string): void;
  /** Replaces every rule with this one. */
  set(rule: FaultRule | Fault): void;
  /** Adds a rule; the first rule whose predicate matches decides. */
  add(rule: FaultRule | Fault): void;
  /** Pass everything through again. */
  reset(): void;
  passThrough(): void;
  drop(match?: FaultRule['match']): void;
  delay(ms: number, match?: FaultRule['match']): void;
  serverError(status?: number, match?: FaultRule['match']): void;
  rateLimit(retryAfterSeconds: number, match?: FaultRule['match']): void;
  respond(status: number, body: unknown, match?: FaultRule['match']): void;
  /** Requests received (faulted or not) since start or the last `resetCount()`. */
  requestCount(): number;
  requests(): RequestInfo[];
  resetCount(): void;
  close(): Promise<void>;
}

/** A predicate for one method and a path (exact string or RegExp). */
export function matching(method: string, path: string | RegExp): (request: RequestInfo) => boolean {
  return (request) =>
    request.method === method.toUpperCase() && (typeof path === 'string' ? request.path === path : path.test(request.path));
}

interface ActiveRule extends FaultRule {
  seen: number;
  faulted: number;
}

function toRule(rule: FaultRule | Fault): ActiveRule {
  const base: FaultRule = 'fault' in rule ? rule : { fault: rule };
  return { ...base, seen: 0, faulted: 0 };
}

/** Starts the proxy on loopback (free port unless one is given). */
export async function startFaultProxy(options: { target?: string; host?: string; port?: number } = {}): Promise<FaultProxy> {
  let target = options.target;
  let rules: ActiveRule[] = [];
  let log: RequestInfo[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const decide = (info: RequestInfo): Fault => {
    for (const rule of rules) {
      if (rule.match && !rule.match(info)) continue;
      rule.seen += 1;
      if (rule.nth !== undefined && rule.seen !== rule.nth) return { kind: 'pass' };
      if (rule.times !== undefined && rule.faulted >= rule.times) return { kind: 'pass' };
      rule.faulted += 1;
      return rule.fault;
    }
    return { kind: 'pass' };
  };

  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    if (!target) {
      res.statusCode = 502;
      res.end();
      return;
    }
    const upstream = new URL(req.url ?? '/', target);
    const outgoing = httpRequest(upstream, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    outgoing.on('error', () => res.destroy());
    req.pipe(outgoing);
  };

  const server: Server = createServer((req, res) => {
    const info: RequestInfo = { method: req.method ?? 'GET', path: new URL(req.url ?? '/', 'http://proxy').pathname };
    log.push(info);
    const fault = decide(info);
    switch (fault.kind) {
      case 'pass':
        forward(req, res);
        return;
      case 'drop':
        req.socket.destroy();
        return;
      case 'delay': {
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!req.socket.destroyed) forward(req, res);
        }, fault.ms);
        timers.add(timer);
        return;
      }
      case 'forwardThenRespond': {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const upstream = new URL(req.url ?? '/', target);
          const out = httpRequest(upstream, { method: req.method, headers: req.headers }, (answer) => {
            answer.resume();
            answer.on('end', () => { res.writeHead(fault.status, { 'content-type': 'text/html' }); res.end('<html>bad gateway</html>'); });
          });
          out.on('error', () => res.destroy());
          out.end(Buffer.concat(chunks));
        });
        return;
      }
      case 'stripManagement': {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const upstream = new URL(req.url ?? '/', target);
          const out = httpRequest(upstream, { method: req.method, headers: req.headers }, (answer) => {
            const parts: Buffer[] = [];
            answer.on('data', (c: Buffer) => parts.push(c));
            answer.on('end', () => {
              const raw = Buffer.concat(parts).toString('utf8');
              let text = raw;
              try {
                const body = JSON.parse(raw) as Record<string, unknown>;
                delete body['registration_client_uri'];
                delete body['registration_access_token'];
                text = JSON.stringify(body);
              } catch {
                // Not JSON: passed on unchanged.
              }
              res.writeHead(answer.statusCode ?? 502, { 'content-type': 'application/json' });
              res.end(text);
            });
          });
          out.on('error', () => res.destroy());
          out.end(Buffer.concat(chunks));
        });
        return;
      }
      case 'forwardLate': {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const timer = setTimeout(() => {
            timers.delete(timer);
            const upstream = new URL(req.url ?? '/', target);
            const out = httpRequest(upstream, { method: req.method, headers: req.headers }, (answer) => {
              if (req.socket.destroyed) { answer.resume(); return; }
              res.writeHead(answer.statusCode ?? 502, answer.headers);
              answer.pipe(res);
            });
            out.on('error', () => res.destroy());
            out.end(Buffer.concat(chunks));
          }, fault.ms);
          timers.add(timer);
        });
        return;
      }
      case 'respond': {
        const body = fault.body === undefined ? '' : typeof fault.body === 'string' ? fault.body : JSON.stringify(fault.body);
        res.writeHead(fault.status, {
          ...(typeof fault.body === 'object' ? { 'content-type': 'application/json' } : {}),
          ...fault.headers,
        });
        // Drain the request so the client is not stuck writing its body.
        req.resume();
        res.end(body);
        return;
      }
    }
  });

  const address = await new Promise<AddressInfo>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve(server.address() as AddressInfo));
  });
  const host = options.host ?? '127.0.0.1';

  const proxy: FaultProxy = {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    setTarget: (url) => {
      target = url;
    },
    set: (rule) => {
      rules = [toRule(rule)];
    },
    add: (rule) => {
      rules.push(toRule(rule));
    },
    reset: () => {
      rules = [];
    },
    passThrough: () => {
      rules = [];
    },
    drop: (match) => proxy.set({ fault: { kind: 'drop' }, ...(match ? { match } : {}) }),
    delay: (ms, match) => proxy.set({ fault: { kind: 'delay', ms }, ...(match ? { match } : {}) }),
    serverError: (status = 500, match) =>
      proxy.set({ fault: { kind: 'respond', status, body: { error: 'server_error' } }, ...(match ? { match } : {}) }),
    rateLimit: (retryAfterSeconds, match) =>
      proxy.set({
        fault: { kind: 'respond', status: 429, body: { error: 'rate_limited' }, headers: { 'retry-after': String(retryAfterSeconds) } },
        ...(match ? { match } : {}),
      }),
    respond: (status, body, match) => proxy.set({ fault: { kind: 'respond', status, body }, ...(match ? { match } : {}) }),
    requestCount: () => log.length,
    requests: () => [...log],
    resetCount: () => {
      log = [];
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
  return proxy;
}
