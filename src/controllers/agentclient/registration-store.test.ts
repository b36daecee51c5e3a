import { describe, expect, it } from 'vitest';
import { generateSigningKey } from './credentials.ts';
import { CorruptRecordError, parseRecordSecret, recordSecretName, renderRecordSecret } from './registration-store.ts';
import type { RegistrationRecord } from './registration-store.ts';

describe('registration record Secret', () => {
  it('round-trips every field and is named agc-<uid> with ownership labels', async () => {
    const record: RegistrationRecord = {
      uid: 'u-1', namespace: 'team-a', name: 'agent', softwareId: 'agentidentity.dev/default/team-a/agent/u-1',
      issuer: 'http://127.0.0.1:4000', tokenEndpoint: 'http://127.0.0.1:4000/token', clientId: 'c',
      registrationClientUri: 'http://127.0.0.1:4000/reg/c', registrationAccessToken: 'rat-value', clientSecret: 'sec',
      key: await generateSigningKey('ES256'), pendingKey: await generateSigningKey('RS256'), previousKey: { kty: 'EC', kid: 'old' },
      overlapUntil: '2026-01-01T00:00:00Z', lastRotationTime: '2025-12-31T00:00:00Z', lastRotationRequest: 'r1',
      registeredAt: '2025-12-01T00:00:00Z', registeredScope: 'a b', intent: { op: 'rotate', at: '2025-12-31T00:00:00Z' },
    };
    const secret = renderRecordSecret(record, 'operator-ns');
    expect(secret.metadata).toMatchObject({
      name: recordSecretName('u-1'),
      namespace: 'operator-ns',
      labels: { 'app.kubernetes.io/managed-by': 'agent-identity-operator', 'agentidentity.dev/agentclient-uid': 'u-1' },
      annotations: { 'agentidentity.dev/agentclient': 'team-a/agent' },
    });
    expect(parseRecordSecret({ ...secret, metadata: { ...secret.metadata, resourceVersion: '9' } })).toEqual({ ...record, resourceVersion: '9' });
    const state = Buffer.from(secret.data!['state.json']!, 'base64').toString();
    // The non-secret state document never carries a credential.
    for (const value of ['rat-value', 'sec', record.key!.privateJwk.d!]) expect(state).not.toContain(value);
  });

  it('refuses records it cannot trust, without echoing their content', () => {
    expect(() => parseRecordSecret({ metadata: { name: 'agc-x' }, data: {} })).toThrow(CorruptRecordError);
    const bad = { metadata: { name: 'agc-x', labels: { 'agentidentity.dev/agentclient-uid': 'x' } }, data: { 'state.json': Buffer.from('{nope').toString('base64') } };
    expect(() => parseRecordSecret(bad)).toThrow(/no readable state/);
  });
});
