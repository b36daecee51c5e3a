import { describe, expect, it } from 'vitest';
import { agentClient } from './testdata.ts';
import {
  AGENTCLIENT_UID_LABEL,
  MANAGED_BY_LABEL,
  TEMPLATE_KEYS_ANNOTATION,
  agentSecretName,
  renderAgentSecret,
  secretOwnership,
  secretValue,
} from './secret.ts';
import type { AgentCredentials, SecretLike } from './secret.ts';

const keyCredentials: AgentCredentials = {
  clientId: 'c-1',
  issuer: 'http://127.0.0.1:4000',
  tokenEndpoint: 'http://127.0.0.1:4000/token',
  scope: 'a b',
  authMethod: 'private_key_jwt',
  key: { kid: 'kid-1', jwk: '{"kty":"EC"}', pem: '-----BEGIN PRIVATE KEY-----' },
};

function apply(rendered: SecretLike | null, previous: SecretLike): SecretLike {
  return rendered ?? previous;
}

describe('agentSecretName', () => {
  it('defaults to <name>-oauth without writing it to spec', () => {
    const agent = agentClient();
    expect(agentSecretName(agent)).toBe('billing-agent-oauth');
    expect(agent.spec.credentials).toBeUndefined();
    expect(agentSecretName(agentClient({ credentials: { secretName: 'x' } }))).toBe('x');
  });
});

describe('secretOwnership', () => {
  const agent = agentClient();
  it.each<[string, SecretLike | undefined, string]>([
    ['absent', undefined, 'absent'],
    ['ours', { metadata: { ownerReferences: [{ apiVersion: 'v', kind: 'AgentClient', name: 'billing-agent', uid: agent.metadata.uid }] } }, 'owned'],
    ['unlabelled, unowned', { metadata: {} }, 'foreign'],
    ['our label but no ownerReference', { metadata: { labels: { [MANAGED_BY_LABEL]: 'agent-identity-operator' } } }, 'foreign'],
    ['owned by another AgentClient of the same name', { metadata: { ownerReferences: [{ apiVersion: 'v', kind: 'AgentClient', name: 'billing-agent', uid: 'other' }] } }, 'foreign'],
  ])('%s', (_label, secret, expected) => {
    expect(secretOwnership(agent, secret)).toBe(expected);
  });
});

describe('renderAgentSecret', () => {
  it('renders the documented keys, our labels and a controller ownerReference', () => {
    const agent = agentClient();
    const secret = renderAgentSecret(agent, keyCredentials)!;
    expect(secret.metadata).toMatchObject({ name: 'billing-agent-oauth', namespace: 'team-a' });
    expect(secret.metadata?.labels).toMatchObject({ [MANAGED_BY_LABEL]: 'agent-identity-operator', [AGENTCLIENT_UID_LABEL]: agent.metadata.uid });
    expect(secret.metadata?.ownerReferences).toEqual([
      { apiVersion: 'agentidentity.dev/v1alpha1', kind: 'AgentClient', name: 'billing-agent', uid: agent.metadata.uid, controller: true, blockOwnerDeletion: true },
    ]);
    expect(Object.keys(secret.data!).sort()).toEqual(['client_id', 'issuer', 'key_id', 'private_key.jwk', 'private_key.pem', 'scope', 'token_endpoint', 'token_endpoint_auth_method']);
    expect(secretValue(secret, 'key_id')).toBe('kid-1');
    expect(secretValue(secret, 'client_secret')).toBeUndefined();
  });

  it('is null (no write) when the Secret already says exactly this', () => {
    const agent = agentClient({ credentials: { secretTemplate: { labels: { team: 'a' }, annotations: { note: 'x' } } } });
    const first = renderAgentSecret(agent, keyCredentials)!;
    expect(renderAgentSecret(agent, keyCredentials, { ...first, metadata: { ...first.metadata, resourceVersion: '7' } })).toBeNull();
  });

  it('keeps secretTemplate in sync: adds, changes and removes templated keys, keeps others', () => {
    const v1 = agentClient({ credentials: { secretTemplate: { labels: { team: 'a', tier: 'gold' }, annotations: { note: 'x' } } } });
    let secret = renderAgentSecret(v1, keyCredentials)!;
    secret.metadata!.labels!['added-by-someone'] = 'y';
    secret.metadata!.annotations!['kubectl.kubernetes.io/last-applied'] = '{}';
    const v2 = agentClient({ credentials: { secretTemplate: { labels: { team: 'b' } } } });
    secret = apply(renderAgentSecret(v2, keyCredentials, secret), secret);
    expect(secret.metadata?.labels).toMatchObject({ team: 'b', 'added-by-someone': 'y' });
    expect(secret.metadata?.labels).not.toHaveProperty('tier');
    expect(secret.metadata?.annotations).not.toHaveProperty('note');
    expect(secret.metadata?.annotations).toHaveProperty('kubectl.kubernetes.io/last-applied');
    expect(JSON.parse(secret.metadata!.annotations![TEMPLATE_KEYS_ANNOTATION]!)).toEqual({ labels: ['team'], annotations: [] });
  });

  it('never lets the template override our ownership labels', () => {
    const agent = agentClient({ credentials: { secretTemplate: { labels: { [MANAGED_BY_LABEL]: 'helm', [AGENTCLIENT_UID_LABEL]: 'x' } } } });
    const secret = renderAgentSecret(agent, keyCredentials)!;
    expect(secret.metadata?.labels?.[MANAGED_BY_LABEL]).toBe('agent-identity-operator');
    expect(secret.metadata?.labels?.[AGENTCLIENT_UID_LABEL]).toBe(agent.metadata.uid);
  });

  it('drops data keys of a former auth method and rewrites tampered data', () => {
    const agent = agentClient();
    const secretCredentials: AgentCredentials = { ...keyCredentials, authMethod: 'client_secret_basic', key: undefined, clientSecret: 's3cr3t' };
    const before = renderAgentSecret(agent, secretCredentials)!;
    expect(secretValue(before, 'client_secret')).toBe('s3cr3t');
    const after = renderAgentSecret(agent, keyCredentials, before)!;
    expect(after.data).not.toHaveProperty('client_secret');
    const tampered = { ...after, data: { ...after.data, client_id: Buffer.from('evil').toString('base64') } };
    expect(secretValue(renderAgentSecret(agent, keyCredentials, tampered)!, 'client_id')).toBe('c-1');
  });

  it('keeps the resourceVersion for an optimistic replace and other owners', () => {
    const agent = agentClient();
    const actual: SecretLike = {
      metadata: { name: 'billing-agent-oauth', resourceVersion: '42', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'cm' }, { apiVersion: 'agentidentity.dev/v1alpha1', kind: 'AgentClient', name: 'billing-agent', uid: agent.metadata.uid }] },
      type: 'Opaque',
      data: {},
    };
    const secret = renderAgentSecret(agent, keyCredentials, actual)!;
    expect(secret.metadata?.resourceVersion).toBe('42');
    expect(secret.metadata?.ownerReferences?.map((r) => r.uid)).toEqual(['cm', agent.metadata.uid]);
  });
});
