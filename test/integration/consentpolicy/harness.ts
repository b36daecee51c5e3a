/**
 * One ConsentPolicy test environment: the shared real control plane, a real embedded IdP, an
 * IdentityProvider for it, a tenant namespace labelled for this run, and the whole operator
 * in-process (IdentityProvider, AgentClient, ConsentPolicy and GrantRevocation controllers),
 * restricted to this run's AgentClients and namespace so files can share the API server.
 * ConsentPolicies are cluster-scoped, so every policy here selects this run's namespace only.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { inject } from 'vitest';
import { parse } from 'yaml';
import { createAgentClientController } from '../../../src/controllers/agentclient/controller.ts';
import { createRunIdentityProvider } from '../agentclient/harness.ts';
import type { AgentClient, AgentClientSpec } from '../../../src/controllers/agentclient/types.ts';
import { ConsentPolicies, policySpec } from '../../../src/controllers/consentpolicy/caches.ts';
import { consentPolicyController } from '../../../src/controllers/consentpolicy/controller.ts';
import { grantRevocationControllerFactory } from '../../../src/controllers/grantrevocation/factory.ts';
import { GrantRevocations } from '../../../src/controllers/grantrevocation/types.ts';
import type { GrantRevocation } from '../../../src/controllers/grantrevocation/types.ts';
import { identityProviderController } from '../../../src/controllers/identityprovider/controller.ts';
import { startEmbeddedIdp } from '../../../src/idp/embedded/server.ts';
import type { EmbeddedIdp } from '../../../src/idp/embedded/server.ts';
import { startOperator } from '../../../src/operator.ts';
import type { RunningOperator } from '../../../src/operator.ts';
import type { KubeClient } from '../../../src/runtime/kube/client.ts';
import { HttpKubeClient } from '../../../src/runtime/kube/http.ts';
import { Namespaces, Secrets } from '../../../src/runtime/kube/types.ts';
import type { KubeObject, ResourceType, SecretObject } from '../../../src/runtime/kube/types.ts';
import { TEST_ACCOUNTS } from '../idp/env.ts';
import { notUndefinedOrFalse, pollUntil } from '../../support/eventually.ts';

export const RUN_LABEL = 'agentidentity.dev/test-run';
export const TENANT_LABEL = 'agentidentity.dev/tenant';
const AgentClients: ResourceType = { group: 'agentidentity.dev', version: 'v1alpha1', plural: 'agentclients', kind: 'AgentClient', namespaced: true };
const IdentityProviders: ResourceType = { group: 'agentidentity.dev', version: 'v1alpha1', plural: 'identityproviders', kind: 'IdentityProvider', namespaced: false };

type Cond = { type: string; status: string; reason: string; message: string };

export interface PolicyEnv {
  runId: string;
  client: KubeClient;
  idp: EmbeddedIdp;
  namespace: string;
  idpName: string;
  operator: RunningOperator;
  /** The sample ConsentPolicy (config/samples), renamed for this run and selecting its namespace. */
  samplePolicy(name: string): Promise<KubeObject & { spec: Record<string, unknown> }>;
  applyPolicy(policy: KubeObject): Promise<void>;
  /** Resolves the patched object's generation (see {@link PolicyEnv.quiesce}). */
  patchPolicy(name: string, patch: unknown): Promise<number>;
  /**
   * Waits until the operator has seen and handled everything: its caches hold the given
   * ConsentPolicy generations (or later: the operator's own status writes move the
   * resourceVersion) and the AgentClients' current resourceVersions (so every event they cause
   * is queued), then every queue is idle; repeated until no AgentClient moved meanwhile. An
   * assertion that nothing happened is then about what the operator did, not about timing.
   */
  quiesce(agents: string[], policies?: Record<string, number>): Promise<void>;
  createAgent(name: string, spec: Partial<AgentClientSpec>, labels?: Record<string, string>): Promise<void>;
  getAgent(name: string): Promise<AgentClient | null>;
  patchAgent(name: string, patch: unknown): Promise<void>;
  secret(name: string): Promise<SecretObject | null>;
  revocations(): Promise<GrantRevocation[]>;
  teardown(): Promise<void>;
}

export function condition(obj: { status?: { conditions?: Cond[] } } | null | undefined, type: string): Cond | undefined {
  return obj?.status?.conditions?.find((c) => c.type === type);
}

/** Polls until `check` returns a value (not undefined/false) or the deadline passes. */
export function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 30_000): Promise<T> {
  return pollUntil(check, { timeoutMs, what, ready: notUndefinedOrFalse }) as Promise<T>;
}

export async function createPolicyEnv(prefix: string, options: { allowNoPolicy?: boolean } = {}): Promise<PolicyEnv> {
  const runId = `${prefix}-${randomBytes(3).toString('hex')}`;
  const kubeconfigPath = inject('kubeconfigPath');
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const http = new HttpKubeClient(kc);
  const client: KubeClient = http;
  const idp = await startEmbeddedIdp({ logger: pino({ level: 'silent' }), accounts: TEST_ACCOUNTS });
  const operatorNamespace = `${runId}-op`;
  const namespace = `${runId}-agents`;
  const idpName = `${runId}-idp`;
  await client.create(Namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: operatorNamespace } });
  await client.create(Namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { [TENANT_LABEL]: runId } } });
  await createRunIdentityProvider(client, { runId, name: idpName, operatorNamespace, idp, issuer: idp.issuer, requestTimeoutSeconds: 5 });
  const operator = await startOperator({
    namespace: operatorNamespace,
    kubeconfigPath,
    identityProviderSelector: `agentidentity.dev/test-run=${runId}`,
    metricsBindAddress: '',
    healthProbeBindAddress: '',
    log: pino({ level: process.env['POLICY_TEST_LOG'] ?? 'silent' }),
    shutdownDeadlineMs: 500,
    allowNoPolicy: options.allowNoPolicy ?? false,
    controllers: [
      identityProviderController,
      (deps) =>
        createAgentClientController({
          client: deps.client, informers: deps.informers, providers: deps.providers, recorder: deps.recorder,
          log: deps.log, clock: deps.clock, operatorNamespace, clusterName: 'itest',
          selector: `${RUN_LABEL}=${runId}`, allowNoPolicy: deps.settings.allowNoPolicy,
        }),
      consentPolicyController,
      grantRevocationControllerFactory({ namespace }),
    ],
  });
  const policies = new Set<string>();

  return {
    runId, client, idp, namespace, idpName, operator,
    async samplePolicy(name) {
      const sample = parse(await readFile(new URL('../../../config/samples/consentpolicy.yaml', import.meta.url), 'utf8')) as KubeObject & { spec: Record<string, unknown> };
      return { ...sample, metadata: { name }, spec: { ...sample.spec, namespaceSelector: { matchLabels: { [TENANT_LABEL]: runId } } } };
    },
    async applyPolicy(policy) {
      policies.add(policy.metadata?.name ?? '');
      await client.create(ConsentPolicies, policy);
    },
    async patchPolicy(name, patch) {
      const patched = await client.patch(ConsentPolicies, name, undefined, 'merge', patch);
      return patched.metadata?.generation ?? 0;
    },
    async quiesce(agents, policies = {}) {
      const policyCache = operator.manager.informers.get(policySpec);
      const agentCache = operator.manager.informers.get({ type: AgentClients, labelSelector: `${RUN_LABEL}=${runId}` });
      await eventually(() => Object.entries(policies).every(([n, generation]) => (policyCache.get(n)?.metadata?.generation ?? 0) >= generation), 'policy cache');
      const versions = async (): Promise<string> =>
        JSON.stringify(await Promise.all(agents.map(async (n) => (await client.get<AgentClient>(AgentClients, n, namespace))?.metadata.resourceVersion ?? '')));
      const cached = (): string => JSON.stringify(agents.map((n) => agentCache.get(n, namespace)?.metadata?.resourceVersion ?? ''));
      for (let round = 0; round < 20; round++) {
        // Read again on every poll: the operator may write while we wait.
        const before = await eventually(async () => {
          const current = await versions();
          return cached() === current ? current : undefined;
        }, 'AgentClient cache');
        await operator.manager.idle();
        if ((await versions()) === before) return;
      }
      throw new Error('the operator kept changing the AgentClients');
    },
    async createAgent(name, spec, labels = {}) {
      await client.create(AgentClients, {
        apiVersion: 'agentidentity.dev/v1alpha1', kind: 'AgentClient',
        metadata: { name, namespace, labels: { [RUN_LABEL]: runId, ...labels } },
        spec: { identityProviderRef: { name: idpName }, clientName: name, agentMetadata: { owner: 'team-platform' }, ...spec },
      } as KubeObject);
    },
    getAgent: (name) => client.get<AgentClient>(AgentClients, name, namespace),
    async patchAgent(name, patch) {
      await client.patch(AgentClients, name, namespace, 'merge', patch);
    },
    secret: (name) => client.get<SecretObject>(Secrets, name, namespace),
    async revocations() {
      return (await client.list<GrantRevocation & KubeObject>(GrantRevocations, { namespace })).items;
    },
    async teardown() {
      await operator.stop().catch(() => undefined);
      const list = await client.list<AgentClient>(AgentClients, { namespace }).catch(() => ({ items: [] as AgentClient[] }));
      for (const agent of list.items) {
        await client.patch(AgentClients, agent.metadata.name, namespace, 'merge', { metadata: { finalizers: null } }).catch(() => undefined);
      }
      const grevs = await client.list<GrantRevocation & KubeObject>(GrantRevocations, { namespace }).catch(() => ({ items: [] as GrantRevocation[] }));
      for (const g of grevs.items) {
        await client.patch(GrantRevocations, g.metadata.name, namespace, 'merge', { metadata: { finalizers: null } }).catch(() => undefined);
      }
      for (const name of policies) await client.delete(ConsentPolicies, name).catch(() => undefined);
      for (const ns of [namespace, operatorNamespace]) await client.delete(Namespaces, ns).catch(() => undefined);
      await client.delete(IdentityProviders, idpName).catch(() => undefined);
      await idp.stop();
      http.close();
    },
  };
}
