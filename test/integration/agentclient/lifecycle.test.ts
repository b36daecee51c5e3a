/**
 * AgentClient end to end on a real kube-apiserver and the real embedded IdP (oidc-provider): an
 * agent holding nothing but its Secret authenticates with private_key_jwt through openid-client
 * 6; its ceiling holds; spec changes and IdP drift reach the IdP; Secrets are recreated and
 * foreign ones left alone; deletion honours deletionPolicy.
 */
import type { JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secrets } from '../../../src/runtime/kube/types.ts';
import type { SecretObject } from '../../../src/runtime/kube/types.ts';
import { clientCredentials, oauthErrorOf } from '../idp/flows.ts';
import { agentAuth, condition, createEnv, decode, eventually, waitReady } from './harness.ts';
import type { Env } from './harness.ts';

let env: Env;
/** Every credential value the operator held, captured while it held them (records are deleted later). */
const credentials = new Set<string>();

/** Remembers the registration access token, client secret and private keys an agent holds now. */
async function captureCredentials(name: string): Promise<void> {
  const agent = await waitReady(env, name);
  const record = await env.client.get<SecretObject>(Secrets, `agc-${agent.metadata.uid}`, env.operatorNamespace);
  const secret = await env.secret(`${name}-oauth`);
  const values = [decode(record, 'registration_access_token'), decode(record, 'client_secret'), decode(secret, 'client_secret')];
  for (const jwk of [decode(record, 'private_key.jwk'), decode(secret, 'private_key.jwk')]) if (jwk) values.push((JSON.parse(jwk) as JWK).d);
  for (const v of values) if (v) credentials.add(v);
  expect(decode(record, 'registration_access_token')).toBeTruthy();
}

beforeAll(async () => {
  env = await createEnv('agc-life');
  await env.startOperator();
});

afterAll(async () => {
  await env?.teardown();
});

describe('AgentClient lifecycle', () => {
  it('registers, writes the Secret, reports Ready; kubectl wait works; the agent gets a token with only its Secret', async () => {
    const created = await env.createAgent('billing', { scopes: ['invoices:read', 'invoices:write'] });
    const waited = await env.kubectl(['wait', '--for=condition=Ready', '--timeout=30s', '-n', env.namespace, 'agentclient/billing']);
    expect(waited.code, waited.stderr).toBe(0);
    const agent = await waitReady(env, 'billing');
    expect(agent.status).toMatchObject({
      observedGeneration: 1,
      identityProvider: env.proxy.url,
      grantedScopes: ['invoices:read', 'invoices:write'],
      credentials: { secretName: 'billing-oauth', rotationSupport: 'Overlap' },
    });
    for (const type of ['Registered', 'CredentialsReady']) expect(condition(agent, type)?.status).toBe('True');
    expect(agent.status?.ceilingHistory?.[0]).toMatchObject({ decision: 'Initial', added: ['invoices:read', 'invoices:write'] });
    expect(agent.metadata.finalizers).toContain('agentidentity.dev/registration');

    const secret = await env.secret('billing-oauth');
    expect(Object.keys(secret?.data ?? {}).sort()).toEqual(['client_id', 'issuer', 'key_id', 'private_key.jwk', 'private_key.pem', 'scope', 'token_endpoint', 'token_endpoint_auth_method']);
    expect(decode(secret, 'client_id')).toBe(agent.status?.clientId);
    expect(secret?.data).not.toHaveProperty('registration_access_token');
    expect(secret?.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'AgentClient', uid: created.metadata.uid, controller: true });

    // Exactly one IdP client, tagged with a software_id naming cluster, namespace, name and uid.
    const clients = env.idpClientsOf(created.metadata.uid);
    expect(clients).toHaveLength(1);
    expect(clients[0]?.['software_id']).toBe(`agentidentity.dev/itest/${env.namespace}/billing/${created.metadata.uid}`);
    // The registration access token lives in the operator namespace only.
    const record = await env.client.get<SecretObject>(Secrets, `agc-${created.metadata.uid}`, env.operatorNamespace);
    expect(decode(record, 'registration_access_token')).toBeTruthy();

    // One Event for the registration and the Secret written right after it (events are sent in
    // the background, so wait for it).
    const events = await eventually(async () => {
      const out = await env.kubectl(['get', 'events', '-n', env.namespace, '--field-selector', `involvedObject.uid=${created.metadata.uid}`, '-o', 'json']);
      const items = (JSON.parse(out.stdout) as { items: { reason: string; message: string }[] }).items;
      return items.length > 0 ? items : undefined;
    }, 15_000, 'the registration Event');
    expect(events.map((e) => e.reason)).toEqual(['Registered']);
    expect(events[0]?.message).toBe(`registered at ${env.proxy.url} as client ${agent.status?.clientId ?? '?'}; credentials written to Secret billing-oauth`);

    const { issuer, clientId, auth } = await agentAuth(secret);
    await captureCredentials('billing');
    const tokens = await clientCredentials(issuer, clientId, auth, 'invoices:read');
    expect(tokens.access_token).toBeTruthy();
    // Outside the ceiling: refused by the IdP.
    expect(await oauthErrorOf(clientCredentials(issuer, clientId, auth, 'payroll:admin'))).toBe('invalid_scope');
  });

  it('makes zero API writes and zero IdP calls when idle', async () => {
    await waitReady(env, 'billing');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // Events are sent in the background: let every queue (and the Event queue) drain first.
    await env.operator!.manager.idle();
    const writes = env.operator!.writes;
    writes.reset();
    env.proxy.resetCount();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    // The shared API server holds other files' cluster-scoped IdentityProviders, which this
    // operator reconciles too: count only what concerns this file's objects.
    const ours = (w: { resource: string; namespace?: string; name?: string }): boolean =>
      !w.resource.includes('leases') &&
      (w.namespace === env.namespace || w.namespace === env.operatorNamespace || w.name === env.idpName || (w.name ?? '').startsWith(`${env.idpName}.`));
    expect(writes.count(ours)).toBe(0);
    expect(env.proxy.requests()).toEqual([]);
  });

  it('pushes a spec scope change to the IdP', async () => {
    await env.patchAgent('billing', { spec: { scopes: ['invoices:read', 'reports:read'] } });
    const agent = await eventually(async () => {
      const a = await env.getAgent('billing');
      return a?.metadata.generation === 2 && a.status?.observedGeneration === 2 && condition(a, 'Ready')?.status === 'True' ? a : undefined;
    });
    const [client] = env.idpClientsOf(agent.metadata.uid);
    expect(String(client?.['scope']).split(' ').sort()).toEqual(['invoices:read', 'reports:read']);
    expect(agent.status?.grantedScopes).toEqual(['invoices:read', 'reports:read']);
    expect(agent.status?.ceilingHistory?.at(-1)).toMatchObject({ decision: 'Delta', added: ['reports:read'], removed: ['invoices:write'], generation: 2 });
    expect(decode(await env.secret('billing-oauth'), 'scope')).toBe('invoices:read reports:read');
    await captureCredentials('billing');
  });

  it('corrects drift made at the IdP directly (RFC 7592 PUT with the registration token)', async () => {
    await env.stopOperator();
    const agent = (await env.getAgent('billing'))!;
    const record = await env.client.get<SecretObject>(Secrets, `agc-${agent.metadata.uid}`, env.operatorNamespace);
    const uri = decode(record, 'registration_client_uri')!;
    const token = decode(record, 'registration_access_token')!;
    const current = (await (await fetch(uri, { headers: { authorization: `Bearer ${token}` } })).json()) as Record<string, unknown>;
    const widened: Record<string, unknown> = { ...current, scope: 'invoices:read reports:read payroll:admin' };
    for (const k of ['registration_access_token', 'registration_client_uri', 'client_secret_expires_at', 'client_id_issued_at']) delete widened[k];
    const put = await fetch(uri, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(widened) });
    expect(put.status).toBe(200);
    expect(String(env.idpClientsOf(agent.metadata.uid)[0]?.['scope'])).toContain('payroll:admin');

    // A fresh operator with a short drift period notices and narrows it back.
    await env.startOperator({ registrationResyncMs: 1000 });
    await eventually(() => !String(env.idpClientsOf(agent.metadata.uid)[0]?.['scope']).includes('payroll:admin'), 20_000, 'drift corrected');
    await captureCredentials('billing');
    await env.stopOperator();
    await env.startOperator();
  });

  it('recreates a deleted agent Secret at once, with the same credentials', async () => {
    const before = await env.secret('billing-oauth');
    await env.client.delete(Secrets, 'billing-oauth', env.namespace);
    const after = await eventually(() => env.secret('billing-oauth'), 10_000, 'Secret recreated');
    expect(decode(after, 'key_id')).toBe(decode(before, 'key_id'));
    expect(decode(after, 'client_id')).toBe(decode(before, 'client_id'));
  });

  it('never overwrites a Secret it did not create, and registers nothing until the name is free', async () => {
    await env.client.create<SecretObject>(Secrets, {
      apiVersion: 'v1', kind: 'Secret', metadata: { name: 'taken-oauth', namespace: env.namespace }, data: { mine: Buffer.from('yes').toString('base64') },
    });
    const created = await env.createAgent('taken');
    const agent = await eventually(async () => {
      const a = await env.getAgent('taken');
      return condition(a, 'CredentialsReady')?.reason === 'SecretConflict' ? a : undefined;
    });
    expect(condition(agent, 'Ready')?.status).toBe('False');
    expect(condition(agent, 'Stalled')?.status).toBe('True');
    expect(env.idpClientsOf(created.metadata.uid)).toHaveLength(0);
    expect((await env.secret('taken-oauth'))?.data).toEqual({ mine: Buffer.from('yes').toString('base64') });
  });

  it('deletionPolicy Delete removes the registration, the Secret and the record', async () => {
    const agent = await waitReady(env, 'billing');
    await env.client.delete({ group: 'agentidentity.dev', version: 'v1alpha1', plural: 'agentclients', kind: 'AgentClient', namespaced: true }, 'billing', env.namespace);
    await eventually(async () => (await env.getAgent('billing')) === null, 20_000, 'AgentClient gone');
    expect(env.idpClientsOf(agent.metadata.uid)).toHaveLength(0);
    expect(await env.secret('billing-oauth')).toBeNull();
    expect(await env.client.get(Secrets, `agc-${agent.metadata.uid}`, env.operatorNamespace)).toBeNull();
  });

  it('deletionPolicy Orphan leaves the registration and a working Secret, drops the operator-side record', async () => {
    await env.createAgent('keeper', { deletionPolicy: 'Orphan' });
    const agent = await waitReady(env, 'keeper');
    await captureCredentials('keeper');
    await env.client.delete({ group: 'agentidentity.dev', version: 'v1alpha1', plural: 'agentclients', kind: 'AgentClient', namespaced: true }, 'keeper', env.namespace);
    await eventually(async () => (await env.getAgent('keeper')) === null, 20_000, 'AgentClient gone');
    expect(env.idpClientsOf(agent.metadata.uid)).toHaveLength(1);
    expect(await env.client.get(Secrets, `agc-${agent.metadata.uid}`, env.operatorNamespace)).toBeNull();
    const secret = await env.secret('keeper-oauth');
    expect(secret?.metadata?.ownerReferences ?? []).toHaveLength(0);
    const { issuer, clientId, auth } = await agentAuth(secret);
    expect((await clientCredentials(issuer, clientId, auth, 'invoices:read')).access_token).toBeTruthy();
  });

  it('never puts a credential value in a log line, an Event or a status', async () => {
    // Captured while each agent was Ready: by now their records are deleted.
    expect(credentials.size).toBeGreaterThanOrEqual(4);
    const secrets: string[] = [env.idp.initialAccessToken, env.idp.adminToken, ...credentials];
    expect(env.logs.length).toBeGreaterThan(10);
    for (const line of env.logs) for (const s of secrets) expect(line.includes(s), 'a log line holds a credential').toBe(false);
    const events = await env.kubectl(['get', 'events', '-n', env.namespace, '-o', 'json']);
    const statuses = await env.kubectl(['get', 'agentclients', '-n', env.namespace, '-o', 'jsonpath={.items[*].status}']);
    expect(events.stdout).toContain('Registered');
    expect(statuses.stdout).toContain('SecretConflict');
    for (const s of secrets) {
      expect(events.stdout.includes(s), 'an Event holds a credential').toBe(false);
      expect(statuses.stdout.includes(s), 'a status holds a credential').toBe(false);
    }
  });
});
