/**
 * What the benchmark runs against, all on loopback: a real kube-apiserver + etcd with the CRDs,
 * the embedded IdP, and two counting proxies (one in front of the apiserver, serving TLS with the
 * apiserver's own certificate, one at the IdP's issuer address). The operator and the floor
 * script both talk to the proxies; the benchmark itself talks to the apiserver directly, so its
 * own writes (applying AgentClients) are never counted as the operator's.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { API_VERSION } from '../../src/api/v1alpha1/index.ts';
import { applyCrds, startControlPlane, writeKubeconfig } from '../../src/envtest/index.ts';
import type { ControlPlane } from '../../src/envtest/index.ts';
import { startEmbeddedIdp } from '../../src/idp/embedded/server.ts';
import type { EmbeddedIdp } from '../../src/idp/embedded/server.ts';
import { HttpKubeClient } from '../../src/runtime/kube/http.ts';
import { isAlreadyExists, isConflict } from '../../src/runtime/kube/errors.ts';
import { Namespaces, Secrets } from '../../src/runtime/kube/types.ts';
import type { KubeObject, ResourceType } from '../../src/runtime/kube/types.ts';
import { startCountingProxy } from './proxy.ts';
import { setWatchTarget } from './watch.ts';
import type { CountingProxy } from './proxy.ts';

export const OPERATOR_NAMESPACE = 'agent-identity-system';
export const IDP_NAME = 'bench-idp';
/** An IdentityProvider that never becomes Ready (nothing listens at its issuer). */
export const PARKED_IDP_NAME = 'bench-idp-parked';
export const BENCH_LABEL = 'agentidentity.dev/bench';
/** What every bench agent requests: several scopes of one tier, so a policy can drop one (scenarios/policy.ts). */
export const SCOPES = ['reports:export', 'reports:list', 'reports:read'] as const;
/** The scope the ConsentPolicy change scenario drops. */
export const DROPPED_SCOPE = 'reports:export';
/** The ConsentPolicy that alone selects the backlog's namespace (scenarios/policy.ts narrows it). */
export const AGENTS_POLICY = 'bench-agents';
/** Namespace label `AGENTS_POLICY` selects (that namespace does not carry BENCH_LABEL). */
export const AGENTS_POLICY_LABEL = 'agentidentity.dev/bench-policy';
const IAT_SECRET = 'bench-idp-initial-access-token';
const ADMIN_SECRET = 'bench-idp-admin-token';

export const AgentClients: ResourceType = { group: 'agentidentity.dev', version: 'v1alpha1', plural: 'agentclients', kind: 'AgentClient', namespaced: true };
export const IdentityProviders: ResourceType = { group: 'agentidentity.dev', version: 'v1alpha1', plural: 'identityproviders', kind: 'IdentityProvider', namespaced: false };
export const ConsentPolicies: ResourceType = { group: 'agentidentity.dev', version: 'v1alpha1', plural: 'consentpolicies', kind: 'ConsentPolicy', namespaced: false };
export const GrantRevocations: ResourceType = { group: 'agentidentity.dev', version: 'v1alpha1', plural: 'grantrevocations', kind: 'GrantRevocation', namespaced: true };

export interface BenchStack {
  controlPlane: ControlPlane;
  /** Direct to the apiserver (admin): the benchmark's own reads and writes. */
  client: HttpKubeClient;
  /** Counts what the operator (or the floor script) sends to the apiserver. */
  apiProxy: CountingProxy;
  /** At the IdP's issuer address: counts every IdP call. */
  idpProxy: CountingProxy;
  /** Admin kubeconfig pointing at `apiProxy` (given to the operator). */
  proxiedKubeconfigPath: string;
  issuer: string;
  idp(): EmbeddedIdp;
  initialAccessToken: string;
  adminToken: string;
  /** A fresh, empty IdP behind the same issuer (same tokens), so each phase starts equal. */
  restartIdp(): Promise<void>;
  ensureNamespace(name: string, labels?: Record<string, string>): Promise<void>;
  stop(): Promise<void>;
}

export async function startBenchStack(log: Logger, dir: string): Promise<BenchStack> {
  const undo: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    for (const step of undo.reverse()) await step().catch((error: unknown) => log.warn({ err: String(error) }, 'bench: stop step failed'));
    undo.length = 0;
  };
  try {
    const controlPlane = await startControlPlane({ logger: log });
    undo.push(() => controlPlane.stop());
    await applyCrds(controlPlane.kubeConfig, 'crds');
    const client = new HttpKubeClient(controlPlane.kubeConfig, { maxSockets: 64 });
    undo.push(async () => client.close());

    const certs = path.join(controlPlane.dir, 'certs');
    const ca = await readFile(path.join(certs, 'apiserver.crt'), 'utf8');
    setWatchTarget({ server: controlPlane.server, ca, token: controlPlane.adminToken });
    const apiProxy = await startCountingProxy({
      target: controlPlane.server,
      targetCa: ca,
      // The apiserver's own serving certificate (valid for 127.0.0.1): the operator pays TLS as it would in a cluster.
      tls: { cert: ca, key: await readFile(path.join(certs, 'apiserver.key'), 'utf8') },
    });
    undo.push(() => apiProxy.close());
    const proxiedKubeconfigPath = path.join(dir, 'operator.kubeconfig');
    await writeKubeconfig(proxiedKubeconfigPath, { server: apiProxy.url, caPem: ca, user: 'admin', token: controlPlane.adminToken });

    const initialAccessToken = randomBytes(32).toString('base64url');
    const adminToken = randomBytes(32).toString('base64url');
    const idpProxy = await startCountingProxy({ target: 'http://127.0.0.1:1' });
    undo.push(() => idpProxy.close());
    const idpLog = log.child({ component: 'embedded-idp' });
    const launchIdp = () => startEmbeddedIdp({ issuer: idpProxy.url, initialAccessToken, adminToken, logger: idpLog });
    let idp = await launchIdp();
    idpProxy.setTarget(idp.url);
    undo.push(() => idp.stop());

    const stack: BenchStack = {
      controlPlane,
      client,
      apiProxy,
      idpProxy,
      proxiedKubeconfigPath,
      issuer: idp.issuer,
      idp: () => idp,
      initialAccessToken,
      adminToken,
      async restartIdp() {
        await idp.stop();
        idp = await launchIdp();
        idpProxy.setTarget(idp.url);
      },
      async ensureNamespace(name, labels) {
        await createIfAbsent(client, Namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...(labels ? { labels } : {}) } });
      },
      stop,
    };
    await installIdentityProviders(stack);
    return stack;
  } catch (error) {
    await stop();
    throw error;
  }
}

async function createIfAbsent(client: HttpKubeClient, type: ResourceType, obj: KubeObject): Promise<void> {
  try {
    await client.create(type, obj);
  } catch (error) {
    if (!isAlreadyExists(error) && !isConflict(error)) throw error;
  }
}

/**
 * The IdP's token Secrets, the Ready IdentityProvider, a parked one, and the ConsentPolicies:
 * `bench-allow` for the namespaces labelled BENCH_LABEL, `bench-agents` for the backlog's
 * namespace only, so narrowing it affects exactly the backlog's AgentClients.
 */
async function installIdentityProviders(stack: BenchStack): Promise<void> {
  const { client } = stack;
  await stack.ensureNamespace(OPERATOR_NAMESPACE);
  for (const [name, token] of [[IAT_SECRET, stack.initialAccessToken], [ADMIN_SECRET, stack.adminToken]] as const) {
    await createIfAbsent(client, Secrets, {
      apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: OPERATOR_NAMESPACE }, type: 'Opaque', stringData: { token },
    } as KubeObject);
  }
  const spec = (issuer: string) => ({
    type: 'embedded',
    issuer,
    registration: { initialAccessTokenSecretRef: { name: IAT_SECRET } },
    admin: { tokenSecretRef: { name: ADMIN_SECRET } },
    requestTimeoutSeconds: 10,
  });
  await createIfAbsent(client, IdentityProviders, { apiVersion: API_VERSION, kind: 'IdentityProvider', metadata: { name: IDP_NAME }, spec: spec(stack.issuer) } as KubeObject);
  // Port 9 (discard) on loopback: connection refused, so discovery fails and it stays not Ready.
  await createIfAbsent(client, IdentityProviders, {
    apiVersion: API_VERSION, kind: 'IdentityProvider', metadata: { name: PARKED_IDP_NAME }, spec: { ...spec('http://127.0.0.1:9'), requestTimeoutSeconds: 1 },
  } as KubeObject);
  // No matching policy means nothing is allowed (secure by default): allow the scopes agents ask
  // for. The operator runs without --allow-no-policy, so every registration goes through a policy.
  for (const [name, selector] of [['bench-allow', { [BENCH_LABEL]: 'true' }], [AGENTS_POLICY, { [AGENTS_POLICY_LABEL]: 'agents' }]] as const) {
    await createIfAbsent(client, ConsentPolicies, {
      apiVersion: API_VERSION,
      kind: 'ConsentPolicy',
      metadata: { name },
      spec: { namespaceSelector: { matchLabels: selector }, allowedScopes: [...SCOPES], scopeClasses: [{ pattern: 'reports:*', access: 'read' }] },
    } as KubeObject);
  }
}
