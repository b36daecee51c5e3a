/**
 * The `embedded` adapter: the generic `oidc` adapter plus the embedded IdP's admin API
 * (`agentidentity_admin_endpoint` in its discovery document, bearer admin token) for what
 * RFC 7591/7592 cannot do: revoke grants and tokens by client / subject / scope, find
 * registrations by software_id (adopting one after a crash), and disable a client.
 */
import type {
  DiscoveredProvider,
  FindOptions,
  GrantRevocationRequest,
  GrantRevocationResult,
  IdpAdapterConfig,
  Registration,
} from '../adapter.ts';
import { IdpError } from '../errors.ts';
import { OidcAdapter, toRegistration } from '../oidc/adapter.ts';
import { IdpHttp } from '../oidc/http.ts';

export class EmbeddedAdapter extends OidcAdapter {
  override readonly type: string = 'embedded';

  /**
   * Admin-backed capabilities need an advertised admin endpoint and an admin token; token
   * lifetimes come from the `token_lifetimes` client metadata and need neither.
   */
  protected override adjust(discovered: DiscoveredProvider, metadata: Record<string, unknown>): DiscoveredProvider {
    const admin = typeof metadata['agentidentity_admin_endpoint'] === 'string' && Boolean(this.config.adminToken);
    return {
      ...discovered,
      capabilities: {
        ...discovered.capabilities,
        revokeClientGrants: admin,
        revokeSubjectGrants: admin,
        disableClient: admin,
        tokenLifetimes: true,
        multipleSecrets: false,
      },
    };
  }

  async #adminBase(signal?: AbortSignal): Promise<string> {
    if (!this.config.adminToken) throw new IdpError('Unauthorized', 'admin: no admin token configured for the embedded IdP');
    const { metadata } = await this.provider(signal);
    const base = metadata['agentidentity_admin_endpoint'];
    if (typeof base !== 'string') {
      throw new IdpError('Unsupported', 'admin: the IdP advertises no agentidentity_admin_endpoint');
    }
    return base.replace(/\/$/, '');
  }

  /** `DELETE /admin/grants`: the grants and every token derived from them. */
  override async revokeGrants(request: GrantRevocationRequest, signal?: AbortSignal): Promise<GrantRevocationResult> {
    const base = await this.#adminBase(signal);
    const query = new URLSearchParams({ client_id: request.clientId });
    if (request.subject !== undefined) query.set('sub', request.subject);
    if (request.scopes?.length) query.set('scope', request.scopes.join(' '));
    const response = await this.http.request({
      operation: 'revokeGrants', method: 'DELETE', url: `${base}/grants?${query.toString()}`, bearer: this.config.adminToken, signal,
    });
    const body = IdpHttp.json('revokeGrants', response);
    const grantsRevoked = body['grantsRevoked'];
    const tokensRevoked = body['tokensRevoked'];
    if (typeof grantsRevoked !== 'number' || typeof tokensRevoked !== 'number') {
      throw new IdpError('InvalidResponse', 'revokeGrants: admin API answered without counts');
    }
    return { call: 'DELETE /admin/grants', grantsRevoked, tokensRevoked };
  }

  /**
   * `GET /admin/clients?software_id=`, then a fresh registration access token for each match
   * (`POST /admin/clients/{id}/registration-token`), which invalidates any earlier token.
   */
  override async findBySoftwareId(softwareId: string, signal?: AbortSignal, options: FindOptions = {}): Promise<Registration[] | null> {
    const base = await this.#adminBase(signal);
    const list = IdpHttp.json('findBySoftwareId', await this.http.request({
      operation: 'findBySoftwareId', method: 'GET',
      url: `${base}/clients?${new URLSearchParams({ software_id: softwareId }).toString()}`, bearer: this.config.adminToken, signal,
    }));
    const clients = list['clients'];
    if (!Array.isArray(clients)) throw new IdpError('InvalidResponse', 'findBySoftwareId: admin API answered without clients');
    const out: Registration[] = [];
    for (const entry of clients as Array<Record<string, unknown>>) {
      const clientId = entry['client_id'];
      const metadata = entry['metadata'];
      if (typeof clientId !== 'string' || !metadata || typeof metadata !== 'object') {
        throw new IdpError('InvalidResponse', 'findBySoftwareId: malformed client entry');
      }
      // Minting a token below invalidates the client's current one: never for the caller's own.
      if (clientId === options.exceptClientId) continue;
      const minted = IdpHttp.json('findBySoftwareId', await this.http.request({
        operation: 'findBySoftwareId', method: 'POST',
        url: `${base}/clients/${encodeURIComponent(clientId)}/registration-token`, bearer: this.config.adminToken, signal,
      }));
      out.push(toRegistration('findBySoftwareId', {
        ...(metadata as Record<string, unknown>),
        client_id: clientId,
        registration_access_token: minted['registration_access_token'],
        registration_client_uri: minted['registration_client_uri'],
      }));
    }
    return out;
  }

  /** `PUT /admin/clients/{id}/disabled`. */
  override async setDisabled(clientId: string, disabled: boolean, signal?: AbortSignal): Promise<void> {
    const base = await this.#adminBase(signal);
    await this.http.request({
      operation: 'setDisabled', method: 'PUT', url: `${base}/clients/${encodeURIComponent(clientId)}/disabled`,
      bearer: this.config.adminToken, json: { disabled }, signal,
    });
  }
}

/** Factory for the registry. */
export function createEmbeddedAdapter(config: IdpAdapterConfig): EmbeddedAdapter {
  return new EmbeddedAdapter(config);
}
