/**
 * A whole stack of real parts for end-to-end tests: a control plane of its own (so the operator
 * can run unscoped, exactly as in production, without meeting other test files' objects), the
 * CRDs, a real embedded IdP, and the operator started in-process under a kubeconfig of the test's
 * choosing, with every log line captured.
 */
import { Writable } from 'node:stream';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { applyCrds, startControlPlane } from '../../src/envtest/index.ts';
import type { ControlPlane } from '../../src/envtest/index.ts';
import { startEmbeddedIdp } from '../../src/idp/embedded/server.ts';
import type { EmbeddedIdp } from '../../src/idp/embedded/server.ts';
import { startOperator } from '../../src/operator.ts';
import type { OperatorOptions, RunningOperator } from '../../src/operator.ts';
import type { KubeClient } from '../../src/runtime/kube/client.ts';
import { HttpKubeClient } from '../../src/runtime/kube/http.ts';
import type { ResourceType } from '../../src/runtime/kube/types.ts';
import { pollUntil } from './eventually.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const kind = (plural: string, kindName: string, namespaced: boolean): ResourceType => ({ group: 'agentidentity.dev', version: 'v1alpha1', plural, kind: kindName, namespaced });
export const IdentityProviders = kind('identityproviders', 'IdentityProvider', false);
export const AgentClients = kind('agentclients', 'AgentClient', true);
export const ConsentPolicies = kind('consentpolicies', 'ConsentPolicy', false);
export const GrantRevocations = kind('grantrevocations', 'GrantRevocation', true);

/** What the tests read from objects: conditions and a few status fields. */
export interface Observed {
  metadata: { name: string; namespace?: string; uid: string; generation?: number; annotations?: Record<string, string> };
  status?: {
    observedGeneration?: number;
    phase?: string;
    clientId?: string;
    grantedScopes?: string[];
    conditions?: { type: string; status: string; reason: string; message: string }[];
    [field: string]: unknown;
  };
}

export interface Stack {
  cp: ControlPlane;
  idp: EmbeddedIdp;
  /** Admin (system:masters) client. */
  admin: KubeClient;
  /** Every line the operator logged (JSON). */
  logs: string[];
  /** `kubectl apply --server-side -f -` as admin; rejects on failure. */
  apply(manifest: string): Promise<void>;
  startOperator(kubeConfig: KubeConfig, namespace: string, options?: Partial<OperatorOptions>): Promise<RunningOperator>;
  stop(): Promise<void>;
}

export interface StackOptions {
  apiserverArgs?: string[];
  /** Embedded IdP accounts (default alice/wonderland). */
  idpLogLevel?: string;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const cp = await startControlPlane(options.apiserverArgs ? { apiserverArgs: options.apiserverArgs } : {});
  const operators: RunningOperator[] = [];
  let idp: EmbeddedIdp | undefined;
  let admin: HttpKubeClient | undefined;
  try {
    await applyCrds(cp.kubeConfig, path.join(ROOT, 'crds'));
    idp = await startEmbeddedIdp({ logger: pino({ level: options.idpLogLevel ?? 'silent' }) });
    admin = new HttpKubeClient(cp.kubeConfig);
  } catch (error) {
    await idp?.stop();
    await cp.stop();
    throw error;
  }
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const adminClient = admin;
  const theIdp = idp;
  return {
    cp,
    idp: theIdp,
    admin: adminClient,
    logs,
    async apply(manifest) {
      await cp.kubectl(['apply', '--server-side', '--field-manager=e2e-admin', '-f', '-'], { input: manifest });
    },
    async startOperator(kubeConfig, namespace, extra = {}) {
      const operator = await startOperator({
        kubeConfig,
        namespace,
        metricsBindAddress: '127.0.0.1:0',
        healthProbeBindAddress: '127.0.0.1:0',
        log: pino({ level: 'debug', base: { component: 'agent-identity-operator' } }, sink),
        shutdownDeadlineMs: 1000,
        ...extra,
      });
      operators.push(operator);
      return operator;
    },
    async stop() {
      for (const operator of operators.splice(0)) await operator.stop().catch(() => undefined);
      adminClient.close();
      await theIdp.stop().catch(() => undefined);
      await cp.stop();
    },
  };
}

/** Polls until `check` returns a value (not undefined/null/false) or the deadline passes. */
export function eventually<T>(what: string, check: () => Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  return pollUntil(check, { timeoutMs, what }) as Promise<T>;
}

/**
 * The `embedded` IdentityProvider pointing at the stack's IdP, with its credentials Secret in the
 * operator namespace (YAML for {@link Stack.apply}).
 */
export function embeddedIdentityProviderYaml(idp: EmbeddedIdp, operatorNamespace: string): string {
  return `
apiVersion: v1
kind: Secret
metadata: {name: embedded-idp, namespace: ${operatorNamespace}}
stringData: {token: ${JSON.stringify(idp.initialAccessToken)}, admin: ${JSON.stringify(idp.adminToken)}}
---
apiVersion: agentidentity.dev/v1alpha1
kind: IdentityProvider
metadata: {name: embedded}
spec:
  type: embedded
  issuer: ${idp.issuer}
  registration: {initialAccessTokenSecretRef: {name: embedded-idp}}
  admin: {tokenSecretRef: {name: embedded-idp, key: admin}}`;
}

export function conditionOf(obj: Observed | null | undefined, type: string) {
  return obj?.status?.conditions?.find((c) => c.type === type);
}

/** Waits for condition `type` = True, observed at the object's current generation. */
export async function waitForCondition(client: KubeClient, type: ResourceType, name: string, namespace: string | undefined, condition = 'Ready', timeoutMs = 30_000): Promise<Observed> {
  let seen: Observed | null = null;
  try {
    return await eventually(`${type.kind} ${name} ${condition}`, async () => {
      const obj = (seen = await client.get<Observed>(type, name, namespace));
      const current = obj?.status?.observedGeneration === undefined || obj.status.observedGeneration === obj.metadata.generation;
      return conditionOf(obj, condition)?.status === 'True' && current ? obj : undefined;
    }, timeoutMs);
  } catch (error) {
    throw new Error(`${(error as Error).message}; last status: ${JSON.stringify((seen as Observed | null)?.status ?? null)}`);
  }
}

/** Waits until a GrantRevocation reports phase Completed (throws early on Failed). */
export async function waitForRevocation(client: KubeClient, name: string, namespace: string, timeoutMs = 30_000): Promise<Observed> {
  let seen: Observed | null = null;
  try {
    return await eventually(`GrantRevocation ${name} Completed`, async () => {
      seen = await client.get<Observed>(GrantRevocations, name, namespace);
      return seen?.status?.phase === 'Completed' ? seen : undefined;
    }, timeoutMs);
  } catch (error) {
    // The last status says which action is stuck, and why.
    throw new Error(`${(error as Error).message}; last status: ${JSON.stringify((seen as Observed | null)?.status ?? null)}`);
  }
}

/** Log lines that show the API server refusing the operator (RBAC). */
export function forbiddenLines(logs: string[]): string[] {
  return logs.filter((line) => /forbidden|"status":403|\b403\b/i.test(line));
}
