/**
 * The probe and metrics endpoints: `/healthz` (the process is alive and its loops healthy),
 * `/readyz` (caches synced, and leading or standing by healthily) and `/metrics` (Prometheus
 * text format). Probe and metrics servers may share one address or use two.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface Probe {
  ok: boolean;
  reason?: string;
}

export interface ServerRoutes {
  healthz?: () => Probe;
  readyz?: () => Probe;
  metrics?: Registry;
}

/** `:8080` -> all interfaces; `127.0.0.1:0` -> loopback, ephemeral port; `0` or '' -> disabled. */
export function parseBindAddress(address: string): { host: string | undefined; port: number } | undefined {
  if (address === '' || address === '0') return undefined;
  const colon = address.lastIndexOf(':');
  const host = colon > 0 ? address.slice(0, colon).replace(/^\[|\]$/g, '') : undefined;
  const port = Number(colon >= 0 ? address.slice(colon + 1) : address);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid bind address ${address}`);
  return { host, port };
}

export interface RunningServer {
  /** Where it listens (useful with port 0). */
  url: string;
  close(): Promise<void>;
}

export async function startServer(address: string, routes: ServerRoutes): Promise<RunningServer | undefined> {
  const bind = parseBindAddress(address);
  if (!bind) return undefined;
  const server = http.createServer((req, res) => {
    void handle(routes, req.url ?? '/').then(
      ({ status, type, body }) => {
        res.writeHead(status, { 'Content-Type': type });
        res.end(body);
      },
      () => {
        res.writeHead(500).end();
      },
    );
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(bind.port, bind.host, resolve);
  });
  const info = server.address() as AddressInfo;
  const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
  return {
    url: `http://${host}:${info.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(routes: ServerRoutes, url: string): Promise<{ status: number; type: string; body: string }> {
  const path = url.split('?')[0];
  const probe = path === '/healthz' ? routes.healthz : path === '/readyz' ? routes.readyz : undefined;
  if (probe) {
    const result = probe();
    return { status: result.ok ? 200 : 503, type: 'text/plain', body: result.ok ? 'ok\n' : `${result.reason ?? 'not ok'}\n` };
  }
  if (path === '/metrics' && routes.metrics) {
    return { status: 200, type: routes.metrics.contentType, body: await routes.metrics.metrics() };
  }
  return { status: 404, type: 'text/plain', body: 'not found\n' };
}
