/**
 * The generic `oidc` adapter: RFC 8414 / OpenID discovery, RFC 7591 registration with an initial
 * access token, RFC 7592 read / update / delete with the registration access token. It cannot
 * revoke grants, list registrations or disable clients: those say so (IdpError 'Unsupported',
 * null, capability flags false) instead of pretending.
 */
import type {
  ClientMetadata,
  DiscoveredProvider,
  GrantRevocationRequest,
  GrantRevocationResult,
  IdpAdapter,
  IdpAdapterConfig,
  Registration,
  RegistrationHandle,
} from '../adapter.ts';
import { IdpError } from '../errors.ts';
import { fetchMetadata, parseMetadata } from './discovery.ts';
import { IdpHttp } from './http.ts';
import type { IdpResponse } from './http.ts';

/** Fields of a registration response that are not client metadata (RFC 7591 section 3.2.1). */
const RESPONSE_ONLY = new Set([
  'client_id',
  'client_secret',
  'client_secret_expires_at',
  'client_id_issued_at',
  'registration_access_token',
  'registration_client_uri',
]);

/** Maps a registration response to a Registration, keeping the previous handle's values as defaults. */
export function toRegistration(
  operation: string,
  body: Record<string, unknown>,
  previous?: RegistrationHandle,
): Registration {
  const clientId = typeof body['client_id'] === 'string' ? body['client_id'] : previous?.clientId;
  if (!clientId) throw new IdpError('InvalidResponse', `${operation}: registration response has no client_id`);
  const metadata: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) if (!RESPONSE_ONLY.has(key)) metadata[key] = value;
  const str = (key: string): string | undefined => (typeof body[key] === 'string' ? (body[key]) : undefined);
  const num = (key: string): number | undefined => (typeof body[key] === 'number' ? (body[key]) : undefined);
  const secret = str('client_secret');
  const expiresAt = num('client_secret_expires_at');
  const issuedAt = num('client_id_issued_at');
  return {
    handle: {
      clientId,
      // RFC 7592 section 3: the IdP may rotate the token on any management response.
      registrationClientUri: str('registration_client_uri') ?? previous?.registrationClientUri ?? '',
      registrationAccessToken: str('registration_access_token') ?? previous?.registrationAccessToken ?? '',
    },
    metadata: {
      client_name: '',
      grant_types: [],
      redirect_uris: [],
      scope: '',
      token_endpoint_auth_method: 'client_secret_basic',
      software_id: '',
      ...metadata,
    },
    ...(secret === undefined ? {} : { clientSecret: secret }),
    ...(expiresAt === undefined ? {} : { clientSecretExpiresAt: expiresAt }),
    ...(issuedAt === undefined ? {} : { clientIdIssuedAt: issuedAt }),
  };
}

/** The generic RFC 8414 / 7591 / 7592 adapter. Subclasses add IdP-specific admin calls. */
export class OidcAdapter implements IdpAdapter {
  readonly type: string = 'oidc';
  protected readonly config: IdpAdapterConfig;
  protected readonly http: IdpHttp;
  #discovered: DiscoveredProvider | undefined;
  #metadata: Record<string, unknown> | undefined;
  /** undefined until a registration response shows whether RFC 7592 management is offered. */
  #managementSeen: boolean | undefined;

  constructor(config: IdpAdapterConfig) {
    if (!config.issuer) throw new IdpError('ClientError', 'issuer is required');
    this.config = config;
    this.http = new IdpHttp(config, () => [config.initialAccessToken, config.adminToken]);
  }

  /** RFC 8414 section 3 (then OpenID Discovery 1.0 section 4). Always asks the IdP. */
  async discover(signal?: AbortSignal): Promise<DiscoveredProvider> {
    const metadata = await fetchMetadata(this.http, this.config.issuer, signal);
    const discovered = this.adjust(parseMetadata(this.config.issuer, metadata, this.#managementSeen), metadata);
    this.#metadata = metadata;
    this.#discovered = discovered;
    return discovered;
  }

  /** Hook for subclasses to amend what discovery found (capabilities of an admin API). */
  protected adjust(discovered: DiscoveredProvider, _metadata: Record<string, unknown>): DiscoveredProvider {
    return discovered;
  }

  /** Last discovery result, discovering once when none is cached. */
  protected async provider(signal?: AbortSignal): Promise<{ discovered: DiscoveredProvider; metadata: Record<string, unknown> }> {
    if (!this.#discovered || !this.#metadata) await this.discover(signal);
    return { discovered: this.#discovered!, metadata: this.#metadata! };
  }

  /** RFC 7591 section 3.1, with the initial access token as bearer (section 3). */
  async register(metadata: ClientMetadata, signal?: AbortSignal): Promise<Registration> {
    const { discovered } = await this.provider(signal);
    if (!discovered.registrationEndpoint) {
      throw new IdpError('Unsupported', 'register: the IdP advertises no registration_endpoint (RFC 7591)');
    }
    const response = await this.http.request({
      operation: 'register',
      method: 'POST',
      url: discovered.registrationEndpoint,
      bearer: this.config.initialAccessToken,
      json: metadata,
      signal,
    });
    const registration = toRegistration('register', IdpHttp.json('register', response));
    const manageable = registration.handle.registrationClientUri !== '' && registration.handle.registrationAccessToken !== '';
    // Seen from now on in discover(): RFC 7592 support is only signalled per registration.
    this.#managementSeen = manageable;
    return registration;
  }

  #managed(operation: string, handle: RegistrationHandle): void {
    if (!handle.registrationClientUri || !handle.registrationAccessToken) {
      throw new IdpError('Unsupported', `${operation}: the registration has no registration_client_uri / registration_access_token (RFC 7592 not offered)`);
    }
  }

  /** RFC 7592 section 2.1. 401 (the RFC's answer for a deleted client) and 404 resolve null. */
  async read(handle: RegistrationHandle, signal?: AbortSignal): Promise<Registration | null> {
    this.#managed('read', handle);
    const response = await this.http.request({
      operation: 'read', method: 'GET', url: handle.registrationClientUri,
      bearer: handle.registrationAccessToken, signal, accept: [401, 404],
    }, [handle.registrationAccessToken]);
    if (response.status === 401 || response.status === 404) return null;
    return this.#registration('read', response, handle);
  }

  /** RFC 7592 section 2.2: full replacement; the body carries client_id, no response-only fields. */
  async update(handle: RegistrationHandle, metadata: ClientMetadata, signal?: AbortSignal): Promise<Registration> {
    this.#managed('update', handle);
    const body: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(metadata)) if (!RESPONSE_ONLY.has(key)) body[key] = value;
    body['client_id'] = handle.clientId;
    const response = await this.http.request({
      operation: 'update', method: 'PUT', url: handle.registrationClientUri,
      bearer: handle.registrationAccessToken, json: body, signal,
    }, [handle.registrationAccessToken]);
    return this.#registration('update', response, handle);
  }

  /** RFC 7592 section 2.3. 401/404 mean already gone: success. */
  async delete(handle: RegistrationHandle, signal?: AbortSignal): Promise<void> {
    this.#managed('delete', handle);
    await this.http.request({
      operation: 'delete', method: 'DELETE', url: handle.registrationClientUri,
      bearer: handle.registrationAccessToken, signal, accept: [401, 404, 410],
    }, [handle.registrationAccessToken]);
  }

  #registration(operation: string, response: IdpResponse, handle: RegistrationHandle): Registration {
    const registration = toRegistration(operation, IdpHttp.json(operation, response), handle);
    if (registration.handle.clientId !== handle.clientId) {
      throw new IdpError('InvalidResponse', `${operation}: IdP answered for another client_id`);
    }
    return registration;
  }

  async revokeGrants(_request: GrantRevocationRequest, _signal?: AbortSignal): Promise<GrantRevocationResult> {
    throw new IdpError('Unsupported', 'revokeGrants: a generic OIDC IdP offers no way to revoke a client\'s grants');
  }

  /** A generic IdP cannot list registrations. */
  async findBySoftwareId(_softwareId: string, _signal?: AbortSignal): Promise<Registration[] | null> {
    return null;
  }

  async setDisabled(_clientId: string, _disabled: boolean, _signal?: AbortSignal): Promise<void> {
    throw new IdpError('Unsupported', 'setDisabled: a generic OIDC IdP offers no way to disable a client');
  }
}

/** Factory for the registry. */
export function createOidcAdapter(config: IdpAdapterConfig): OidcAdapter {
  return new OidcAdapter(config);
}
