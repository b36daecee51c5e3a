/**
 * Get an access token as an agent, using nothing but the agent's Secret (what its pod would
 * mount): client_credentials (RFC 6749 section 4.4) authenticated with private_key_jwt
 * (RFC 7523 section 2.2, OpenID Connect Core section 9), or client_secret_basic for agents
 * registered that way.
 *
 *   node hack/dev/agent-token.ts [-n NAMESPACE] [--secret NAME] [--scope "S1 S2"] AGENT
 *
 * The Secret (default `AGENT-oauth`) is read with `$KUBECTL` (else `kubectl` on PATH) and the
 * current kubeconfig. The access token goes to stdout (so `TOKEN=$(...)` works); a summary
 * without any credential goes to stderr.
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { importJWK, type JWK } from 'jose';
import * as oidc from 'openid-client';

const USAGE = 'usage: node hack/dev/agent-token.ts [-n NAMESPACE] [--secret NAME] [--scope "S1 S2"] AGENT';

/** The agent Secret's data keys (docs/api): only what a token request needs. */
interface AgentSecret {
  client_id: string;
  issuer: string;
  token_endpoint: string;
  scope?: string;
  token_endpoint_auth_method?: string;
  'private_key.jwk'?: string;
  client_secret?: string;
}

function readSecret(name: string, namespace: string | undefined): AgentSecret {
  const kubectl = process.env['KUBECTL'] ?? 'kubectl';
  const args = ['get', 'secret', name, '-o', 'json', ...(namespace ? ['-n', namespace] : [])];
  const secret = JSON.parse(execFileSync(kubectl, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })) as {
    data?: Record<string, string>;
  };
  const data = Object.fromEntries(Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));
  for (const key of ['client_id', 'issuer', 'token_endpoint']) {
    if (!data[key]) throw new Error(`Secret ${name} has no ${key}: is the agent Ready?`);
  }
  return data as unknown as AgentSecret;
}

async function clientAuth(secret: AgentSecret): Promise<oidc.ClientAuth> {
  const method = secret.token_endpoint_auth_method ?? 'private_key_jwt';
  if (method === 'client_secret_basic') {
    if (!secret.client_secret) throw new Error('Secret has no client_secret');
    return oidc.ClientSecretBasic(secret.client_secret);
  }
  if (method !== 'private_key_jwt') throw new Error(`token_endpoint_auth_method ${method} cannot do client_credentials`);
  if (!secret['private_key.jwk']) throw new Error('Secret has no private_key.jwk');
  const jwk = JSON.parse(secret['private_key.jwk']) as JWK;
  const alg = jwk.alg ?? (jwk.kty === 'OKP' ? 'EdDSA' : undefined);
  if (!alg) throw new Error('private_key.jwk names no alg');
  const key = await importJWK(jwk, alg);
  if (key instanceof Uint8Array) throw new Error('private_key.jwk is not an asymmetric key');
  return oidc.PrivateKeyJwt({ key, ...(jwk.kid ? { kid: jwk.kid } : {}) });
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { namespace: { type: 'string', short: 'n' }, secret: { type: 'string' }, scope: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  const agent = positionals[0];
  if (values.help || !agent || positionals.length > 1) {
    console.error(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const secret = readSecret(values.secret ?? `${agent}-oauth`, values.namespace);
  // Only the Secret's own metadata: no discovery, so nothing but the Secret is needed.
  const config = new oidc.Configuration({ issuer: secret.issuer, token_endpoint: secret.token_endpoint }, secret.client_id, undefined, await clientAuth(secret));
  // http is accepted only for loopback issuers (the embedded dev IdP); real IdPs use https.
  if (new URL(secret.issuer).protocol === 'http:') oidc.allowInsecureRequests(config);
  const scope = values.scope ?? secret.scope;
  const tokens = await oidc.clientCredentialsGrant(config, scope ? { scope } : {});
  console.error(
    JSON.stringify({
      client_id: secret.client_id,
      token_endpoint_auth_method: secret.token_endpoint_auth_method ?? 'private_key_jwt',
      token_type: tokens.token_type,
      scope: tokens.scope,
      expires_in: tokens.expiresIn(),
    }),
  );
  process.stdout.write(`${tokens.access_token}\n`);
}

main().catch((error: unknown) => {
  const detail = error instanceof oidc.ResponseBodyError ? `${error.error}: ${error.error_description ?? ''}` : error instanceof Error ? error.message : String(error);
  console.error(`agent-token: ${detail}`);
  process.exit(1);
});
