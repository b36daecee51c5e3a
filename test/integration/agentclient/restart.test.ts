/**
 * An operator restart is invisible to Ready agents: no Ready=False blip while the
 * IdentityProvider is rediscovered, no status write, no IdP registration call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecretObject } from '../../../src/runtime/kube/types.ts';
import { condition, createEnv, waitReady } from './harness.ts';
import type { Env } from './harness.ts';

let env: Env;

beforeAll(async () => {
  env = await createEnv('agc-restart');
  await env.startOperator();
});

afterAll(async () => {
  await env?.teardown();
});

describe('operator restart', () => {
  it('keeps Ready agents Ready, writes nothing and calls no registration endpoint', async () => {
    await env.createAgent('steady');
    await env.createAgent('steady-2', { scopes: ['reports:read'] });
    await waitReady(env, 'steady');
    const before = await waitReady(env, 'steady-2');
    await env.stopOperator();
    env.proxy.resetCount();
    const seen = new Set<string>();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        for (const name of ['steady', 'steady-2']) {
          const ready = condition(await env.getAgent(name), 'Ready');
          seen.add(`${ready?.status}/${ready?.reason}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    const operator = await env.startOperator();
    await new Promise((resolve) => setTimeout(resolve, 5000));
    polling = false;
    await poller;
    expect([...seen]).toEqual(['True/Ready']);
    expect(operator.writes.count((w) => w.resource.includes('agentclients'))).toBe(0);
    expect(env.proxy.requests().filter((r) => r.path.startsWith('/reg'))).toEqual([]);
    expect((await env.getAgent('steady-2'))?.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  });

  it('caches registration records without their credentials (they are always read directly)', async () => {
    const agent = await waitReady(env, 'steady');
    const owned = env.operator!.manager.informers.all().find((i) => i.type.plural === 'secrets' && i.list().some((s) => s.metadata?.namespace === env.namespace));
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- the informer list type does not resolve without it
    const cached = owned?.list() as SecretObject[] | undefined;
    const record = cached?.find((s) => s.metadata?.name === `agc-${agent.metadata.uid}`);
    expect(record?.metadata?.annotations?.['agentidentity.dev/agentclient']).toBe(`${env.namespace}/steady`);
    expect(record?.data).toBeUndefined();
    expect(cached?.find((s) => s.metadata?.name === 'steady-oauth')?.data?.['client_id']).toBeTruthy();
  });
});
