import { describe, expect, it } from 'vitest';
import { capabilitiesFrom, parseMetadata, wellKnownUrls } from './discovery.ts';
import { toRegistration } from './adapter.ts';

describe('discovery', () => {
  it('builds RFC 8414 and OpenID well-known URLs', () => {
    expect(wellKnownUrls('https://idp.example')).toEqual([
      'https://idp.example/.well-known/oauth-authorization-server',
      'https://idp.example/.well-known/openid-configuration',
    ]);
    expect(wellKnownUrls('https://idp.example/realms/a/')).toEqual([
      'https://idp.example/.well-known/oauth-authorization-server/realms/a',
      'https://idp.example/realms/a/.well-known/openid-configuration',
    ]);
  });

  it('rejects an issuer that differs (RFC 8414 section 3.3)', () => {
    expect(() => parseMetadata('https://a.example', { issuer: 'https://b.example', token_endpoint: 'x' }, undefined))
      .toThrow(/does not equal/);
    expect(() => parseMetadata('https://a.example', { issuer: 'https://a.example/', token_endpoint: 'x' }, undefined))
      .toThrow(/does not equal/);
  });

  it('derives capabilities honestly', () => {
    const none = capabilitiesFrom({}, undefined);
    expect(none).toEqual({
      registration: false, management: false, revokeClientGrants: false, revokeSubjectGrants: false,
      tokenLifetimes: false, multipleSecrets: false, jwks: false, disableClient: false,
    });
    const dcr = { registration_endpoint: 'https://a/reg', token_endpoint_auth_methods_supported: ['private_key_jwt'] };
    expect(capabilitiesFrom(dcr, undefined)).toMatchObject({ registration: true, management: true, jwks: true });
    expect(capabilitiesFrom(dcr, false).management).toBe(false);
  });

  it('maps a registration response, keeping the previous handle when the IdP does not rotate', () => {
    const reg = toRegistration('read', { client_id: 'c', client_name: 'n', scope: 's', client_secret: 'x' }, {
      clientId: 'c', registrationClientUri: 'https://a/reg/c', registrationAccessToken: 't',
    });
    expect(reg.handle).toEqual({ clientId: 'c', registrationClientUri: 'https://a/reg/c', registrationAccessToken: 't' });
    expect(reg.metadata).toMatchObject({ client_name: 'n', scope: 's' });
    expect(reg.metadata).not.toHaveProperty('client_secret');
    expect(reg.clientSecret).toBe('x');
  });
});
