/**
 * The agent's side of the story, as a real agent would do it: it knows nothing but its Secret
 * (client_id, issuer, private key) and runs an RFC 8252 loopback listener for the redirect.
 * OAuth calls go through openid-client 6, an independent client implementation.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { importJWK } from 'jose';
import type { JWK } from 'jose';
import * as oidc from 'openid-client';
import type { SecretObject } from '../../src/runtime/kube/types.ts';

/** What an agent reads from its Secret (docs/api.md, "The agent Secret"). */
export interface AgentCredentials {
  clientId: string;
  issuer: string;
  tokenEndpoint: string;
  scope: string;
  config: oidc.Configuration;
}

/** openid-client's `{ key, kid }` form of a private key (its CryptoKey type is the DOM's). */
type SigningKey = Extract<Parameters<typeof oidc.PrivateKeyJwt>[0], { kid?: string }>;

const field = (secret: SecretObject, key: string): string => {
  const raw = secret.data?.[key];
  if (raw === undefined) throw new Error(`agent Secret has no ${key}`);
  return Buffer.from(raw, 'base64').toString('utf8');
};

/** Builds an OAuth client from the agent Secret alone (private_key_jwt, RFC 7523). */
export async function credentialsFromSecret(secret: SecretObject): Promise<AgentCredentials> {
  const jwk = JSON.parse(field(secret, 'private_key.jwk')) as JWK & { kid: string; alg: string };
  const key = (await importJWK(jwk, jwk.alg)) as SigningKey['key'];
  const clientId = field(secret, 'client_id');
  const issuer = field(secret, 'issuer');
  const config = await oidc.discovery(new URL(issuer), clientId, undefined, oidc.PrivateKeyJwt({ key, kid: jwk.kid }), {
    execute: [oidc.allowInsecureRequests], // loopback http IdP only
  });
  return { clientId, issuer, tokenEndpoint: field(secret, 'token_endpoint'), scope: field(secret, 'scope'), config };
}

/** An authorization request in flight: the URL to open in the browser, and what checks the answer. */
export interface PendingAuthorization {
  url: string;
  /** Exchanges the code from the callback (RFC 6749 section 4.1.3, PKCE RFC 7636). */
  complete(callback: URL): Promise<oidc.TokenEndpointResponse>;
}

export async function beginAuthorization(agent: AgentCredentials, redirectUri: string, scope: string): Promise<PendingAuthorization> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(agent.config, {
    redirect_uri: redirectUri,
    scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  return {
    url: url.href,
    complete: (callback) => oidc.authorizationCodeGrant(agent.config, callback, { pkceCodeVerifier: verifier, expectedState: state }),
  };
}

/**
 * Refresh token grant (RFC 6749 section 6). Resolves the OAuth error code ('' on success) and the
 * refresh token to use next (the IdP may rotate it, section 10.4).
 */
export async function refresh(agent: AgentCredentials, refreshToken: string): Promise<{ error: string; refreshToken: string }> {
  try {
    const tokens = await oidc.refreshTokenGrant(agent.config, refreshToken);
    return { error: '', refreshToken: tokens.refresh_token ?? refreshToken };
  } catch (error) {
    if (error instanceof oidc.ResponseBodyError) return { error: error.error, refreshToken };
    throw error;
  }
}

/** Token introspection (RFC 7662) by the agent itself. */
export function introspect(agent: AgentCredentials, token: string) {
  return oidc.tokenIntrospection(agent.config, token);
}

/** The agent's loopback redirect listener (RFC 8252 section 7.3). */
export interface LoopbackListener {
  redirectUri: string;
  /** Every callback URL received, in order. */
  callbacks: URL[];
  close(): Promise<void>;
}

export async function startLoopback(): Promise<LoopbackListener> {
  const callbacks: URL[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    callbacks.push(new URL(`${redirectUri}${url.search}`));
    const error = url.searchParams.get('error');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!DOCTYPE html><html lang="en"><head><title>Agent</title></head><body style="font-family:system-ui;margin:2rem">
<h1 id="outcome">${error ? 'Authorization refused' : 'Authorization complete'}</h1>
<p id="detail">${error ? `The identity provider answered <code>${error.replace(/[^a-z_]/g, '')}</code>.` : 'The agent received its authorization code. You can close this window.'}</p>
</body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
  return {
    redirectUri,
    callbacks,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
