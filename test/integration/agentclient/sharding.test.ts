/**
 * Sharding by `--identity-provider-selector`: an AgentClient whose IdentityProvider exists but is
 * not selected by this operator belongs to another operator. It is left alone (no status, no IdP
 * call) and not rechecked on a timer; once its IdentityProvider comes to match the selector, it is
 * registered at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdentityProviders } from '../../../src/controllers/identityprovider/controller.ts';
import type { KubeObject } from '../../../src/runtime/kube/types.ts';
import { condition, createEnv, waitReady } from './harness.ts';
import type { Env } from './harness.ts';

let env: Env;
let foreignIdp: string;

beforeAll(async () => {
  env = await createEnv('agc-shard');
  foreignIdp = `${env.idpName}-other-shard`;
  // The same IdP, but not labelled for this run: another operator's IdentityProvider.
  await env.client.create(IdentityProviders, {
    apiVersion: 'agentidentity.dev/v1alpha1', kind: 'IdentityProvider', metadata: { name: foreignIdp },
    spec: {
      type: 'embedded', issuer: env.proxy.url, requestTimeoutSeconds: 2,
      registration: { initialAccessTokenSecretRef: { name: 'idp-credentials', key: 'iat' } },
      admin: { tokenSecretRef: { name: 'idp-credentials', key: 'admin' } },
    },
  } as KubeObject);
  await env.startOperator();
});

afterAll(async () => {
  await env?.client.delete(IdentityProviders, foreignIdp).catch(() => undefined);
  await env?.teardown();
});

async function delayedKeys(): Promise<number> {
  const metrics = await env.operator!.metrics.registry.getMetricsAsJSON();
  const depth = metrics.find((m) => m.name === 'agentidentity_workqueue_depth');
  const values = (depth?.values ?? []) as { labels: Record<string, string | number>; value: number }[];
  return values.find((v) => v.labels['controller'] === 'agentclient' && v.labels['lane'] === 'delayed')?.value ?? -1;
}

describe('AgentClient of another shard', () => {
  it('is left alone without a recheck timer, and registered once its IdentityProvider is selected', async () => {
    const agent = await env.createAgent('elsewhere', { identityProviderRef: { name: foreignIdp } });
    // Give the operator time to see it (a reconcile runs within milliseconds of the event).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const untouched = await env.getAgent('elsewhere');
    expect(untouched?.status).toBeUndefined();
    expect(untouched?.metadata.finalizers ?? []).toEqual([]);
    expect(env.idpClientsOf(agent.metadata.uid)).toHaveLength(0);
    expect(await delayedKeys()).toBe(0);

    await env.client.patch(IdentityProviders, foreignIdp, undefined, 'merge', { metadata: { labels: { 'agentidentity.dev/test-run': env.runId } } });
    const ready = await waitReady(env, 'elsewhere', 30_000);
    expect(condition(ready, 'Registered')?.status).toBe('True');
    expect(env.idpClientsOf(agent.metadata.uid)).toHaveLength(1);
  });
});
