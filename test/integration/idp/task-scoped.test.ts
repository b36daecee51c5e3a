// Task-scoped grants in the embedded IdP, driven by a real client (openid-client 6) through the
// real login and consent pages: the `task_scoped` client metadata the operator projects from a
// ConsentPolicy shortens tokens carrying a task-scoped scope, makes their refresh single use and
// bound to the user's session, and keeps them away from standing grants and client_credentials.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Registration } from '../../../src/idp/adapter.ts';
import { isIdpError } from '../../../src/idp/errors.ts';
import { createAdapter } from '../../../src/idp/registry.ts';
import { startEmbeddedIdp } from '../../../src/idp/embedded/server.ts';
import type { EmbeddedIdp } from '../../../src/idp/embedded/server.ts';
import { authorizeWithConsent, clientConfig, clientCredentials, introspect, oauthErrorOf, refresh } from './flows.ts';
import type { FormUserAgent } from './flows.ts';
import { TEST_ACCOUNTS } from './env.ts';
import * as oidc from 'openid-client';

let idp: EmbeddedIdp;
let agent: Registration;
let rs: Registration;
const redirectUri = 'http://127.0.0.1:9/cb';
const STANDING_ACCESS = 900;
const STANDING_REFRESH = 90 * 24 * 3600;
const TASK_TTL = 300;

const metadata = {
  client_name: 'Coding agent',
  grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
  redirect_uris: [redirectUri],
  response_types: ['code'],
  scope: 'openid offline_access code:read deployments:trigger',
  token_endpoint_auth_method: 'client_secret_basic' as const,
  software_id: 'cluster/ns/coding/uid-task',
  token_lifetimes: { access_token: STANDING_ACCESS, refresh_token: STANDING_REFRESH },
  task_scoped: { scopes: ['deployments:trigger'], access_token: TASK_TTL, single_use_refresh: true, session_binding: true },
};

beforeAll(async () => {
  idp = await startEmbeddedIdp({ logger: pino({ level: 'silent' }), accounts: TEST_ACCOUNTS });
  const adapter = createAdapter('embedded', { issuer: idp.issuer, initialAccessToken: idp.initialAccessToken, adminToken: idp.adminToken });
  agent = await adapter.register(metadata);
  rs = await adapter.register({
    client_name: 'resource server', grant_types: ['client_credentials'], redirect_uris: [], response_types: [],
    scope: 'rs', token_endpoint_auth_method: 'client_secret_basic', software_id: 'rs-task',
  });
});
afterAll(async () => {
  await idp?.stop();
});

const auth = () => ({ secret: agent.clientSecret ?? '' });
const authorize = (scope: string, ua?: FormUserAgent) =>
  authorizeWithConsent({ issuer: idp.issuer, clientId: agent.handle.clientId, auth: auth(), redirectUri, scope, login: 'alice', password: 'wonderland', prompt: 'consent', ...(ua ? { agent: ua } : {}) });
const inspect = (token: string) => introspect(idp.issuer, rs.handle.clientId, rs.clientSecret ?? '', token);
const secondsLeft = async (token: string) => {
  const info = await inspect(token);
  expect(info.active).toBe(true);
  return (info.exp ?? 0) - Math.floor(Date.now() / 1000);
};

/** Ends the user's session at the IdP, as a logout or a session expiry would. */
async function endSession(ua: FormUserAgent): Promise<void> {
  const id = /(?:^|; )_session=([^;]+)/.exec(ua.jar.header())?.[1];
  expect(id).toBeTruthy();
  const session = await idp.provider.Session.find(id ?? '');
  expect(session).toBeTruthy();
  await session?.destroy();
}

describe('task-scoped grants at the embedded IdP', () => {
  it('gives a standing grant the standing lifetimes', async () => {
    const { tokens } = await authorize('openid offline_access code:read');
    expect(tokens?.refresh_token).toBeTruthy();
    expect(tokens?.expires_in).toBe(STANDING_ACCESS);
    const refreshToken = tokens?.refresh_token ?? '';
    expect(await secondsLeft(refreshToken)).toBeGreaterThan(STANDING_REFRESH - 60);
    const next = await refresh(idp.issuer, agent.handle.clientId, auth(), refreshToken);
    expect(next.expires_in).toBe(STANDING_ACCESS);
    expect(next.scope?.split(' ')).not.toContain('deployments:trigger');
  });

  it('gives a task-scoped grant the task TTL for access and refresh tokens, never extended by rotation', async () => {
    const { tokens } = await authorize('openid offline_access code:read deployments:trigger');
    expect(tokens?.scope?.split(' ')).toContain('deployments:trigger');
    expect(tokens?.expires_in).toBe(TASK_TTL);
    const first = tokens?.refresh_token ?? '';
    const left = await secondsLeft(first);
    expect(left).toBeLessThanOrEqual(TASK_TTL);
    expect(left).toBeGreaterThan(TASK_TTL - 30);
    await new Promise((r) => setTimeout(r, 1100));
    const rotated = await refresh(idp.issuer, agent.handle.clientId, auth(), first);
    expect(rotated.expires_in).toBeLessThanOrEqual(TASK_TTL);
    // The rotated token inherits what remained, so the chain still ends TASK_TTL after it began.
    expect(await secondsLeft(rotated.refresh_token ?? '')).toBeLessThan(left);
    // A narrowed refresh without the task scope is still part of the task chain's lifetime.
    const narrowed = await oidc.refreshTokenGrant(await clientConfig(idp.issuer, agent.handle.clientId, auth()), rotated.refresh_token ?? '', { scope: 'code:read' });
    expect(narrowed.scope).toBe('code:read');
    expect(narrowed.expires_in).toBe(STANDING_ACCESS);
    expect(await secondsLeft(narrowed.refresh_token ?? '')).toBeLessThanOrEqual(TASK_TTL);
  });

  it('makes a task-scoped refresh token single use: replaying one revokes the whole grant', async () => {
    const { tokens } = await authorize('openid offline_access deployments:trigger');
    const first = tokens?.refresh_token ?? '';
    const second = await refresh(idp.issuer, agent.handle.clientId, auth(), first);
    expect(await oauthErrorOf(refresh(idp.issuer, agent.handle.clientId, auth(), first))).toBe('invalid_grant');
    expect(await oauthErrorOf(refresh(idp.issuer, agent.handle.clientId, auth(), second.refresh_token ?? ''))).toBe('invalid_grant');
    expect((await inspect(second.access_token)).active).toBe(false);
  });

  it('binds a task-scoped refresh token to the user session; a standing one outlives it', async () => {
    const standing = await authorize('openid offline_access code:read');
    const task = await authorize('openid offline_access code:read deployments:trigger', standing.agent);
    await endSession(standing.agent);
    expect(await oauthErrorOf(refresh(idp.issuer, agent.handle.clientId, auth(), task.tokens?.refresh_token ?? ''))).toBe('invalid_grant');
    const kept = await refresh(idp.issuer, agent.handle.clientId, auth(), standing.tokens?.refresh_token ?? '');
    expect(kept.expires_in).toBe(STANDING_ACCESS);
  });

  it('never lets a standing refresh token or client_credentials yield a task-scoped scope', async () => {
    const { tokens } = await authorize('openid offline_access code:read');
    const config = await clientConfig(idp.issuer, agent.handle.clientId, auth());
    expect(await oauthErrorOf(oidc.refreshTokenGrant(config, tokens?.refresh_token ?? '', { scope: 'code:read deployments:trigger' }))).toBe('invalid_scope');
    expect(await oauthErrorOf(clientCredentials(idp.issuer, agent.handle.clientId, auth(), 'deployments:trigger'))).toBe('invalid_scope');
    const machine = await clientCredentials(idp.issuer, agent.handle.clientId, auth(), 'code:read');
    expect(machine.scope).toBe('code:read');
    expect(machine.expires_in).toBe(STANDING_ACCESS);
  });

  it('rejects malformed task_scoped metadata at registration', async () => {
    const adapter = createAdapter('embedded', { issuer: idp.issuer, initialAccessToken: idp.initialAccessToken, adminToken: idp.adminToken });
    for (const task_scoped of [{ scopes: 'deployments:trigger', access_token: 300, single_use_refresh: true, session_binding: true }, { scopes: ['x'], access_token: 0, single_use_refresh: true, session_binding: true }, { scopes: ['x'], access_token: 60, single_use_refresh: true, session_binding: true, extra: 1 }]) {
      const error = await adapter.register({ ...metadata, software_id: `bad-${Math.random()}`, task_scoped }).then(() => undefined, (e: unknown) => e);
      expect(isIdpError(error) && error.code).toBe('InvalidClientMetadata');
    }
  });
});
