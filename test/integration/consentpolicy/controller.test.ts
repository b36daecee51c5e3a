/**
 * The ConsentPolicy controller and the policy fan-out on the real control plane: status
 * (selected count, Ready reasons, observedGeneration), namespace label changes, the fan-out
 * mapping driven by real watch events through a real work queue, and the operator-created
 * GrantRevocation (create-if-absent, requester from a SelfSubjectReview).
 */
import { randomBytes } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { policyCaches } from '../../../src/controllers/consentpolicy/caches.ts';
import { ConsentPolicies } from '../../../src/controllers/consentpolicy/caches.ts';
import { consentPolicyController } from '../../../src/controllers/consentpolicy/controller.ts';
import { consentPolicyWatches } from '../../../src/controllers/consentpolicy/fanout.ts';
import { ensureRevocation, resolveOperatorIdentity } from '../../../src/controllers/consentpolicy/narrowing.ts';
import { GrantRevocations } from '../../../src/controllers/grantrevocation/types.ts';
import type { GrantRevocation } from '../../../src/controllers/grantrevocation/types.ts';
import type { ControllerDeps } from '../../../src/controllers/types.ts';
import { startOperator } from '../../../src/operator.ts';
import type { RunningOperator } from '../../../src/operator.ts';
import { HttpKubeClient } from '../../../src/runtime/kube/http.ts';
import { Namespaces } from '../../../src/runtime/kube/types.ts';
import type { KubeObject, ResourceType } from '../../../src/runtime/kube/types.ts';
import { notUndefinedOrFalse, pollUntil } from '../../support/eventually.ts';

const AgentClients: ResourceType = { group: 'agentidentity.dev', version: 'v1alpha1', plural: 'agentclients', kind: 'AgentClient', namespaced: true };
const run = `cpol-${randomBytes(3).toString('hex')}`;
const RUN_LABEL = 'agentidentity.dev/test-run';
const kc = new KubeConfig();
let client: HttpKubeClient;
let operator: RunningOperator;
const seen: string[] = [];
const nsA = `${run}-a`;
const nsB = `${run}-b`;

function eventually<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 20_000): Promise<T> {
  return pollUntil(fn, { timeoutMs, what, ready: notUndefinedOrFalse }) as Promise<T>;
}

function agent(name: string, namespace: string, labels: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'agentidentity.dev/v1alpha1',
    kind: 'AgentClient',
    metadata: { name, namespace, labels: { [RUN_LABEL]: run, ...labels } },
    spec: { identityProviderRef: { name: `${run}-idp` }, clientName: name, scopes: ['code:read'], agentMetadata: { owner: 'team' } },
  } as KubeObject;
}

function policy(name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'agentidentity.dev/v1alpha1', kind: 'ConsentPolicy', metadata: { name }, spec } as KubeObject;
}

type PolicyStatus = { selectedAgentClients?: number; observedGeneration?: number; conditions?: { type: string; status: string; reason: string; message: string }[] };
async function status(name: string): Promise<PolicyStatus & { generation?: number }> {
  const p = await client.get<KubeObject & { status?: PolicyStatus }>(ConsentPolicies, name);
  return { ...(p?.status ?? {}), ...(p?.metadata?.generation !== undefined ? { generation: p.metadata.generation } : {}) };
}
const ready = (s: PolicyStatus) => s.conditions?.find((c) => c.type === 'Ready');

beforeAll(async () => {
  kc.loadFromFile(inject('kubeconfigPath'));
  client = new HttpKubeClient(kc);
  await client.create(Namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: nsA, labels: { tenant: run } } });
  await client.create(Namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: nsB } });
  for (let i = 0; i < 3; i++) await client.create(AgentClients, agent(`a${i}`, nsA));
  await client.create(AgentClients, agent('gold', nsB, { tier: 'gold' }));
  await client.create(AgentClients, agent('iron', nsB, { tier: 'iron' }));
  // Records every AgentClient key the fan-out enqueues, through the real runtime and queue.
  const recording = (deps: ControllerDeps) => {
    const caches = policyCaches(deps.informers);
    return {
      name: 'fanout-recorder',
      primary: { type: AgentClients, predicate: () => false },
      watches: consentPolicyWatches(caches),
      reconcile: async (key: string) => {
        if (key.startsWith(`${run}-`)) seen.push(key);
      },
    };
  };
  operator = await startOperator({
    namespace: nsA,
    kubeconfigPath: inject('kubeconfigPath'),
    metricsBindAddress: '',
    healthProbeBindAddress: '',
    log: pino({ level: 'silent' }),
    shutdownDeadlineMs: 500,
    controllers: [consentPolicyController, recording],
  });
});

afterAll(async () => {
  await operator?.stop();
  for (const name of [`${run}-tenant`, `${run}-gold`, `${run}-broken`]) await client.delete(ConsentPolicies, name).catch(() => undefined);
  for (const ns of [nsA, nsB]) await client.delete(Namespaces, ns).catch(() => undefined);
  client.close();
});

describe('ConsentPolicy controller', () => {
  it('counts the AgentClients a policy selects by namespace and by label, and is Ready', async () => {
    await client.create(ConsentPolicies, policy(`${run}-tenant`, { namespaceSelector: { matchLabels: { tenant: run } }, allowedScopes: ['code:*'] }));
    await client.create(ConsentPolicies, policy(`${run}-gold`, { selector: { matchLabels: { tier: 'gold', [RUN_LABEL]: run } }, allowedScopes: ['*'] }));
    const tenant = await eventually(async () => { const s = await status(`${run}-tenant`); return s.selectedAgentClients === 3 && s; }, 'tenant count');
    expect(ready(tenant)).toMatchObject({ status: 'True', reason: 'Applied' });
    expect(tenant.observedGeneration).toBe(tenant.generation);
    const gold = await eventually(async () => { const s = await status(`${run}-gold`); return s.selectedAgentClients === 1 && s; }, 'gold count');
    expect(ready(gold)?.status).toBe('True');
  });

  it('fans a policy change out to every AgentClient selected before or after it', async () => {
    seen.length = 0;
    // Move the tenant policy from namespace A to namespace B. "After" is B's two AgentClients;
    // "before" is A's three (remembered, and read from status.policies as the AgentClient
    // controller writes it, here a0's).
    await client.patch(AgentClients, 'a0', nsA, 'merge', { status: { policies: [`${run}-tenant`] } }, { subresource: 'status' });
    await client.patch(ConsentPolicies, `${run}-tenant`, undefined, 'merge', { spec: { namespaceSelector: { matchLabels: { tenant: null, [`${run}-b`]: 'yes' } } } });
    await client.patch(Namespaces, nsB, undefined, 'merge', { metadata: { labels: { [`${run}-b`]: 'yes' } } });
    await eventually(() => ['a0', 'gold', 'iron'].every((n) => seen.some((k) => k.endsWith(`/${n}`))), 'fan-out keys');
    expect(seen).toContain(`${nsA}/a0`);
    expect(seen).toContain(`${nsB}/gold`);
    expect(seen).toContain(`${nsB}/iron`);
    // a1 and a2 were selected before the change too (remembered from the previous change).
    expect(seen).toContain(`${nsA}/a1`);
    const tenant = await eventually(async () => { const s = await status(`${run}-tenant`); return s.selectedAgentClients === 2 && s; }, 'count after namespace relabel');
    expect(tenant.observedGeneration).toBe(2);
  });

  it('reports an invalid selector as InvalidSelector and fans out to the AgentClients it may select', async () => {
    seen.length = 0;
    await client.create(ConsentPolicies, policy(`${run}-broken`, { namespaceSelector: { matchLabels: { tenant: run } }, selector: { matchLabels: { 'bad key!': 'x' } }, allowedScopes: [] }));
    const broken = await eventually(async () => { const s = await status(`${run}-broken`); return ready(s)?.reason === 'InvalidSelector' && s; }, 'InvalidSelector');
    expect(ready(broken)).toMatchObject({ status: 'False' });
    expect(ready(broken)?.message).toContain('spec.selector: matchLabels: invalid label key "bad key!"');
    await eventually(() => ['a0', 'a1', 'a2'].every((n) => seen.includes(`${nsA}/${n}`)), 'fan-out to possibly selected');
    expect(seen.some((k) => k.startsWith(nsB))).toBe(false);
  });

  it('creates an operator GrantRevocation once, stamped with the operator identity', async () => {
    const me = await resolveOperatorIdentity(client);
    expect(me).toBeTruthy();
    const grev: GrantRevocation = {
      apiVersion: 'agentidentity.dev/v1alpha1',
      kind: 'GrantRevocation',
      metadata: { name: 'a1-narrowed-0123456789', namespace: nsA, annotations: { 'agentidentity.dev/requested-by': me ?? '' } },
      spec: { target: { agentClientName: 'a1' }, actions: ['RevokeGrants'], scopes: ['code:write'], reason: 'PolicyNarrowed: test' },
    };
    expect(await ensureRevocation(client, grev)).toBe('created');
    expect(await ensureRevocation(client, grev)).toBe('exists');
    const stored = await client.get<GrantRevocation>(GrantRevocations, grev.metadata.name, nsA);
    expect(stored?.metadata.annotations?.['agentidentity.dev/requested-by']).toBe(me);
  });
});
