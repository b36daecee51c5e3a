/**
 * The periodic drift read (RFC 7592 GET) with a short period: it removes registrations that are
 * provably ours but not the recorded one (a registration that reached the IdP long after our
 * request timed out), and an IdP outage during it does not flip healthy agents to Ready=False.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { matching } from '../../../src/testing/faultproxy.ts';
import { condition, createEnv, eventually, waitReady } from './harness.ts';
import type { Env } from './harness.ts';

let env: Env;
const register = matching('POST', '/reg');
const RESYNC_MS = 1500;

beforeAll(async () => {
  env = await createEnv('agc-drift');
  await env.startOperator({ registrationResyncMs: RESYNC_MS });
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

async function eventReasons(name: string): Promise<string> {
  const events = await env.kubectl(['get', 'events', '-n', env.namespace, '--field-selector', `involvedObject.name=${name}`, '-o', 'jsonpath={.items[*].reason}']);
  return events.stdout;
}

describe('periodic drift read', () => {
  it('deletes a registration of ours that landed at the IdP long after the request timed out', async () => {
    // Lands at 6 s: after the timeout (2 s) and the search one timeout later, so a second
    // registration is made first and this one becomes an orphan carrying our software_id.
    env.proxy.set({ fault: { kind: 'forwardLate', ms: 6000 }, match: register, times: 1 });
    const created = await env.createAgent('d-orphan');
    const agent = await waitReady(env, 'd-orphan', 60_000);
    await eventually(async () => (await eventReasons('d-orphan')).includes('OrphanRegistrationDeleted'), 30_000, 'OrphanRegistrationDeleted');
    expect(env.idpClientsOf(created.metadata.uid).map((c) => c['client_id'])).toEqual([agent.status?.clientId]);
    // The recorded registration still works for us: later drift reads succeed.
    env.proxy.resetCount();
    await eventually(() => env.proxy.requests().filter((r) => r.method === 'GET' && r.path.startsWith('/reg/')).length >= 2, 10_000, 'drift reads');
    const after = await env.getAgent('d-orphan');
    expect(condition(after, 'Ready')?.status).toBe('True');
    expect(condition(after, 'DriftChecked')).toBeUndefined();
  });

  it('an IdP outage during the drift read keeps Ready=True and says the check failed', async () => {
    await env.createAgent('d-outage');
    await waitReady(env, 'd-outage');
    env.proxy.set({ fault: { kind: 'respond', status: 503, body: { error: 'server_error' } }, match: (r) => r.method === 'GET' && r.path.startsWith('/reg/') });
    const seen = new Set<string>();
    let driftFailed: { status: string; reason: string; message: string } | undefined;
    const until = Date.now() + 3 * RESYNC_MS + 2000;
    while (Date.now() < until) {
      const agent = await env.getAgent('d-outage');
      seen.add(`${condition(agent, 'Ready')?.status}/${condition(agent, 'Registered')?.status}`);
      driftFailed ??= condition(agent, 'DriftChecked');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect([...seen]).toEqual(['True/True']);
    expect(driftFailed).toMatchObject({ status: 'False', reason: 'IdPServerError' });
    expect(driftFailed?.message).toMatch(/reading the registration/);
    env.proxy.reset();
    await eventually(async () => condition(await env.getAgent('d-outage'), 'DriftChecked') === undefined, 20_000, 'DriftChecked cleared');
  });
});
