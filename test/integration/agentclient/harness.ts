/**
 * One AgentClient test environment: the shared real control plane, a real embedded IdP behind a
 * fault proxy at its issuer address, an IdentityProvider for it, and the operator run in-process
 * (restartable, with crash hooks) restricted by label to this file's AgentClients. Every log line
 * the operator writes is captured so tests can prove no credential ever reaches one.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import { importJWK } from 'jose';
import type { JWK } from 'jose';
import { pino } from 'pino';
import { inject } from 'vitest';
import { resolveAssets, runKubectl } from '../../../src/envtest/index.ts';
import { identityProviderController } from '../../../src/controllers/identityprovider/controller.ts';
import { AgentClients, createAgentClientController } from '../../../src/controllers/agentclient/controller.ts';
import type { SyncHooks } from '../../../src/controllers/agentclient/state.ts';
import { startEmbeddedIdp } from '../../../src/idp/embedded/server.ts';
import type { EmbeddedIdp } from '../../../src/idp/embedded/server.ts';
import { startOperator } from '../../../src/operator.ts';
import type { RunningOperator } from '../../../src/operator.ts';
import type { KubeClient } from '../../../src/runtime/kube/client.ts';
import { countingClient } from '../../../src/runtime/kube/counting.ts';
import type { WriteCounter } from '../../../src/runtime/kube/counting.ts';
import { HttpKubeClient } from '../../../src/runtime/kube/http.ts';
import { Namespaces, Secrets } from '../../../src/runtime/kube/types.ts';
import type { KubeObject, SecretObject } from '../../../src/runtime/kube/types.ts';
import { startFaultProxy } from '../../../src/testing/faultproxy.ts';
import type { FaultProxy } from '../../../src/testing/faultproxy.ts';
import type { AgentClient, AgentClientSpec } from '../../../src/controllers/agentclient/types.ts';
import { pollUntil } from '../../support/eventually.ts';

export const RUN_LABEL = 'agentidentity.dev/test-run';
const IdentityProvidersType = { group: 'agentidentity.dev', version: 'v1alpha1', plural: 'identityproviders', kind: 'IdentityProvider', namespaced: false };

export interface OperatorOptions {
  hooks?: SyncHooks;
  registrationResyncMs?: number;
}

export interface Env {
  runId: string;
  kubeconfigPath: string;
  client: KubeClient;
  idp: EmbeddedIdp;
  proxy: FaultProxy;
  operatorNamespace: string;
  namespace: string;
  idpName: string;
  /** Every line the operator(s) logged. */
  logs: string[];
  operator: (RunningOperator & { writes: WriteCounter }) | undefined;
  startOperator(options?: OperatorOptions): Promise<RunningOperator & { writes: WriteCounter }>;
  stopOperator(): Promise<void>;
  createAgent(name: string, spec?: Partial<AgentClientSpec>, meta?: { annotations?: Record<string, string> }): Promise<AgentClient>;
  getAgent(name: string): Promise<AgentClient | null>;
  patchAgent(name: string, patch: unknown): Promise<void>;
  secret(name: string): Promise<SecretObject | null>;
  kubectl(args: string[]): Promise<{ stdout: string; stderr: string; code: number | null }>;
  /** IdP clients whose software_id names this AgentClient uid. */
  idpClientsOf(uid: string): Record<string, unknown>[];
  teardown(): Promise<void>;
}

/** Polls until `check` returns a value (not undefined/null/false) or the deadline passes. */
export function eventually<T>(check: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  return pollUntil(check, { timeoutMs, what }) as Promise<T>;
}

export function condition(agent: AgentClient | null, type: string): { status: string; reason: string; message: string } | undefined {
  return agent?.status?.conditions?.find((c) => c.type === type);
}

export const decode = (secret: SecretObject | null, key: string): string | undefined => {
  const raw = secret?.data?.[key];
  return raw === undefined ? undefined : Buffer.from(raw, 'base64').toString('utf8');
};

/**
 * An `embedded` IdentityProvider for one test run, with its credentials Secret (`idp-credentials`,
 * keys `iat` and `admin`) in the run's operator namespace. Labelled with the run id: every test
 * file's operator selects only its own (they share one API server).
 */
export async function createRunIdentityProvider(
  client: KubeClient,
  run: { runId: string; name: string; operatorNamespace: string; idp: EmbeddedIdp; issuer: string; requestTimeoutSeconds: number },
): Promise<void> {
  await client.create<SecretObject>(Secrets, {
    apiVersion: 'v1', kind: 'Secret', metadata: { name: 'idp-credentials', namespace: run.operatorNamespace },
    data: { iat: Buffer.from(run.idp.initialAccessToken).toString('base64'), admin: Buffer.from(run.idp.adminToken).toString('base64') },
  });
  await client.create(IdentityProvidersType, {
    apiVersion: 'agentidentity.dev/v1alpha1', kind: 'IdentityProvider', metadata: { name: run.name, labels: { 'agentidentity.dev/test-run': run.runId } },
    spec: {
      type: 'embedded', issuer: run.issuer, requestTimeoutSeconds: run.requestTimeoutSeconds,
      registration: { initialAccessTokenSecretRef: { name: 'idp-credentials', key: 'iat' } },
      admin: { tokenSecretRef: { name: 'idp-credentials', key: 'admin' } },
    },
  } as KubeObject);
}

export async function createEnv(prefix: string): Promise<Env> {
  const runId = `${prefix}-${randomBytes(3).toString('hex')}`;
  const kubeconfigPath = inject('kubeconfigPath');
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const http = new HttpKubeClient(kc);
  const client: KubeClient = http;
  const proxy = await startFaultProxy();
  const idp = await startEmbeddedIdp({ issuer: proxy.url, logger: pino({ level: 'silent' }) });
  proxy.setTarget(idp.url);
  const operatorNamespace = `${runId}-op`;
  const namespace = `${runId}-agents`;
  const idpName = `${runId}-idp`;
  for (const ns of [operatorNamespace, namespace]) await client.create(Namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  await createRunIdentityProvider(client, { runId, name: idpName, operatorNamespace, idp, issuer: proxy.url, requestTimeoutSeconds: 2 });

  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const assets = await resolveAssets();

  const env: Env = {
    runId, kubeconfigPath, client, idp, proxy, operatorNamespace, namespace, idpName, logs, operator: undefined,
    async startOperator(options = {}) {
      let writes: (KubeClient & WriteCounter) | undefined;
      const log = pino({ level: 'debug' }, sink);
      const operator = await startOperator({
        namespace: operatorNamespace,
        kubeconfigPath,
        identityProviderSelector: `agentidentity.dev/test-run=${runId}`,
        metricsBindAddress: '',
        healthProbeBindAddress: '',
        log,
        shutdownDeadlineMs: 500,
        wrapClient: (inner) => (writes = countingClient(inner)),
        controllers: [
          identityProviderController,
          (deps) =>
            createAgentClientController({
              client: deps.client, informers: deps.informers, providers: deps.providers, recorder: deps.recorder,
              log: deps.log, clock: deps.clock, operatorNamespace, clusterName: 'itest',
              selector: `${RUN_LABEL}=${runId}`,
              identityProviderSelector: `agentidentity.dev/test-run=${runId}`,
              // These tests are about registration, not ConsentPolicy (test/integration/consentpolicy):
              // with no policy selecting them, their agents hold the requested scopes.
              allowNoPolicy: true,
              ...(options.hooks ? { hooks: options.hooks } : {}),
              ...(options.registrationResyncMs ? { registrationResyncMs: options.registrationResyncMs } : {}),
            }),
        ],
      });
      env.operator = Object.assign(operator, { writes: writes! });
      return env.operator;
    },
    async stopOperator() {
      const operator = env.operator;
      env.operator = undefined;
      await operator?.stop();
    },
    async createAgent(name, spec = {}, meta = {}) {
      return client.create<AgentClient>(AgentClients, {
        apiVersion: 'agentidentity.dev/v1alpha1', kind: 'AgentClient',
        metadata: { name, namespace, uid: '', labels: { [RUN_LABEL]: runId }, ...(meta.annotations ? { annotations: meta.annotations } : {}) },
        spec: {
          identityProviderRef: { name: idpName }, clientName: `Agent ${name}`, scopes: ['invoices:read'],
          agentMetadata: { owner: 'team-a@example.test', agentType: 'assistant', capabilityVersion: '1.0.0' },
          ...spec,
        },
      });
    },
    getAgent: (name) => client.get<AgentClient>(AgentClients, name, namespace),
    async patchAgent(name, patch) {
      await client.patch(AgentClients, name, namespace, 'merge', patch);
    },
    secret: (name) => client.get<SecretObject>(Secrets, name, namespace),
    kubectl: (args) => runKubectl(assets.kubectl, kubeconfigPath, args, { allowFailure: true }),
    idpClientsOf: (uid) => idp.store.clients().filter((c) => typeof c['software_id'] === 'string' && (c['software_id']).endsWith(`/${uid}`)),
    async teardown() {
      await env.stopOperator().catch(() => undefined);
      // Let nothing block the namespaces' deletion: drop our finalizers first.
      const list = await client.list<AgentClient>(AgentClients, { namespace }).catch(() => ({ items: [] as AgentClient[] }));
      for (const agent of list.items) {
        await client.patch(AgentClients, agent.metadata.name, namespace, 'merge', { metadata: { finalizers: null } }).catch(() => undefined);
      }
      for (const ns of [namespace, operatorNamespace]) await client.delete(Namespaces, ns).catch(() => undefined);
      await client.delete(IdentityProvidersType, idpName).catch(() => undefined);
      await proxy.close();
      await idp.stop();
      http.close();
    },
  };
  return env;
}

/** Waits until the AgentClient reports Ready=True for its current generation. */
export async function waitReady(env: Env, name: string, timeoutMs = 30_000): Promise<AgentClient> {
  return eventually(async () => {
    const agent = await env.getAgent(name);
    const ready = condition(agent, 'Ready');
    return ready?.status === 'True' && agent?.status?.observedGeneration === agent?.metadata.generation ? agent! : undefined;
  }, timeoutMs, `${name} Ready`);
}

/** What an agent knows: only its Secret. Builds openid-client auth from it (private_key_jwt). */
export async function agentAuth(secret: SecretObject | null) {
  const jwk = JSON.parse(decode(secret, 'private_key.jwk') ?? '{}') as JWK;
  const key = await importJWK(jwk, jwk.kty === 'OKP' ? 'Ed25519' : jwk.alg!);
  if (key instanceof Uint8Array) throw new Error('not an asymmetric key');
  return {
    issuer: decode(secret, 'issuer')!,
    clientId: decode(secret, 'client_id')!,
    auth: { key: { alg: jwk.alg as 'ES256', kid: decode(secret, 'key_id')!, privateKey: key, publicJwk: {}, privateJwk: jwk } },
  };
}
