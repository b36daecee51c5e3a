/**
 * The embedded development IdP: a real `oidc-provider` (RFC 7591/7592/7009/7662/8707) with an
 * indexed store, login and consent pages and an admin API, served on loopback.
 *
 * Used by the dev stack, the README tour and the adapter conformance tests. Not for production:
 * users are a fixed in-memory list and all state is lost on stop.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';
import type { JWK } from 'oidc-provider';
import { exportJWK, generateKeyPair } from 'jose';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { AccountBook } from './accounts.ts';
import type { AccountEntry } from './accounts.ts';
import { handleAdmin } from './admin.ts';
import { embeddedConfiguration, widenScopeSet } from './config.ts';
// oidc-provider has no exports map; its internal configuration is reachable only this way.
import instance from 'oidc-provider/lib/helpers/weak_cache.js';
import { handleInteraction } from './interactions.ts';
import { IndexedStore } from './store.ts';

export interface EmbeddedIdpOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /**
   * Issuer to advertise instead of `http://host:port`, for putting a proxy (for example
   * `src/testing/faultproxy.ts`) at the issuer address in front of the real listener.
   */
  issuer?: string;
  initialAccessToken?: string;
  adminToken?: string;
  logger?: Logger;
  accounts?: Record<string, AccountEntry>;
}

export interface EmbeddedIdp {
  /** The advertised issuer (RFC 8414 `issuer`). */
  issuer: string;
  /** Where the server really listens (differs from `issuer` when one was given). */
  url: string;
  initialAccessToken: string;
  adminToken: string;
  store: IndexedStore;
  provider: Provider;
  /** IdP HTTP requests served so far (for "zero IdP calls when idle" checks). */
  callCount(): number;
  stop(): Promise<void>;
}

/** Routes oidc-provider serves for RFC 7592 management; they may see a disabled client. */
const MANAGEMENT_ROUTES = new Set(['client', 'client_update', 'client_delete']);

const DEFAULT_ACCOUNTS: Record<string, AccountEntry> = {
  alice: { password: 'wonderland', name: 'Alice Liddell', email: 'alice@example.test' },
};

async function signingKeys(): Promise<JWK[]> {
  const keys: JWK[] = [];
  for (const alg of ['RS256', 'ES256'] as const) {
    const { privateKey } = await generateKeyPair(alg, { extractable: true });
    const jwk = await exportJWK(privateKey);
    keys.push({ ...jwk, alg, use: 'sig', kid: `${alg.toLowerCase()}-${randomBytes(6).toString('hex')}` });
  }
  return keys;
}

function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Starts the embedded IdP; defaults: 127.0.0.1, a free port, random tokens, account alice/wonderland. */
export async function startEmbeddedIdp(options: EmbeddedIdpOptions = {}): Promise<EmbeddedIdp> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? pino();
  const initialAccessToken = options.initialAccessToken ?? randomBytes(32).toString('base64url');
  const adminToken = options.adminToken ?? randomBytes(32).toString('base64url');
  const accounts = new AccountBook(options.accounts ?? DEFAULT_ACCOUNTS);
  const store = new IndexedStore();
  let calls = 0;
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server = createServer((req, res) => {
    calls += 1;
    handler(req, res);
  });
  const address = await listen(server, host, options.port ?? 0);
  const url = `http://${formatHost(host)}:${address.port}`;
  const issuer = (options.issuer ?? url).replace(/\/$/, '');

  const provider = new Provider(issuer, embeddedConfiguration({
    issuer,
    initialAccessToken,
    store,
    accounts,
    signingKeys: await signingKeys(),
    cookieKeys: [randomBytes(32).toString('base64url')],
  }));
  widenScopeSet(instance(provider).configuration.scopes);
  store.hideDisabled = () => !MANAGEMENT_ROUTES.has(Provider.ctx?.oidc?.route ?? '');
  provider.on('server_error', (_ctx, error) => logger.error({ err: { message: error.message } }, 'idp server error'));
  const callback = provider.callback();
  const admin = { provider, store, adminToken, issuer, logger };
  const interactions = { provider, accounts, logger };

  handler = (req, res) => {
    const requestUrl = new URL(req.url ?? '/', issuer);
    const route = async (): Promise<void> => {
      if (await handleAdmin(admin, req, res, requestUrl)) return;
      if (await handleInteraction(interactions, req, res, requestUrl.pathname)) return;
      await callback(req, res);
    };
    route().catch((error: unknown) => {
      logger.error({ err: { message: error instanceof Error ? error.message : String(error) } }, 'idp request failed');
      if (!res.headersSent) {
        res.statusCode = 500;
        res.end();
      } else {
        res.destroy();
      }
    });
  };

  const sweeper = setInterval(() => store.sweep(), 60_000);
  sweeper.unref();
  logger.info({ issuer, url }, 'embedded IdP listening');

  return {
    issuer,
    url,
    initialAccessToken,
    adminToken,
    store,
    provider,
    callCount: () => calls,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        clearInterval(sweeper);
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
