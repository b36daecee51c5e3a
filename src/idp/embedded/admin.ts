/**
 * The embedded IdP's admin API (bearer admin token), for what RFC 7591/7592 cannot do:
 *
 * - `DELETE /admin/grants?client_id=&sub=&scope=` revokes matching grants and every token
 *   derived from them; answers `{ grantsRevoked, tokensRevoked }`.
 * - `GET /admin/clients?software_id=` lists registrations (client_id + metadata, never secrets).
 * - `POST /admin/clients/{client_id}/registration-token` mints a fresh registration access token
 *   (to adopt a registration after a crash) and invalidates the old ones.
 * - `PUT /admin/clients/{client_id}/disabled` with `{ "disabled": boolean }` suspends a client.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Provider } from 'oidc-provider';
import { constantTimeEqual } from './accounts.ts';
import type { IndexedStore } from './store.ts';

export interface AdminDeps {
  provider: Provider;
  store: IndexedStore;
  adminToken: string;
  issuer: string;
  logger: Logger;
}

const SECRET_FIELDS = new Set(['client_secret']);
const MAX_BODY_BYTES = 4096;

function json(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Cache-Control', 'no-store');
  res.end(JSON.stringify(body));
}

function oauthError(res: ServerResponse, status: number, error: string, description: string): void {
  json(res, status, { error, error_description: description });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Error('body too large');
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}

/** Public view of a stored registration: every metadata field except secrets. */
export function publicRegistration(payload: Record<string, unknown>, disabled: boolean): Record<string, unknown> {
  const metadata: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(payload)) if (!SECRET_FIELDS.has(k)) metadata[k] = v;
  return { client_id: payload['client_id'], disabled, metadata };
}

function authorized(req: IncomingMessage, adminToken: string): boolean {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer (.+)$/i.exec(header);
  return match?.[1] !== undefined && constantTimeEqual(match[1], adminToken);
}

/** `/admin/clients/{client_id}/registration-token|disabled`; false when the method does not fit. */
async function handleClientRoute(
  deps: AdminDeps,
  req: IncomingMessage,
  res: ServerResponse,
  clientId: string,
  route: string,
): Promise<boolean> {
  const { provider, store, logger } = deps;
  if (!store.client(clientId)) {
    oauthError(res, 404, 'invalid_client', 'client not found');
    return true;
  }
  if (route === 'registration-token' && req.method === 'POST') {
    const invalidated = store.destroyRegistrationTokens(clientId);
    // The typings omit the constructor payload; oidc-provider's registration action passes it.
    const RegistrationAccessToken = provider.RegistrationAccessToken as unknown as new (payload: {
      clientId: string;
    }) => { save(): Promise<string> };
    const token = await new RegistrationAccessToken({ clientId }).save();
    logger.info({ event: 'admin.registrationToken', clientId, invalidated }, 'registration access token minted');
    json(res, 200, {
      client_id: clientId,
      registration_access_token: token,
      registration_client_uri: `${deps.issuer}/reg/${encodeURIComponent(clientId)}`,
    });
    return true;
  }
  if (route === 'disabled' && req.method === 'PUT') {
    let body: unknown;
    try {
      body = await readJson(req);
    } catch {
      oauthError(res, 400, 'invalid_request', 'body must be JSON');
      return true;
    }
    const disabled = (body as { disabled?: unknown } | null)?.disabled;
    if (typeof disabled !== 'boolean') {
      oauthError(res, 400, 'invalid_request', 'disabled must be a boolean');
      return true;
    }
    store.setDisabled(clientId, disabled);
    logger.info({ event: 'admin.setDisabled', clientId, disabled }, 'client disabled state changed');
    json(res, 200, { client_id: clientId, disabled });
    return true;
  }
  return false;
}

/** Handles `/admin/...`; resolves false for other paths. */
export async function handleAdmin(deps: AdminDeps, req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  if (url.pathname !== '/admin' && !url.pathname.startsWith('/admin/')) return false;
  const { store, logger } = deps;
  if (!authorized(req, deps.adminToken)) {
    res.setHeader('WWW-Authenticate', 'Bearer realm="admin"');
    oauthError(res, 401, 'invalid_token', 'admin token missing or invalid');
    return true;
  }
  const path = url.pathname;
  const clientRoute = /^\/admin\/clients\/([^/]+)\/(registration-token|disabled)$/.exec(path);

  if (path === '/admin/grants' && req.method === 'DELETE') {
    const clientId = url.searchParams.get('client_id');
    if (!clientId) {
      oauthError(res, 400, 'invalid_request', 'client_id is required');
      return true;
    }
    const sub = url.searchParams.get('sub') ?? undefined;
    const scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
    const result = store.revokeGrants({
      clientId, ...(sub === undefined ? {} : { subject: sub }), ...(scopes.length ? { scopes } : {}),
    });
    logger.info({ event: 'admin.revokeGrants', clientId, subject: sub, scopes, ...result }, 'grants revoked');
    json(res, 200, result);
    return true;
  }
  if (path === '/admin/clients' && req.method === 'GET') {
    const softwareId = url.searchParams.get('software_id');
    const clients = store.clients()
      .filter((c) => softwareId === null || c['software_id'] === softwareId)
      .map((c) => publicRegistration(c, store.isDisabled(String(c['client_id']))));
    json(res, 200, { clients });
    return true;
  }
  if (clientRoute && (await handleClientRoute(deps, req, res, decodeURIComponent(clientRoute[1] ?? ''), clientRoute[2] ?? ''))) {
    return true;
  }
  oauthError(res, 404, 'not_found', 'no such admin endpoint');
  return true;
}
