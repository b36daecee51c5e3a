import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { IdentityProvider } from '../../../src/api/v1alpha1/index.ts';
import { IdentityProviders, identityProviderController } from '../../../src/controllers/identityprovider/controller.ts';
import { startEmbeddedIdp } from '../../../src/idp/embedded/server.ts';
import type { EmbeddedIdp } from '../../../src/idp/embedded/server.ts';
import { freePort } from '../../../src/envtest/process.ts';
import { countingClient, excludingLeases } from '../../../src/runtime/kube/counting.ts';
import type { WriteCounter, WriteRecord } from '../../../src/runtime/kube/counting.ts';
import type { KubeClient } from '../../../src/runtime/kube/client.ts';
import { CoreEvents, Secrets } from '../../../src/runtime/kube/types.ts';
import type { KubeObject } from '../../../src/runtime/kube/types.ts';
import { startOperator } from '../../../src/operator.ts';
import type { RunningOperator } from '../../../src/operator.ts';
import { createNamespace, eventually, log, realClient, sleep } from '../runtime/env.ts';

const admin = realClient();
const suffix = randomBytes(3).toString('hex');
let ns: string;
let idp: EmbeddedIdp;
let operator: RunningOperator;
let counter: KubeClient & WriteCounter;

const secret = (name: string, data: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: ns },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
});

const provider = (name: string, issuer: string, secretName: string): IdentityProvider => ({
  apiVersion: 'agentidentity.dev/v1alpha1',
  kind: 'IdentityProvider',
  // Labelled for this file's operator only: other files' operators share the API server.
  metadata: { name, labels: { 'agentidentity.dev/test-run': suffix } },
  spec: {
    type: 'embedded',
    issuer,
    registration: { initialAccessTokenSecretRef: { name: secretName } },
    admin: { tokenSecretRef: { name: secretName, key: 'admin' } },
    requestTimeoutSeconds: 2,
  },
});

const ready = (name: string) => async () => {
  const obj = await admin.get<IdentityProvider>(IdentityProviders, name);
  return obj?.status?.conditions?.find((c) => c.type === 'Ready');
};

beforeAll(async () => {
  void inject('kubeconfigPath');
  ns = await createNamespace(admin, 'idp-op');
  idp = await startEmbeddedIdp({ logger: log });
  operator = await startOperator({
    namespace: ns,
    kubeconfigPath: inject('kubeconfigPath'),
    wrapClient: (c) => (counter = countingClient(c)),
    controllers: [identityProviderController],
    identityProviderSelector: `agentidentity.dev/test-run=${suffix}`,
    metricsBindAddress: '127.0.0.1:0',
    healthProbeBindAddress: '127.0.0.1:0',
    log,
  });
});

afterAll(async () => {
  await operator?.stop();
  for (const name of [`ok-${suffix}`, `late-${suffix}`, `down-${suffix}`]) await admin.delete(IdentityProviders, name);
  await idp?.stop();
  admin.close();
});

describe('IdentityProvider controller against the embedded IdP', () => {
  it('discovers endpoints and capabilities and becomes Ready; serves probes and metrics', async () => {
    await admin.create(Secrets, secret(`creds-${suffix}`, { token: idp.initialAccessToken, admin: idp.adminToken }));
    await admin.create(IdentityProviders, provider(`ok-${suffix}`, idp.issuer, `creds-${suffix}`));
    const cond = await eventually(async () => (await ready(`ok-${suffix}`)())?.status === 'True' && ready(`ok-${suffix}`)(), 20_000, 'Ready');
    expect(cond).toMatchObject({ reason: 'Discovered', observedGeneration: 1 });
    const obj = (await admin.get<IdentityProvider>(IdentityProviders, `ok-${suffix}`))!;
    expect(obj.status).toMatchObject({
      observedGeneration: 1,
      endpoints: { issuer: idp.issuer },
      capabilities: { registration: true, management: true },
    });
    expect(obj.status?.endpoints?.registrationEndpoint?.startsWith(idp.issuer)).toBe(true);
    expect(JSON.stringify(obj.status)).not.toContain(idp.initialAccessToken);
    const state = operator.providers.get(`ok-${suffix}`);
    expect(state.ready).toBe(true);
    expect(state.discovered?.issuer).toBe(idp.issuer);

    expect((await fetch(`${operator.healthUrl}/readyz`)).status).toBe(200);
    expect((await fetch(`${operator.healthUrl}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`${operator.metricsUrl}/metrics`)).text();
    expect(metrics).toContain('agentidentity_reconcile_total{controller="identityprovider",result="requeue"}');
    expect(metrics).toMatch(/agentidentity_idp_request_duration_seconds_count\{idp="ok-[0-9a-f]+",operation="discover",status="ok"\} 1/);
    expect(metrics).toContain('agentidentity_workqueue_depth{controller="identityprovider",lane="priority"} 0');
    expect(metrics).toMatch(/^agentidentity_events_pending \d+$/m);
  });

  it('reports CredentialsMissing until the Secret exists, then becomes Ready without a restart', async () => {
    await admin.create(IdentityProviders, provider(`late-${suffix}`, idp.issuer, `late-${suffix}`));
    const missing = await eventually(ready(`late-${suffix}`), 20_000, 'a condition');
    expect(missing).toMatchObject({ status: 'False', reason: 'CredentialsMissing' });
    expect(missing.message).toContain(`Secret ${ns}/late-${suffix} not found`);
    // kstatus: waiting for a person is Stalled, not Reconciling.
    const stalledObj = (await admin.get<IdentityProvider>(IdentityProviders, `late-${suffix}`))!;
    expect(stalledObj.status?.conditions?.find((c) => c.type === 'Stalled')).toMatchObject({ status: 'True', reason: 'CredentialsMissing' });
    expect(stalledObj.status?.conditions?.find((c) => c.type === 'Reconciling')).toBeUndefined();
    await admin.create(Secrets, secret(`late-${suffix}`, { token: idp.initialAccessToken, admin: idp.adminToken }));
    await eventually(async () => (await ready(`late-${suffix}`)())?.status === 'True', 20_000, 'Ready after the Secret');
    // Events about cluster-scoped objects live in `default` (the API server's rule); recorded after the status write.
    const listEvents = async () =>
      (await admin.list<KubeObject & { reason?: string; message?: string }>(CoreEvents, { namespace: 'default' })).items.filter((e) =>
        JSON.stringify(e).includes(suffix),
      );
    await eventually(async () => (await listEvents()).some((e) => e.reason === 'Discovered' && JSON.stringify(e).includes(`late-${suffix}`)), 10_000, 'Events');
    const events = await listEvents();
    expect(events.map((e) => e.reason)).toEqual(expect.arrayContaining(['CredentialsMissing', 'Discovered']));
    for (const e of events) expect(e.message).not.toContain(idp.adminToken);
  });

  it('reports DiscoveryFailed for an unreachable IdP and backs off instead of hot-looping', async () => {
    const port = await freePort();
    await admin.create(Secrets, secret(`down-${suffix}`, { token: 't', admin: 'a' }));
    await admin.create(IdentityProviders, provider(`down-${suffix}`, `http://127.0.0.1:${port}`, `down-${suffix}`));
    const failed = await eventually(ready(`down-${suffix}`), 20_000, 'a condition');
    expect(failed).toMatchObject({ status: 'False', reason: 'DiscoveryFailed' });
    const retrying = (await admin.get<IdentityProvider>(IdentityProviders, `down-${suffix}`))!;
    expect(retrying.status?.conditions?.find((c) => c.type === 'Reconciling')).toMatchObject({ status: 'True', reason: 'DiscoveryFailed' });
    const errors = () => operator.metrics.reconcileTotal.get().then((m) => m.values.find((v) => v.labels.result === 'error')?.value ?? 0);
    const before = await errors();
    await sleep(3000);
    const during = (await errors()) - before;
    // Exponential backoff: a handful of attempts in 3 s, not hundreds.
    expect(during).toBeLessThan(12);
    expect(operator.providers.get(`down-${suffix}`)).toMatchObject({ ready: false, reason: 'DiscoveryFailed' });
    await admin.delete(IdentityProviders, `down-${suffix}`);
  });

  it('makes zero API writes and zero IdP calls when idle, and rediscovers on a Secret change', async () => {
    await operator.manager.idle();
    await sleep(500);
    counter.reset();
    const calls = idp.callCount();
    await sleep(4000);
    // The control plane is shared: other test files create IdentityProviders (cluster-scoped) that
    // this operator reconciles too; the claim is about this file's objects.
    const ours = (w: WriteRecord): boolean => excludingLeases(w) && !!w.name?.includes(suffix);
    expect(counter.writes.filter(ours)).toEqual([]);
    expect(idp.callCount()).toBe(calls);

    // A key nobody references: the fingerprint is unchanged, so no IdP call.
    await admin.patch(Secrets, `creds-${suffix}`, ns, 'merge', { data: { unrelated: Buffer.from('x').toString('base64') } });
    await sleep(1500);
    expect(idp.callCount()).toBe(calls);
    expect(counter.writes.filter(ours)).toEqual([]);
    // A referenced value changed: rediscover with the new credentials.
    await admin.patch(Secrets, `creds-${suffix}`, ns, 'merge', { data: { admin: Buffer.from('rotated-admin-token').toString('base64') } });
    await eventually(() => idp.callCount() > calls, 10_000, 'rediscovery after a Secret change');
    expect(operator.providers.get(`ok-${suffix}`).ready).toBe(true);
  });
});
