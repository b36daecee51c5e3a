/**
 * The contract every identity-provider adapter implements. One adapter instance serves one
 * IdentityProvider; controllers never speak HTTP to an IdP directly.
 *
 * Capability flags say what an IdP can really do. Where a flag is false the caller reports that
 * honestly in status (a condition), never pretends.
 */
import type { IdpError } from './errors.ts';

/** What an IdP can do, as discovered and as the adapter implements it. */
export interface IdpCapabilities {
  /** RFC 7591 Dynamic Client Registration. */
  registration: boolean;
  /** RFC 7592 read, update and delete of a registration. */
  management: boolean;
  /** Revoke every grant and token a client holds, for all users. */
  revokeClientGrants: boolean;
  /** Revoke one subject's (user's) grants and tokens for one client. */
  revokeSubjectGrants: boolean;
  /** Per-client access/refresh token lifetimes, projected from policy. */
  tokenLifetimes: boolean;
  /** Two client secrets valid at once during a rotation. */
  multipleSecrets: boolean;
  /** Client `jwks` in the registration (private_key_jwt key rotation with overlap). */
  jwks: boolean;
  /** Disable a client without deleting it (suspension). */
  disableClient: boolean;
}

/** Endpoints and capabilities learnt by RFC 8414 / OpenID discovery. */
export interface DiscoveredProvider {
  issuer: string;
  tokenEndpoint: string;
  registrationEndpoint?: string;
  revocationEndpoint?: string;
  introspectionEndpoint?: string;
  jwksUri?: string;
  scopesSupported?: string[];
  grantTypesSupported?: string[];
  tokenEndpointAuthMethodsSupported?: string[];
  capabilities: IdpCapabilities;
}

/** RFC 7591 section 2 client metadata, plus the agent-specific extension fields. */
export interface ClientMetadata {
  client_name: string;
  grant_types: string[];
  redirect_uris: string[];
  response_types?: string[];
  /** Space-separated scope ceiling (RFC 7591 section 2 `scope`). */
  scope: string;
  token_endpoint_auth_method: 'private_key_jwt' | 'client_secret_basic' | 'none';
  /** Public keys only (RFC 7517 JWK Set), for private_key_jwt. */
  jwks?: { keys: Record<string, unknown>[] };
  /** Names cluster/namespace/name/uid so a registration can be proven ours after a crash. */
  software_id: string;
  software_version?: string;
  /** Owner, agent type, capability version... shown on the consent screen. */
  agent_metadata?: Record<string, string>;
  /** Policy-projected lifetimes (seconds); honoured where `tokenLifetimes` is true. */
  token_lifetimes?: { access_token?: number; refresh_token?: number };
  [extension: string]: unknown;
}

/** Where a registration lives and how to manage it (RFC 7592 section 3). Holds a credential. */
export interface RegistrationHandle {
  clientId: string;
  registrationClientUri: string;
  /** Secret: never log, never put in status, events or errors. */
  registrationAccessToken: string;
}

/** A registration as the IdP returned it. */
export interface Registration {
  handle: RegistrationHandle;
  metadata: ClientMetadata;
  /** Secret: only present for client_secret_* methods. */
  clientSecret?: string;
  clientSecretExpiresAt?: number;
  clientIdIssuedAt?: number;
}

/** What a grant revocation should cover. */
export interface GrantRevocationRequest {
  clientId: string;
  /** One user's grants only; all users when absent. */
  subject?: string;
  /** Only grants holding any of these scopes; all grants when absent. */
  scopes?: string[];
}

export interface GrantRevocationResult {
  /** Which IdP call did it, for the audit record and status (no secrets). */
  call: string;
  grantsRevoked: number;
  tokensRevoked: number;
}

/** Options of {@link IdpAdapter.findBySoftwareId}. */
export interface FindOptions {
  /** Leave this registration out (the one the caller holds and keeps managing). */
  exceptClientId?: string;
}

/** An adapter for one IdP. Every method throws {@link IdpError} (classified) on failure. */
export interface IdpAdapter {
  readonly type: string;
  discover(signal?: AbortSignal): Promise<DiscoveredProvider>;
  /** RFC 7591 section 3.1. */
  register(metadata: ClientMetadata, signal?: AbortSignal): Promise<Registration>;
  /** RFC 7592 section 2.1. Resolves null when the registration no longer exists. */
  read(handle: RegistrationHandle, signal?: AbortSignal): Promise<Registration | null>;
  /** RFC 7592 section 2.2 (full replacement of the metadata). */
  update(handle: RegistrationHandle, metadata: ClientMetadata, signal?: AbortSignal): Promise<Registration>;
  /** RFC 7592 section 2.3. Idempotent: an already-deleted registration is success. */
  delete(handle: RegistrationHandle, signal?: AbortSignal): Promise<void>;
  /** Requires `revokeClientGrants` (or `revokeSubjectGrants` with a subject). */
  revokeGrants(request: GrantRevocationRequest, signal?: AbortSignal): Promise<GrantRevocationResult>;
  /**
   * Registrations whose software_id equals the given one, for adopting a registration made just
   * before a crash. Resolves null when the IdP cannot list (the caller must then rely on its own
   * write-ahead record). An adapter that mints a registration access token per result (which may
   * invalidate the previous one) leaves `options.exceptClientId` out, untouched.
   */
  findBySoftwareId(softwareId: string, signal?: AbortSignal, options?: FindOptions): Promise<Registration[] | null>;
  /** Requires `disableClient`: a disabled client can neither authenticate nor obtain tokens. */
  setDisabled(clientId: string, disabled: boolean, signal?: AbortSignal): Promise<void>;
}

/** Configuration an adapter is built from (resolved from an IdentityProvider and its Secrets). */
export interface IdpAdapterConfig {
  issuer: string;
  /** RFC 7591 section 3 initial access token. Secret. */
  initialAccessToken?: string;
  /** Bearer token for the IdP's admin API, where the adapter uses one. Secret. */
  adminToken?: string;
  /** PEM bundle trusted for the IdP's TLS, in addition to the system roots. */
  caBundle?: string;
  /** Per-call timeout. */
  timeoutMs?: number;
  /** Injectable for tests and tools; by default node:http(s) with keep-alive pools (oidc/http.ts). */
  fetch?: typeof fetch;
  /** Called after every HTTP call to the IdP (for latency metrics). Carries no credential. */
  onCall?: (call: IdpCallRecord) => void;
}

/** One HTTP call an adapter made to its IdP. */
export interface IdpCallRecord {
  /** Adapter operation, e.g. `discover`, `register`, `read`, `update`, `delete`, `revokeGrants`. */
  operation: string;
  /** HTTP status; undefined when no response arrived (network error, timeout). */
  status: number | undefined;
  durationMs: number;
  /** Set when the call failed, with the IdpError code it was classified as. */
  errorCode?: IdpError['code'];
}

export type IdpAdapterFactory = (config: IdpAdapterConfig) => IdpAdapter;
export type { IdpError };
