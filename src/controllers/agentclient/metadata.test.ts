import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClientMetadata } from '../../idp/adapter.ts';
import { agentClient } from './testdata.ts';
import { agentMetadataField, desiredMetadata, metadataDrift, normalizeScope, parseSoftwareId, softwareId } from './metadata.ts';

describe('softwareId', () => {
  it('names cluster, namespace, name and uid', () => {
    expect(softwareId({ cluster: 'prod-eu', namespace: 'ns', name: 'a', uid: 'u-1' })).toBe('agentidentity.dev/prod-eu/ns/a/u-1');
  });

  it('round-trips through parseSoftwareId', () => {
    const part = fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,20}$/);
    fc.assert(
      fc.property(part, part, part, part, (cluster, namespace, name, uid) => {
        const id = { cluster, namespace, name, uid };
        expect(parseSoftwareId(softwareId(id))).toEqual(id);
      }),
    );
  });

  it.each([
    ['not ours', 'com.example/app'],
    ['too few parts', 'agentidentity.dev/c/ns/name'],
    ['too many parts', 'agentidentity.dev/c/ns/name/uid/x'],
    ['empty part', 'agentidentity.dev/c//name/uid'],
    ['not a string', 42],
  ])('rejects %s', (_label, value) => {
    expect(parseSoftwareId(value)).toBeNull();
  });

  it('refuses components that would make the id ambiguous', () => {
    expect(() => softwareId({ cluster: 'a/b', namespace: 'ns', name: 'n', uid: 'u' })).toThrow();
    expect(() => softwareId({ cluster: '', namespace: 'ns', name: 'n', uid: 'u' })).toThrow();
  });
});

describe('desiredMetadata', () => {
  it('applies the CRD defaults: client_credentials, private_key_jwt, no response types', () => {
    const jwks = { keys: [{ kty: 'EC', kid: 'k1' }] };
    const metadata = desiredMetadata({ agent: agentClient(), clusterName: 'default', ceiling: ['b', 'a', 'a'], jwks });
    expect(metadata).toEqual({
      client_name: 'Billing agent',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      scope: 'a b',
      token_endpoint_auth_method: 'private_key_jwt',
      jwks,
      software_id: 'agentidentity.dev/default/team-a/billing-agent/5f0c1f0e-1111-4a3b-9c7d-0123456789ab',
      agent_metadata: { owner: 'team-a@example.com' },
    });
  });

  it('asks for the code response type with authorization_code and carries software_version', () => {
    const agent = agentClient({
      grantTypes: ['authorization_code', 'refresh_token'],
      redirectUris: ['http://127.0.0.1/cb'],
      tokenEndpointAuthMethod: 'client_secret_basic',
      agentMetadata: { owner: 'o', capabilityVersion: '2.1.0', agentType: 'assistant' },
    });
    const metadata = desiredMetadata({ agent, clusterName: 'c', ceiling: ['x'], jwks: { keys: [] } });
    expect(metadata.response_types).toEqual(['code']);
    expect(metadata.software_version).toBe('2.1.0');
    expect(metadata.jwks).toBeUndefined();
    expect(metadata.token_endpoint_auth_method).toBe('client_secret_basic');
  });

  it('lets fixed agent metadata keys win over extra entries', () => {
    const agent = agentClient({ agentMetadata: { owner: 'real', contact: 'c@x', extra: { owner: 'fake', team: 'billing', description: 'x' } } });
    expect(agentMetadataField(agent)).toEqual({ owner: 'real', contact: 'c@x', team: 'billing' });
  });
});

describe('metadataDrift', () => {
  const base = desiredMetadata({
    agent: agentClient({ scopes: ['a', 'b'] }),
    clusterName: 'default',
    ceiling: ['a', 'b'],
    jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: '1', y: '2', kid: 'k1', alg: 'ES256', use: 'sig' }] },
  });

  it('is empty for the same registration echoed with extra IdP fields and reordered lists', () => {
    const echoed = { ...base, scope: 'b a', client_id_issued_at: 1, id_token_signed_response_alg: 'RS256', grant_types: [...base.grant_types].reverse() };
    expect(metadataDrift(base, echoed)).toEqual([]);
  });

  it.each<[string, Partial<ClientMetadata>]>([
    ['scope', { scope: 'a b admin' }],
    ['client_name', { client_name: 'other' }],
    ['grant_types', { grant_types: ['client_credentials', 'refresh_token'] }],
    ['redirect_uris', { redirect_uris: ['https://evil.example/cb'] }],
    ['token_endpoint_auth_method', { token_endpoint_auth_method: 'none' }],
    ['jwks', { jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: '9', y: '2', kid: 'k1' }] } }],
    ['software_id', { software_id: 'agentidentity.dev/default/team-a/billing-agent/other' }],
    ['agent_metadata', { agent_metadata: { owner: 'someone else' } }],
  ])('names %s when the IdP differs there', (field, change) => {
    expect(metadataDrift(base, { ...base, ...change })).toEqual([field]);
  });

  it('never reports private JWK members as drift and never includes values', () => {
    const withPrivate = { ...base, jwks: { keys: [{ ...(base.jwks!.keys[0] as object), d: 'secret' }] } };
    expect(metadataDrift(base, withPrivate)).toEqual([]);
  });

  it('scope comparison is order- and duplicate-insensitive (property)', () => {
    const scope = fc.stringMatching(/^[a-z:]{1,8}$/);
    fc.assert(
      fc.property(fc.array(scope, { minLength: 1, maxLength: 6 }), (scopes) => {
        const desired = { ...base, scope: normalizeScope(scopes) };
        const observed = { ...base, scope: [...scopes].reverse().concat(scopes).join(' ') };
        expect(metadataDrift(desired, observed)).toEqual([]);
      }),
    );
  });
});
