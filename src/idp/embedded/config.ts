/**
 * oidc-provider configuration for the embedded development IdP: DCR with an initial access token
 * (RFC 7591), registration management (RFC 7592), revocation (RFC 7009), introspection
 * (RFC 7662), client_credentials, authorization_code with PKCE (RFC 7636), rotating refresh
 * tokens, and resource indicators (RFC 8707) with a default resource so agent access tokens are
 * opaque (revocable, introspectable) and capped by the client's registered `scope` ceiling.
 */
import { errors } from 'oidc-provider';
import type { ClientMetadata, Configuration, JWK, KoaContextWithOIDC } from 'oidc-provider';
import type { IndexedStore } from './store.ts';
import type { AccountBook } from './accounts.ts';
import { accessTokenTTL, bindToSession, refreshTokenTTL, taskRules, taskScopedProblem, taskScopesIn } from './task-scoped.ts';

/** Scopes oidc-provider knows itself; everything else is a resource-server (agent API) scope. */
export const OIDC_SCOPES = ['openid', 'offline_access', 'profile', 'email'] as const;
const STATIC_SCOPES = new Set<string>(OIDC_SCOPES);

/** RFC 6749 section 3.3 scope-token. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * Widens the provider-level scope set's `has()` so agent scopes can be registered and capped.
 *
 * oidc-provider 9.13 rejects a registration whose `scope` holds a value outside its configured
 * `scopes` (client_schema) and enforces the client's `scope` ceiling at the token endpoint only
 * for values that set `has()` (validateClientScope). Agent scopes are arbitrary resource-server
 * scopes, so `has()` here accepts every RFC 6749 section 3.3 scope-token, while the set's
 * contents (what discovery advertises, and what oidc-provider partitions as OpenID scopes via
 * `Set.prototype.has`) stay the OpenID ones. The configuration clones the set, so this patches
 * the provider's own instance after construction; the conformance tests pin the behaviour.
 */
export function widenScopeSet(scopes: Set<string>): void {
  const own = (value: string): boolean => Set.prototype.has.call(scopes, value);
  Object.defineProperty(scopes, 'has', {
    value: (value: string): boolean =>
      own(value) || (typeof value === 'string' && value.length <= 128 && SCOPE_TOKEN.test(value)),
  });
}

/** Client metadata beyond RFC 7591 that the embedded IdP stores and returns. */
export const EXTRA_CLIENT_METADATA = ['software_id', 'software_version', 'agent_metadata', 'token_lifetimes', 'task_scoped'];

const DEFAULT_ACCESS_TTL = 3600;
const DEFAULT_REFRESH_TTL = 14 * 24 * 3600;

export interface EmbeddedConfigOptions {
  issuer: string;
  initialAccessToken: string;
  store: IndexedStore;
  accounts: AccountBook;
  signingKeys: JWK[];
  cookieKeys: string[];
}

/** Per-client lifetime (seconds) from `token_lifetimes`, when a positive integer is registered. */
export function clientLifetime(
  metadata: Record<string, unknown> | undefined,
  kind: 'access_token' | 'refresh_token',
): number | undefined {
  const lifetimes = metadata?.['token_lifetimes'];
  if (!lifetimes || typeof lifetimes !== 'object') return undefined;
  const value = (lifetimes as Record<string, unknown>)[kind];
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

/** The registered ceiling's resource-server scopes (OIDC scopes are enforced by the provider). */
export function resourceCeiling(clientScope: string | undefined): string[] {
  return (clientScope ?? '').split(' ').filter((s) => s && !STATIC_SCOPES.has(s));
}

/** Requested scopes outside the ceiling; empty when the request stays within it. */
export function scopesBeyondCeiling(requested: string | undefined, clientScope: string | undefined): string[] {
  const ceiling = new Set(resourceCeiling(clientScope));
  return (requested ?? '').split(' ').filter((s) => s && !STATIC_SCOPES.has(s) && !ceiling.has(s));
}

function metadataOf(client: { metadata(): ClientMetadata } | undefined): Record<string, unknown> | undefined {
  return client?.metadata();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Why an extra metadata value is invalid, or undefined when it is fine. */
export function extraMetadataProblem(key: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (key === 'software_id' || key === 'software_version') {
    return typeof value === 'string' && value.length > 0 && value.length <= 1024 ? undefined : 'must be a non-empty string';
  }
  if (key === 'agent_metadata') {
    if (!isObject(value)) return 'must be an object';
    return Object.values(value).every((v) => typeof v === 'string' && v.length <= 2048) ? undefined : 'values must be strings';
  }
  if (key === 'task_scoped') return taskScopedProblem(value);
  if (key === 'token_lifetimes') {
    if (!isObject(value)) return 'must be an object';
    for (const [k, v] of Object.entries(value)) {
      if (k !== 'access_token' && k !== 'refresh_token') return `has an unknown member ${k}`;
      if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) return 'members must be positive integers';
    }
  }
  return undefined;
}

function validateExtraMetadata(key: string, value: unknown): void {
  const problem = extraMetadataProblem(key, value);
  if (problem) throw new errors.InvalidClientMetadata(`${key} ${problem}`);
}

/** Builds the provider configuration; `defaultResource` is `${issuer}/agents`. */
export function embeddedConfiguration(options: EmbeddedConfigOptions): Configuration {
  const { store, accounts } = options;
  const defaultResource = `${options.issuer}/agents`;
  return {
    adapter: store.adapterFactory,
    jwks: { keys: options.signingKeys },
    cookies: { keys: options.cookieKeys },
    scopes: ['openid', 'offline_access'],
    claims: { openid: ['sub'], profile: ['name'], email: ['email'] },
    findAccount: (_ctx, sub) => accounts.find(sub),
    responseTypes: ['code', 'none'],
    clientAuthMethods: ['private_key_jwt', 'client_secret_basic', 'none'],
    enabledJWA: { clientAuthSigningAlgValues: ['ES256', 'RS256', 'EdDSA', 'Ed25519'] },
    pkce: { required: () => true },
    // Every refresh token is single use (rotated; a reused one revokes its grant), which also
    // satisfies task_scoped.single_use_refresh whatever it says (see task-scoped.ts).
    rotateRefreshToken: true,
    // Task-scoped refresh tokens die with the user's session when the policy binds them to it.
    expiresWithSession: (ctx, code) =>
      bindToSession(code.scopes, taskRules(metadataOf(ctx.oidc.client)), !code.scopes.has('offline_access')),
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // A new browser session must still see the user's earlier grant, so consent is a delta.
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const { client, session, provider } = ctx.oidc;
      if (!client) return undefined;
      const grantId = ctx.oidc.result?.['consent']?.grantId ?? session?.grantIdFor(client.clientId);
      if (grantId) return provider.Grant.find(grantId);
      const accountId = session?.accountId;
      if (!accountId) return undefined;
      const latest = store.grantsOf(client.clientId, accountId)[0];
      return latest ? provider.Grant.find(latest.id) : undefined;
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    extraClientMetadata: {
      properties: EXTRA_CLIENT_METADATA,
      validator: (_ctx, key, value) => validateExtraMetadata(key, value),
    },
    ttl: {
      AccessToken: (_ctx, token, client) =>
        accessTokenTTL(
          clientLifetime(metadataOf(client), 'access_token') ?? token.resourceServer?.accessTokenTTL ?? DEFAULT_ACCESS_TTL,
          token.scope,
          taskRules(metadataOf(client)),
        ),
      ClientCredentials: (_ctx, token, client) =>
        clientLifetime(metadataOf(client), 'access_token') ?? token.resourceServer?.accessTokenTTL ?? DEFAULT_ACCESS_TTL,
      // A task chain ends its TTL after it began: a rotated token inherits what remains.
      RefreshToken: (ctx, token, client) =>
        refreshTokenTTL(
          clientLifetime(metadataOf(client), 'refresh_token') ?? DEFAULT_REFRESH_TTL,
          token.scope,
          taskRules(metadataOf(client)),
          ctx?.oidc.entities.RotatedRefreshToken?.remainingTTL,
        ),
      // A grant outlives its longest refresh token, else the refresh token dies with it early.
      // Grants are also saved outside a request (consent page), so the client comes from the store.
      Grant: (_ctx, grant) =>
        Math.max(clientLifetime(store.client(grant.clientId ?? ''), 'refresh_token') ?? DEFAULT_REFRESH_TTL, DEFAULT_REFRESH_TTL),
      AuthorizationCode: 60,
      Interaction: 3600,
      Session: DEFAULT_REFRESH_TTL,
      IdToken: 3600,
    },
    discovery: { agentidentity_admin_endpoint: `${options.issuer}/admin` },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true, initialAccessToken: options.initialAccessToken, issueRegistrationAccessToken: true },
      // The operator keeps the registration access token it got at creation: no rotation on use.
      registrationManagement: { enabled: true, rotateRegistrationAccessToken: false },
      revocation: { enabled: true },
      // Resource servers (confidential clients) may introspect any token; a public client only its own.
      introspection: {
        enabled: true,
        // A suspended client's tokens introspect inactive (oidc-provider would not look the client up).
        allowedPolicy: (ctx, client, token) =>
          !store.isDisabled(String(token.clientId))
          && (client.clientAuthMethod !== 'none' || token.clientId === ctx.oidc.client?.clientId),
      },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => defaultResource,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource, client) => {
          const clientScope = client.scope;
          // The ceiling: a request for anything beyond the registered scope is refused outright
          // (oidc-provider alone would silently drop it, or not check it at all).
          const beyond = scopesBeyondCeiling(ctx.oidc.params?.['scope'] as string | undefined, clientScope);
          if (beyond.length > 0) {
            throw new errors.InvalidScope('requested scope is not allowed', beyond.join(' '));
          }
          // Task-scoped scopes serve user-present actions: never to a client acting alone.
          const rules = taskRules(metadataOf(client));
          const machine = ctx.oidc.params?.['grant_type'] === 'client_credentials';
          const task = machine ? taskScopesIn(ctx.oidc.params?.['scope'] as string | undefined, rules) : [];
          if (task.length > 0) {
            throw new errors.InvalidScope('task-scoped scopes need a user-present authorization', task.join(' '));
          }
          const ceiling = resourceCeiling(clientScope).filter((s) => !machine || taskScopesIn(s, rules).length === 0);
          const ttl = clientLifetime(metadataOf(client), 'access_token');
          return {
            scope: ceiling.join(' '),
            audience: resource,
            accessTokenFormat: 'opaque',
            ...(ttl === undefined ? {} : { accessTokenTTL: ttl }),
          };
        },
      },
    },
  };
}
