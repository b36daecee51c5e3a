/**
 * IdP faults through the fault proxy at the issuer address: down, slow, 5xx, 429 and
 * invalid_client_metadata. Each gives a clear condition, a bounded number of calls (backoff, no
 * hot loop), nothing lost, and Ready once the IdP heals.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { matching } from '../../../src/testing/faultproxy.ts';
import type { Fault } from '../../../src/testing/faultproxy.ts';
import { condition, createEnv, eventually, waitReady } from './harness.ts';
import type { Env } from './harness.ts';

let env: Env;
const register = matching('POST', '/reg');
const registerCalls = (): number => env.proxy.requests().filter(register).length;

beforeAll(async () => {
  env = await createEnv('agc-fault');
  await env.startOperator();
  // The IdentityProvider must be discovered (and stay so) before faults start.
  await env.createAgent('warmup');
  await waitReady(env, 'warmup');
});

beforeEach(() => {
  env.proxy.reset();
  env.proxy.resetCount();
});

afterAll(async () => {
  await env?.teardown();
});

async function reasonOf(name: string, type: string, reason: string): Promise<void> {
  await eventually(async () => condition(await env.getAgent(name), type)?.reason === reason, 20_000, `${name} ${type}=${reason}`);
}

describe('AgentClient under IdP faults', () => {
  it.each<[string, Fault, string]>([
    ['down', { kind: 'drop' }, 'IdPUnavailable'],
    ['slow (beyond the 2 s request timeout)', { kind: 'delay', ms: 4000 }, 'IdPTimeout'],
    ['5xx', { kind: 'respond', status: 503, body: { error: 'server_error' } }, 'IdPServerError'],
    ['429', { kind: 'respond', status: 429, body: { error: 'slow_down' }, headers: { 'retry-after': '2' } }, 'IdPRateLimited'],
  ])('IdP %s: condition, bounded retries with backoff, Ready when healed', async (label, fault, reason) => {
    const name = `f-${label.split(' ')[0]}`;
    env.proxy.set({ fault, match: register });
    const created = await env.createAgent(name);
    await reasonOf(name, 'Registered', reason);
    const agent = await env.getAgent(name);
    expect(condition(agent, 'Ready')).toMatchObject({ status: 'False', reason });
    expect(condition(agent, 'Reconciling')?.status).toBe('True');
    expect(condition(agent, 'Registered')?.message).toMatch(/registering the client/);
    // Exponential backoff: a handful of attempts in seconds, not hundreds, and ever sparser.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(registerCalls()).toBeLessThanOrEqual(15);
    env.proxy.resetCount();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(registerCalls()).toBeLessThanOrEqual(3);
    env.proxy.reset();
    await waitReady(env, name, 60_000);
    expect(env.idpClientsOf(created.metadata.uid)).toHaveLength(1);
  });

  it('invalid_client_metadata: Registered=False with the reason, Stalled, an Event, no retry until the spec changes', async () => {
    env.proxy.set({ fault: { kind: 'respond', status: 400, body: { error: 'invalid_client_metadata', error_description: 'redirect_uris rejected by policy' } }, match: register });
    await env.createAgent('f-invalid');
    await reasonOf('f-invalid', 'Registered', 'InvalidClientMetadata');
    const agent = await env.getAgent('f-invalid');
    expect(condition(agent, 'Registered')?.message).toContain('redirect_uris rejected by policy');
    expect(condition(agent, 'Stalled')?.status).toBe('True');
    const calls = registerCalls();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(registerCalls()).toBe(calls);
    const events = await env.kubectl(['get', 'events', '-n', env.namespace, '--field-selector', 'involvedObject.name=f-invalid', '-o', 'jsonpath={.items[*].reason}']);
    expect(events.stdout).toContain('InvalidClientMetadata');

    // A spec change is a new attempt; the IdP now accepts it.
    env.proxy.reset();
    await env.patchAgent('f-invalid', { spec: { clientName: 'Fixed agent' } });
    await waitReady(env, 'f-invalid');
  });

  it('a gateway error after the IdP registered (502, unreadable body): no duplicate client, the registration is adopted', async () => {
    env.proxy.set({ fault: { kind: 'forwardThenRespond', status: 502 }, match: register, times: 1 });
    const created = await env.createAgent('f-gw502');
    const agent = await waitReady(env, 'f-gw502', 60_000);
    expect(env.idpClientsOf(created.metadata.uid).map((c) => c['client_id'])).toEqual([agent.status?.clientId]);
    expect(registerCalls()).toBe(1);
  });

  it('a registration that lands after the request timeout is found, not duplicated', async () => {
    // The client gives up after 2 s (requestTimeoutSeconds); the IdP gets the request at 2.3 s.
    env.proxy.set({ fault: { kind: 'forwardLate', ms: 2300 }, match: register, times: 1 });
    const created = await env.createAgent('f-late');
    const agent = await waitReady(env, 'f-late', 60_000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(env.idpClientsOf(created.metadata.uid).map((c) => c['client_id'])).toEqual([agent.status?.clientId]);
  });

  it('a spec change whose RFC 7592 PUT fails once is still pushed: Ready only once the IdP holds it', async () => {
    const created = await env.createAgent('f-put', { grantTypes: ['authorization_code', 'refresh_token'], redirectUris: ['https://app.example.test/cb', 'https://old.example.test/cb'] });
    await waitReady(env, 'f-put');
    env.proxy.set({ fault: { kind: 'respond', status: 503, body: { error: 'server_error' } }, match: (r) => r.method === 'PUT', times: 1 });
    await env.patchAgent('f-put', { spec: { redirectUris: ['https://app.example.test/cb'] } });
    await eventually(async () => {
      const a = await env.getAgent('f-put');
      return a?.status?.observedGeneration === 2 && condition(a, 'Ready')?.status === 'True';
    }, 30_000, 'f-put Ready at generation 2');
    // The removed redirect URI must not stay live at the IdP behind a Ready=True.
    expect(env.idpClientsOf(created.metadata.uid)[0]?.['redirect_uris']).toEqual(['https://app.example.test/cb']);
    expect(env.proxy.requests().filter((r) => r.method === 'PUT').length).toBe(2);
  });

  it('deletion while the IdP is down: blocked with a clear condition; the escape hatch annotation lets it go', async () => {
    await env.createAgent('f-delete');
    const agent = await waitReady(env, 'f-delete');
    env.proxy.set({ fault: { kind: 'drop' }, match: (r) => r.method === 'DELETE' });
    await env.client.delete({ group: 'agentidentity.dev', version: 'v1alpha1', plural: 'agentclients', kind: 'AgentClient', namespaced: true }, 'f-delete', env.namespace);
    await reasonOf('f-delete', 'Ready', 'DeletionBlocked');
    expect(condition(await env.getAgent('f-delete'), 'Ready')?.message).toMatch(/skip-idp-cleanup/);
    await env.patchAgent('f-delete', { metadata: { annotations: { 'agentidentity.dev/skip-idp-cleanup': 'true' } } });
    await eventually(async () => (await env.getAgent('f-delete')) === null, 20_000, 'AgentClient gone');
    // The registration was left at the IdP, as the annotation asked.
    expect(env.idpClientsOf(agent.metadata.uid)).toHaveLength(1);
  });
});
