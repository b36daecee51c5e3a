/**
 * The IdP adapter conformance suite: one set of behaviours every adapter must show against a
 * real IdP, each adapter declaring which capabilities it has. Where a capability is declared
 * absent, the suite checks the adapter says so (IdpError 'Unsupported' / null) instead of
 * pretending.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientMetadata, IdpAdapter, IdpAdapterConfig, IdpCallRecord, IdpCapabilities, Registration } from '../../../src/idp/adapter.ts';
import { isIdpError } from '../../../src/idp/errors.ts';
import type { IdpErrorCode , IdpError} from '../../../src/idp/errors.ts';
import type { EmbeddedIdp } from '../../../src/idp/embedded/server.ts';
import type { FaultProxy } from '../../../src/testing/faultproxy.ts';
import { matching } from '../../../src/testing/faultproxy.ts';
import { agentKey, authorizeWithConsent, clientCredentials, introspect, oauthErrorOf, refresh } from './flows.ts';
import type { AgentKey, KeyAlg } from './flows.ts';

export interface ConformanceEnv {
  /** The real IdP (its issuer is the proxy's address). */
  idp: EmbeddedIdp;
  /** Fault proxy at the issuer address, in front of the IdP. */
  proxy: FaultProxy;
  /** Builds the adapter under test against the proxy issuer; overrides for error-path tests. */
  makeAdapter(overrides?: Partial<IdpAdapterConfig>): IdpAdapter;
  teardown(): Promise<void>;
}

export interface ConformanceExpectations {
  capabilities: IdpCapabilities;
  /** findBySoftwareId lists registrations (else resolves null). */
  listsBySoftwareId: boolean;
}

let seq = 0;
function uniqueSoftwareId(prefix: string): string {
  seq += 1;
  return `cluster-a/ns/${prefix}-${seq}/uid-${Date.now()}-${seq}`;
}

function agentMetadata(
  overrides: Partial<ClientMetadata> & Pick<ClientMetadata, 'scope' | 'token_endpoint_auth_method'>,
): ClientMetadata {
  return {
    client_name: 'conformance agent',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    software_id: uniqueSoftwareId('agent'),
    agent_metadata: { owner: 'team-a', agent_type: 'triage', capability_version: '1' },
    ...overrides,
  };
}

/** A loopback port nobody listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function caught(promise: Promise<unknown>): Promise<IdpError> {
  try {
    await promise;
  } catch (error: unknown) {
    if (isIdpError(error)) return error;
    throw error;
  }
  throw new Error('expected an IdpError, the call succeeded');
}

/** Declares the suite for one adapter. */
export function describeAdapterConformance(name: string, setup: () => Promise<ConformanceEnv>, expected: ConformanceExpectations): void {
  describe(`IdP adapter conformance: ${name}`, () => {
    let env: ConformanceEnv;
    let adapter: IdpAdapter;
    let issuer: string;
    const calls: IdpCallRecord[] = [];
    /** Every credential value seen, to prove none ever lands in an error message. */
    const secrets = new Set<string>();
    const errors: IdpError[] = [];
    const remember = (registration: Registration): Registration => {
      secrets.add(registration.handle.registrationAccessToken);
      if (registration.clientSecret) secrets.add(registration.clientSecret);
      return registration;
    };
    const registerPkj = async (scope: string, key: AgentKey, extra: Partial<ClientMetadata> = {}) =>
      remember(await adapter.register(agentMetadata({ scope, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] }, ...extra })));
    const expectError = async (promise: Promise<unknown>, code: IdpErrorCode): Promise<IdpError> => {
      const error = await caught(promise);
      errors.push(error);
      expect(error.code, error.message).toBe(code);
      return error;
    };

    beforeAll(async () => {
      env = await setup();
      issuer = env.idp.issuer;
      secrets.add(env.idp.initialAccessToken);
      secrets.add(env.idp.adminToken);
      adapter = env.makeAdapter({ onCall: (call) => calls.push(call) });
    });
    afterAll(async () => {
      await env?.teardown();
    });

    it('discovers endpoints and declares its capabilities', async () => {
      const discovered = await adapter.discover();
      expect(discovered.issuer).toBe(issuer);
      expect(discovered.tokenEndpoint).toMatch(new RegExp(`^${issuer}/`));
      expect(discovered.registrationEndpoint).toBeDefined();
      expect(discovered.revocationEndpoint).toBeDefined();
      expect(discovered.introspectionEndpoint).toBeDefined();
      expect(discovered.capabilities).toEqual(expected.capabilities);
      expect(calls.some((c) => c.operation === 'discover' && c.status === 200 && c.durationMs >= 0)).toBe(true);
    });

    it('rejects discovery metadata whose issuer differs (RFC 8414 section 3.3)', async () => {
      const wrong = env.makeAdapter({ issuer: env.idp.url });
      await expectError(wrong.discover(), 'InvalidResponse');
    });

    it.each<KeyAlg>(['ES256', 'RS256', 'EdDSA'])('registers a private_key_jwt client (%s) that obtains tokens within its ceiling', async (alg) => {
      const key = await agentKey(alg);
      secrets.add(String(key.privateJwk.d));
      const registration = await registerPkj('tickets.read tickets.write', key);
      expect(registration.handle.clientId).not.toBe('');
      expect(registration.clientSecret).toBeUndefined();
      const tokens = await clientCredentials(issuer, registration.handle.clientId, { key }, 'tickets.read');
      expect(tokens.access_token).toBeTruthy();
      expect(tokens.scope).toBe('tickets.read');
      // Outside the registered ceiling: refused, not silently narrowed.
      expect(await oauthErrorOf(clientCredentials(issuer, registration.handle.clientId, { key }, 'tickets.read tickets.admin'))).toBe('invalid_scope');
    });

    it('registers a client_secret_basic client', async () => {
      const registration = remember(await adapter.register(agentMetadata({ scope: 'mail.read', token_endpoint_auth_method: 'client_secret_basic' })));
      expect(registration.clientSecret).toBeTruthy();
      const tokens = await clientCredentials(issuer, registration.handle.clientId, { secret: registration.clientSecret! }, 'mail.read');
      expect(tokens.scope).toBe('mail.read');
    });

    it('reads a registration, with the metadata it was registered with', async () => {
      const key = await agentKey();
      const metadata = agentMetadata({ scope: 'a.read', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } });
      const registration = remember(await adapter.register(metadata));
      const read = await adapter.read(registration.handle);
      expect(read?.handle.clientId).toBe(registration.handle.clientId);
      expect(read?.metadata).toMatchObject({
        client_name: metadata.client_name, scope: 'a.read', software_id: metadata.software_id, agent_metadata: metadata.agent_metadata,
      });
      expect(read?.metadata).not.toHaveProperty('registration_access_token');
    });

    it('updates the ceiling: a removed scope is refused afterwards', async () => {
      const key = await agentKey();
      const registration = await registerPkj('docs.read docs.write', key);
      const clientId = registration.handle.clientId;
      expect((await clientCredentials(issuer, clientId, { key }, 'docs.write')).scope).toBe('docs.write');
      const updated = await adapter.update(registration.handle, { ...registration.metadata, scope: 'docs.read' });
      expect(updated.metadata.scope).toBe('docs.read');
      expect(await oauthErrorOf(clientCredentials(issuer, clientId, { key }, 'docs.write'))).toBe('invalid_scope');
      expect((await clientCredentials(issuer, clientId, { key }, 'docs.read')).scope).toBe('docs.read');
    });

    it('rotates keys through jwks: both keys work during the overlap, the old one is refused after', async () => {
      const oldKey = await agentKey('ES256');
      const newKey = await agentKey('ES256');
      const registration = await registerPkj('k.read', oldKey);
      const clientId = registration.handle.clientId;
      await adapter.update(registration.handle, { ...registration.metadata, jwks: { keys: [newKey.publicJwk, oldKey.publicJwk] } });
      expect((await clientCredentials(issuer, clientId, { key: oldKey }, 'k.read')).access_token).toBeTruthy();
      expect((await clientCredentials(issuer, clientId, { key: newKey }, 'k.read')).access_token).toBeTruthy();
      await adapter.update(registration.handle, { ...registration.metadata, jwks: { keys: [newKey.publicJwk] } });
      expect((await clientCredentials(issuer, clientId, { key: newKey }, 'k.read')).access_token).toBeTruthy();
      expect(await oauthErrorOf(clientCredentials(issuer, clientId, { key: oldKey }, 'k.read'))).toBe('invalid_client');
    });

    it('deletes idempotently; the client is gone', async () => {
      const key = await agentKey();
      const registration = await registerPkj('gone.read', key);
      await adapter.delete(registration.handle);
      await adapter.delete(registration.handle);
      expect(await adapter.read(registration.handle)).toBeNull();
      expect(await oauthErrorOf(clientCredentials(issuer, registration.handle.clientId, { key }, 'gone.read'))).toBe('invalid_client');
    });

    describe('grant revocation', () => {
      const redirectUri = 'http://127.0.0.1:9/callback';
      const userAgent = async (clientId: string, secret: string, login: string, password: string, scope: string) => {
        const result = await authorizeWithConsent({
          issuer, clientId, auth: { secret }, redirectUri, scope, login, password,
        });
        expect(result.error).toBeUndefined();
        const refreshToken = result.tokens?.refresh_token;
        expect(refreshToken).toBeTruthy();
        secrets.add(refreshToken!);
        return refreshToken!;
      };
      const webAgent = async (scope: string) =>
        remember(await adapter.register(agentMetadata({
          scope, token_endpoint_auth_method: 'client_secret_basic',
          grant_types: ['authorization_code', 'refresh_token'], redirect_uris: [redirectUri], response_types: ['code'],
        })));
      let resourceServer: Registration;
      const active = async (token: string) =>
        (await introspect(issuer, resourceServer.handle.clientId, resourceServer.clientSecret!, token)).active;

      beforeAll(async () => {
        resourceServer = remember(await adapter.register(agentMetadata({ scope: 'rs', token_endpoint_auth_method: 'client_secret_basic' })));
      });

      it.runIf(expected.capabilities.revokeSubjectGrants)('revokes one user\'s grants for one client, and only those', async () => {
        const a = await webAgent('notes.read notes.write');
        const b = await webAgent('notes.read notes.write');
        const aliceA = await userAgent(a.handle.clientId, a.clientSecret!, 'alice', 'wonderland', 'notes.read notes.write');
        const bobA = await userAgent(a.handle.clientId, a.clientSecret!, 'bob', 'builder', 'notes.read');
        const aliceB = await userAgent(b.handle.clientId, b.clientSecret!, 'alice', 'wonderland', 'notes.read');
        const result = await adapter.revokeGrants({ clientId: a.handle.clientId, subject: 'alice' });
        expect(result.grantsRevoked).toBe(1);
        expect(result.tokensRevoked).toBeGreaterThanOrEqual(1);
        expect(result.call).not.toBe('');
        expect(await oauthErrorOf(refresh(issuer, a.handle.clientId, { secret: a.clientSecret! }, aliceA))).toBe('invalid_grant');
        expect(await active(aliceA)).toBe(false);
        expect(await active(bobA)).toBe(true);
        expect(await active(aliceB)).toBe(true);
        // Scope filter: bob's grant holds notes.read only.
        expect((await adapter.revokeGrants({ clientId: a.handle.clientId, scopes: ['notes.write'] })).grantsRevoked).toBe(0);
        expect((await adapter.revokeGrants({ clientId: a.handle.clientId, scopes: ['notes.read'] })).grantsRevoked).toBe(1);
        expect(await active(bobA)).toBe(false);
        expect(await active(aliceB)).toBe(true);
      });

      it.runIf(expected.capabilities.revokeClientGrants)('revokes every grant and token of a client, leaving other clients alone', async () => {
        const a = await webAgent('cal.read');
        const other = await webAgent('cal.read');
        const aliceA = await userAgent(a.handle.clientId, a.clientSecret!, 'alice', 'wonderland', 'cal.read');
        const bobA = await userAgent(a.handle.clientId, a.clientSecret!, 'bob', 'builder', 'cal.read');
        const aliceOther = await userAgent(other.handle.clientId, other.clientSecret!, 'alice', 'wonderland', 'cal.read');
        const result = await adapter.revokeGrants({ clientId: a.handle.clientId });
        expect(result.grantsRevoked).toBe(2);
        expect(result.tokensRevoked).toBeGreaterThanOrEqual(4); // two access + two refresh tokens
        for (const token of [aliceA, bobA]) {
          expect(await oauthErrorOf(refresh(issuer, a.handle.clientId, { secret: a.clientSecret! }, token))).toBe('invalid_grant');
          expect(await active(token)).toBe(false);
        }
        expect(await active(aliceOther)).toBe(true);
        expect((await refresh(issuer, other.handle.clientId, { secret: other.clientSecret! }, aliceOther)).access_token).toBeTruthy();
      });

      it.runIf(!expected.capabilities.revokeClientGrants)('says revokeGrants is unsupported', async () => {
        await expectError(adapter.revokeGrants({ clientId: resourceServer.handle.clientId }), 'Unsupported');
      });
    });

    it.runIf(expected.listsBySoftwareId)('finds registrations by software_id with a fresh, working handle', async () => {
      const key = await agentKey();
      const softwareId = uniqueSoftwareId('adopt');
      const registration = await registerPkj('adopt.read', key, { software_id: softwareId });
      await registerPkj('adopt.read', key, { software_id: uniqueSoftwareId('other') });
      const found = await adapter.findBySoftwareId(softwareId);
      expect(found?.map((r) => r.handle.clientId)).toEqual([registration.handle.clientId]);
      const adopted = found![0]!;
      secrets.add(adopted.handle.registrationAccessToken);
      expect(adopted.metadata.software_id).toBe(softwareId);
      expect(adopted.clientSecret).toBeUndefined();
      expect((await adapter.read(adopted.handle))?.metadata.scope).toBe('adopt.read');
      // The minted token replaced the old one.
      expect(await adapter.read(registration.handle)).toBeNull();
      expect(await adapter.findBySoftwareId(uniqueSoftwareId('none'))).toEqual([]);
    });

    it.runIf(!expected.listsBySoftwareId)('says it cannot list registrations (null)', async () => {
      expect(await adapter.findBySoftwareId('anything')).toBeNull();
    });

    it.runIf(expected.capabilities.disableClient)('disables a client: no tokens, existing tokens inactive; re-enabling restores it', async () => {
      const key = await agentKey();
      const registration = await registerPkj('s.read', key);
      const clientId = registration.handle.clientId;
      const rs = remember(await adapter.register(agentMetadata({ scope: 'rs', token_endpoint_auth_method: 'client_secret_basic' })));
      const before = await clientCredentials(issuer, clientId, { key }, 's.read');
      await adapter.setDisabled(clientId, true);
      expect(await oauthErrorOf(clientCredentials(issuer, clientId, { key }, 's.read'))).toBe('invalid_client');
      expect((await introspect(issuer, rs.handle.clientId, rs.clientSecret!, before.access_token)).active).toBe(false);
      // Registration management still works while suspended.
      expect((await adapter.read(registration.handle))?.metadata.scope).toBe('s.read');
      await adapter.setDisabled(clientId, false);
      expect((await clientCredentials(issuer, clientId, { key }, 's.read')).access_token).toBeTruthy();
    });

    it.runIf(!expected.capabilities.disableClient)('says setDisabled is unsupported', async () => {
      await expectError(adapter.setDisabled('any', true), 'Unsupported');
    });

    describe('error classification', () => {
      afterAll(() => env.proxy.reset());
      const metadata = () => agentMetadata({ scope: 'e.read', token_endpoint_auth_method: 'client_secret_basic' });

      it('dropped connection -> Unreachable (transient)', async () => {
        env.proxy.drop(matching('POST', '/reg'));
        const error = await expectError(adapter.register(metadata()), 'Unreachable');
        expect(error.transient).toBe(true);
      });

      it('nothing listening -> Unreachable', async () => {
        const port = await closedPort();
        const closed = env.makeAdapter({ issuer: `http://127.0.0.1:${port}` });
        const error = await expectError(closed.discover(), 'Unreachable');
        expect(error.message).toContain('ECONNREFUSED');
      });

      it('slow IdP -> Timeout, after the configured per-call timeout', async () => {
        const quick = env.makeAdapter({ timeoutMs: 200 });
        await quick.discover();
        env.proxy.delay(2000, matching('POST', '/reg'));
        const started = Date.now();
        const error = await expectError(quick.register(metadata()), 'Timeout');
        expect(Date.now() - started).toBeLessThan(1500);
        expect(error.transient).toBe(true);
      });

      it('aborted by the caller -> Timeout', async () => {
        env.proxy.delay(2000, matching('POST', '/reg'));
        await expectError(adapter.register(metadata(), AbortSignal.timeout(100)), 'Timeout');
      });

      it('500 -> ServerError (transient)', async () => {
        env.proxy.serverError(500, matching('POST', '/reg'));
        const error = await expectError(adapter.register(metadata()), 'ServerError');
        expect(error.status).toBe(500);
        expect(error.transient).toBe(true);
      });

      it('429 -> RateLimited with Retry-After', async () => {
        env.proxy.rateLimit(17, matching('POST', '/reg'));
        const error = await expectError(adapter.register(metadata()), 'RateLimited');
        expect(error.retryAfterSeconds).toBe(17);
      });

      it('only the Nth request fails', async () => {
        env.proxy.set({ fault: { kind: 'respond', status: 503 }, match: matching('POST', '/reg'), nth: 2 });
        remember(await adapter.register(metadata()));
        await expectError(adapter.register(metadata()), 'ServerError');
        remember(await adapter.register(metadata()));
      });

      it('invalid_client_metadata from the real IdP -> InvalidClientMetadata (not transient)', async () => {
        env.proxy.reset();
        const error = await expectError(
          adapter.register({ ...metadata(), grant_types: ['authorization_code'], redirect_uris: ['not a uri'], response_types: ['code'] }),
          'InvalidClientMetadata',
        );
        expect(error.transient).toBe(false);
        await expectError(adapter.register({ ...metadata(), token_lifetimes: { access_token: -5 } }), 'InvalidClientMetadata');
      });

      it('a given 4xx body is classified by its OAuth error', async () => {
        env.proxy.respond(400, { error: 'invalid_redirect_uri', error_description: 'nope' }, matching('POST', '/reg'));
        await expectError(adapter.register(metadata()), 'InvalidClientMetadata');
        env.proxy.respond(409, { error: 'conflict' }, matching('POST', '/reg'));
        await expectError(adapter.register(metadata()), 'ClientError');
      });

      it('a refused initial access token -> Unauthorized', async () => {
        env.proxy.reset();
        const wrong = env.makeAdapter({ initialAccessToken: 'wrong-initial-access-token-value' });
        secrets.add('wrong-initial-access-token-value');
        await expectError(wrong.register(metadata()), 'Unauthorized');
      });

      it('a refused registration access token on update -> Unauthorized', async () => {
        const registration = remember(await adapter.register(metadata()));
        const forged = { ...registration.handle, registrationAccessToken: 'forged-registration-token-value' };
        secrets.add(forged.registrationAccessToken);
        await expectError(adapter.update(forged, registration.metadata), 'Unauthorized');
      });

      it('an IdP echoing a credential back does not leak it', async () => {
        const registration = remember(await adapter.register(metadata()));
        env.proxy.respond(400, {
          error: 'invalid_client_metadata',
          error_description: `token ${registration.handle.registrationAccessToken} rejected`,
        }, matching('PUT', /^\/reg\//));
        const error = await expectError(adapter.update(registration.handle, registration.metadata), 'InvalidClientMetadata');
        expect(error.message).toContain('[redacted]');
      });

      it('no error message, cause or call record carries a credential', () => {
        expect(errors.length).toBeGreaterThanOrEqual(12);
        const texts = [
          ...errors.map((e) => `${e.message} ${String(e.stack)} ${JSON.stringify(e.cause ?? null)}`),
          JSON.stringify(calls),
        ];
        for (const secret of secrets) {
          if (!secret) continue;
          for (const text of texts) expect(text.includes(secret), 'a credential leaked into an error').toBe(false);
        }
        expect(calls.filter((c) => c.errorCode !== undefined).length).toBeGreaterThan(0);
      });
    });
  });
}
