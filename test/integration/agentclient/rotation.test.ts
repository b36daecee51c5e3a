/**
 * Credentials over time, end to end: authorization_code (login + consent driven over HTTP) and
 * refresh with private_key_jwt using only the Secret; rotation on demand with an overlap during
 * which both keys authenticate and after which the old one is refused; the honest answer for
 * client_secret_basic.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeWithConsent, clientCredentials, oauthErrorOf, refresh } from '../idp/flows.ts';
import { agentAuth, condition, createEnv, decode, eventually, waitReady } from './harness.ts';
import type { Env } from './harness.ts';

let env: Env;

beforeAll(async () => {
  env = await createEnv('agc-rot');
  await env.startOperator();
});

afterAll(async () => {
  await env?.teardown();
});

describe('AgentClient credentials', () => {
  it('authorization_code then refresh, with private_key_jwt from the Secret only', async () => {
    const redirectUri = 'http://127.0.0.1:9/callback';
    await env.createAgent('assistant', { grantTypes: ['authorization_code', 'refresh_token'], redirectUris: [redirectUri], scopes: ['notes:read'] });
    await waitReady(env, 'assistant');
    const { issuer, clientId, auth } = await agentAuth(await env.secret('assistant-oauth'));
    const result = await authorizeWithConsent({ issuer, clientId, auth, redirectUri, scope: 'notes:read', login: 'alice', password: 'wonderland' });
    expect(result.error).toBeUndefined();
    expect(result.consentPage).toContain('team-a@example.test');
    const refreshed = await refresh(issuer, clientId, auth, result.tokens!.refresh_token!);
    expect(refreshed.access_token).toBeTruthy();
  });

  it('rotates on demand: new key works, old key works during the overlap and is refused after', async () => {
    await env.createAgent('rotor', { credentials: { overlap: '3s' } });
    const before = await waitReady(env, 'rotor');
    const oldSecret = await env.secret('rotor-oauth');
    const old = await agentAuth(oldSecret);
    await env.patchAgent('rotor', { metadata: { annotations: { 'agentidentity.dev/rotate': 'incident-42' } } });

    const rotated = await eventually(async () => {
      const agent = await env.getAgent('rotor');
      return agent?.status?.credentials?.lastRotationRequest === 'incident-42' && agent.status.credentials.previousKeyId ? agent : undefined;
    }, 15_000, 'rotation');
    expect(rotated.status?.credentials?.keyId).not.toBe(before.status?.credentials?.keyId);
    expect(rotated.status?.credentials?.previousKeyId).toBe(before.status?.credentials?.keyId);
    expect(rotated.status?.credentials?.overlapUntil).toBeTruthy();
    expect(rotated.status?.clientId).toBe(before.status?.clientId);

    const fresh = await agentAuth(await eventually(async () => {
      const s = await env.secret('rotor-oauth');
      return decode(s, 'key_id') === rotated.status?.credentials?.keyId ? s : undefined;
    }));
    expect((await clientCredentials(fresh.issuer, fresh.clientId, fresh.auth, 'invoices:read')).access_token).toBeTruthy();
    expect((await clientCredentials(old.issuer, old.clientId, old.auth, 'invoices:read')).access_token).toBeTruthy();

    // After the overlap the previous key leaves the registration.
    await eventually(async () => !(await env.getAgent('rotor'))?.status?.credentials?.previousKeyId, 15_000, 'overlap end');
    expect(await oauthErrorOf(clientCredentials(old.issuer, old.clientId, old.auth, 'invoices:read'))).toBe('invalid_client');
    expect((await clientCredentials(fresh.issuer, fresh.clientId, fresh.auth, 'invoices:read')).access_token).toBeTruthy();
    // The same request value is handled once.
    const settled = (await env.getAgent('rotor'))!;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await env.getAgent('rotor'))?.status?.credentials?.keyId).toBe(settled.status?.credentials?.keyId);
  });

  it('client_secret_basic: a working secret, and rotation reported as unsupported rather than faked', async () => {
    await env.createAgent('legacy', { tokenEndpointAuthMethod: 'client_secret_basic' });
    await waitReady(env, 'legacy');
    const secret = await env.secret('legacy-oauth');
    expect(secret?.data).not.toHaveProperty('private_key.jwk');
    const clientId = decode(secret, 'client_id')!;
    const issuer = decode(secret, 'issuer')!;
    expect((await clientCredentials(issuer, clientId, { secret: decode(secret, 'client_secret')! }, 'invoices:read')).access_token).toBeTruthy();
    await env.patchAgent('legacy', { metadata: { annotations: { 'agentidentity.dev/rotate': 'now' } } });
    const agent = await eventually(async () => {
      const a = await env.getAgent('legacy');
      return a?.status?.credentials?.lastRotationRequest === 'now' ? a : undefined;
    });
    expect(agent.status?.credentials).toMatchObject({ rotationSupport: 'Unsupported' });
    expect(agent.status?.credentials?.rotationMessage).toMatch(/not available through RFC 7592/);
    expect(condition(agent, 'Ready')?.status).toBe('True');
    expect(decode(await env.secret('legacy-oauth'), 'client_secret')).toBe(decode(secret, 'client_secret'));
  });
});
