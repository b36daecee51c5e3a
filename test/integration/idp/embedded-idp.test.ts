// The embedded IdP's own behaviour beyond the adapter contract: agent-aware and delta consent
// pages (driven by HTTP form posts), consent audit log, per-client token lifetimes, refresh token
// rotation, opaque access tokens, admin API authentication, idle call count.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Registration } from '../../../src/idp/adapter.ts';
import { createAdapter } from '../../../src/idp/registry.ts';
import { startEmbeddedIdp } from '../../../src/idp/embedded/server.ts';
import type { EmbeddedIdp } from '../../../src/idp/embedded/server.ts';
import { FormUserAgent, authorizeWithConsent, clientCredentials, introspect, oauthErrorOf, refresh } from './flows.ts';
import { TEST_ACCOUNTS } from './env.ts';

const logLines: Array<Record<string, unknown>> = [];
const rawLog: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
      rawLog.push(line);
      logLines.push(JSON.parse(line) as Record<string, unknown>);
    }
    done();
  },
});

let idp: EmbeddedIdp;
let agent: Registration;
let rs: Registration;
const redirectUri = 'http://127.0.0.1:9/cb';

beforeAll(async () => {
  idp = await startEmbeddedIdp({ logger: pino({ level: 'info' }, sink), accounts: TEST_ACCOUNTS });
  const adapter = createAdapter('embedded', { issuer: idp.issuer, initialAccessToken: idp.initialAccessToken, adminToken: idp.adminToken });
  agent = await adapter.register({
    client_name: 'Release Notes Agent',
    grant_types: ['authorization_code', 'refresh_token'],
    redirect_uris: [redirectUri],
    response_types: ['code'],
    scope: 'notes.read notes.write notes.share',
    token_endpoint_auth_method: 'client_secret_basic',
    software_id: 'cluster/ns/notes/uid-1',
    agent_metadata: { owner: 'team-docs', agent_type: 'writer', capability_version: '2.1' },
    token_lifetimes: { access_token: 120, refresh_token: 600 },
  });
  rs = await adapter.register({
    client_name: 'resource server', grant_types: ['client_credentials'], redirect_uris: [], response_types: [],
    scope: 'rs', token_endpoint_auth_method: 'client_secret_basic', software_id: 'rs',
  });
});
afterAll(async () => {
  await idp?.stop();
});

const auth = () => ({ secret: agent.clientSecret! });
const authorize = (scope: string, ua?: FormUserAgent, decision?: 'allow' | 'deny') =>
  authorizeWithConsent({
    issuer: idp.issuer, clientId: agent.handle.clientId, auth: auth(), redirectUri, scope,
    login: 'alice', password: 'wonderland', ...(ua ? { agent: ua } : {}), ...(decision ? { decision } : {}),
  });
const requestedOn = (page: string) =>
  [...(/<ul class="requested">(.*?)<\/ul>/s.exec(page)?.[1] ?? '').matchAll(/data-scope="([^"]+)"/g)].map((m) => m[1]);

describe('embedded IdP consent', () => {
  let ua: FormUserAgent;

  it('shows the agent, its metadata and the requested scopes, then issues opaque tokens', async () => {
    const first = await authorize('notes.read');
    ua = first.agent;
    const page = first.consentPage ?? '';
    expect(page).toContain('Release Notes Agent is requesting access');
    expect(page).toContain('data-field="owner">team-docs');
    expect(page).toContain('data-field="agent_type">writer');
    expect(page).toContain('data-field="capability_version">2.1');
    expect(requestedOn(page)).toEqual(['notes.read']);
    expect(first.tokens?.scope).toBe('notes.read');
    expect(first.tokens?.access_token.split('.').length).toBe(1); // opaque, not a JWT
    expect(first.tokens?.expires_in).toBe(120);
  });

  it('on a delta, asks only for the new scope', async () => {
    const second = await authorize('notes.read notes.write', ua);
    const page = second.consentPage ?? '';
    expect(page).toContain('Release Notes Agent is requesting a new permission: notes.write');
    expect(requestedOn(page)).toEqual(['notes.write']);
    expect(page).toMatch(/<ul class="granted">.*data-scope="notes.read"/s);
    expect(second.tokens?.scope?.split(' ').sort()).toEqual(['notes.read', 'notes.write']);
  });

  it('finds the earlier grant from a new browser session too', async () => {
    const third = await authorize('notes.read notes.write notes.share', new FormUserAgent());
    expect(third.consentPage).toContain('is requesting a new permission: notes.share');
    expect(requestedOn(third.consentPage ?? '')).toEqual(['notes.share']);
  });

  it('refuses a scope outside the ceiling at the authorization endpoint', async () => {
    const result = await authorize('notes.read notes.admin', new FormUserAgent());
    expect(result.error).toBe('invalid_scope');
  });

  it('records each decision with time and scope delta, without credentials', async () => {
    const denied = await authorizeWithConsent({
      issuer: idp.issuer, clientId: agent.handle.clientId, auth: auth(), redirectUri, scope: 'notes.read',
      login: 'bob', password: 'builder', decision: 'deny',
    });
    expect(denied.error).toBe('access_denied');
    const consents = logLines.filter((l) => l['event'] === 'consent');
    const delta = consents.find((l) => l['decision'] === 'granted' && l['delta'] === true);
    expect(delta).toMatchObject({ clientId: agent.handle.clientId, subject: 'alice', added: ['notes.write'], previouslyGranted: ['notes.read'] });
    expect(new Date(String(delta?.['time'])).getTime()).toBeGreaterThan(0);
    expect(consents.some((l) => l['decision'] === 'denied' && l['subject'] === 'bob')).toBe(true);
    const all = rawLog.join('\n');
    for (const secret of [agent.clientSecret!, agent.handle.registrationAccessToken, idp.adminToken, idp.initialAccessToken]) {
      expect(all.includes(secret)).toBe(false);
    }
  });

  it('rotates refresh tokens and honours the client refresh lifetime', async () => {
    const { tokens } = await authorize('notes.read', new FormUserAgent());
    const old = tokens!.refresh_token!;
    const info = await introspect(idp.issuer, rs.handle.clientId, rs.clientSecret!, old);
    expect(Number(info.exp) - Number(info.iat)).toBe(600);
    const next = await refresh(idp.issuer, agent.handle.clientId, auth(), old);
    expect(next.refresh_token).toBeTruthy();
    expect(next.refresh_token).not.toBe(old);
    expect(await oauthErrorOf(refresh(idp.issuer, agent.handle.clientId, auth(), old))).toBe('invalid_grant');
  });
});

describe('embedded IdP registration deletion', () => {
  it('revokes the deleted client\'s tokens (oidc-provider alone would keep them)', async () => {
    const adapter = createAdapter('embedded', { issuer: idp.issuer, initialAccessToken: idp.initialAccessToken, adminToken: idp.adminToken });
    const doomed = await adapter.register({ ...agent.metadata, software_id: 'cluster/ns/doomed/uid-2' });
    const { tokens } = await authorizeWithConsent({
      issuer: idp.issuer, clientId: doomed.handle.clientId, auth: { secret: doomed.clientSecret! }, redirectUri,
      scope: 'notes.read', login: 'alice', password: 'wonderland',
    });
    const check = (token: string) => introspect(idp.issuer, rs.handle.clientId, rs.clientSecret!, token);
    expect((await check(tokens!.refresh_token!)).active).toBe(true);
    await adapter.delete(doomed.handle);
    expect((await check(tokens!.refresh_token!)).active).toBe(false);
    expect((await check(tokens!.access_token)).active).toBe(false);
  });
});

describe('embedded IdP admin API and discovery', () => {
  const admin = (path: string, init: RequestInit = {}, token: string = idp.adminToken) =>
    fetch(`${idp.issuer}/admin${path}`, { ...init, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers ?? {}) } });

  it('advertises the admin endpoint in discovery', async () => {
    const metadata = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(metadata['agentidentity_admin_endpoint']).toBe(`${idp.issuer}/admin`);
  });

  it('refuses missing or wrong admin tokens', async () => {
    expect((await admin('/clients', {}, '')).status).toBe(401);
    expect((await admin('/clients', {}, `${idp.adminToken}x`)).status).toBe(401);
    expect((await admin('/grants?client_id=x', { method: 'DELETE' }, 'nope')).status).toBe(401);
  });

  it('lists registrations without secrets and validates input', async () => {
    const listed = await (await admin('/clients?software_id=cluster/ns/notes/uid-1')).text();
    expect(listed).toContain(agent.handle.clientId);
    expect(listed).not.toContain(agent.clientSecret!);
    expect(listed).not.toContain('client_secret"');
    expect((await admin('/grants', { method: 'DELETE' })).status).toBe(400);
    expect((await admin('/clients/nope/disabled', { method: 'PUT', body: '{"disabled":true}' })).status).toBe(404);
    expect((await admin(`/clients/${agent.handle.clientId}/disabled`, { method: 'PUT', body: '{"disabled":"yes"}' })).status).toBe(400);
  });

  it('serves client_credentials with the per-client access token lifetime', async () => {
    const tokens = await clientCredentials(idp.issuer, rs.handle.clientId, { secret: rs.clientSecret! }, 'rs');
    expect(tokens.expires_in).toBe(3600);
  });

  it('counts the requests it serves, and none while idle', async () => {
    const before = idp.callCount();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(idp.callCount()).toBe(before);
    await fetch(`${idp.issuer}/jwks`);
    expect(idp.callCount()).toBe(before + 1);
  });
});
