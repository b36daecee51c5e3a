/**
 * Authorization server metadata discovery: RFC 8414 first, then OpenID Connect Discovery 1.0.
 */
import type { DiscoveredProvider, IdpCapabilities } from '../adapter.ts';
import { IdpError } from '../errors.ts';
import { IdpHttp } from './http.ts';

/**
 * The two well-known URLs for an issuer, in the order tried. RFC 8414 section 3.1 inserts the
 * well-known segment between host and path; OpenID Discovery appends it to the issuer.
 */
export function wellKnownUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return [
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
    `${url.origin}${path}/.well-known/openid-configuration`,
  ];
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function strings(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined;
}

/**
 * Capabilities the generic adapter can honestly claim from metadata alone.
 *
 * `management` (RFC 7592) is not advertised in metadata: it is signalled per client by a
 * `registration_client_uri` + `registration_access_token` in the registration response. So it is
 * assumed with `registration` until a registration response proves otherwise (`managementSeen`
 * false), after which the adapter reports it false.
 */
export function capabilitiesFrom(
  metadata: Record<string, unknown>,
  managementSeen: boolean | undefined,
): IdpCapabilities {
  const registration = str(metadata['registration_endpoint']) !== undefined;
  // RFC 8414 section 2: absent token_endpoint_auth_methods_supported means client_secret_basic.
  const authMethods = strings(metadata['token_endpoint_auth_methods_supported']) ?? ['client_secret_basic'];
  return {
    registration,
    management: registration && managementSeen !== false,
    revokeClientGrants: false,
    revokeSubjectGrants: false,
    tokenLifetimes: false,
    multipleSecrets: false,
    jwks: authMethods.includes('private_key_jwt'),
    disableClient: false,
  };
}

/** Validates metadata (RFC 8414 section 3.3 issuer equality) and maps it. */
export function parseMetadata(
  issuer: string,
  metadata: Record<string, unknown>,
  managementSeen: boolean | undefined,
): DiscoveredProvider {
  if (metadata['issuer'] !== issuer) {
    throw new IdpError(
      'InvalidResponse',
      `discover: metadata issuer ${JSON.stringify(String(metadata['issuer']).slice(0, 200))} does not equal the configured issuer ${JSON.stringify(issuer)} (RFC 8414 section 3.3)`,
    );
  }
  const tokenEndpoint = str(metadata['token_endpoint']);
  if (!tokenEndpoint) throw new IdpError('InvalidResponse', 'discover: metadata has no token_endpoint');
  const optional = (key: string, value: unknown): Record<string, unknown> => (value === undefined ? {} : { [key]: value });
  return {
    issuer,
    tokenEndpoint,
    ...optional('registrationEndpoint', str(metadata['registration_endpoint'])),
    ...optional('revocationEndpoint', str(metadata['revocation_endpoint'])),
    ...optional('introspectionEndpoint', str(metadata['introspection_endpoint'])),
    ...optional('jwksUri', str(metadata['jwks_uri'])),
    ...optional('scopesSupported', strings(metadata['scopes_supported'])),
    ...optional('grantTypesSupported', strings(metadata['grant_types_supported'])),
    ...optional('tokenEndpointAuthMethodsSupported', strings(metadata['token_endpoint_auth_methods_supported'])),
    capabilities: capabilitiesFrom(metadata, managementSeen),
  };
}

/**
 * Fetches the raw metadata: RFC 8414 first; on 404 (or another 4xx) the OpenID location. Network
 * failures, timeouts, 429 and 5xx are not masked by the fallback.
 */
export async function fetchMetadata(http: IdpHttp, issuer: string, signal?: AbortSignal): Promise<Record<string, unknown>> {
  const [rfc8414, openid] = wellKnownUrls(issuer) as [string, string];
  const first = await http.request({
    operation: 'discover', method: 'GET', url: rfc8414, signal, accept: [400, 401, 403, 404, 405, 410],
  });
  if (first.status >= 200 && first.status < 300) return IdpHttp.json('discover', first);
  const second = await http.request({ operation: 'discover', method: 'GET', url: openid, signal });
  return IdpHttp.json('discover', second);
}
