/**
 * Helpers for the plugin's integration tests: run the real plugin as a child process against the
 * real control plane, and play the operator's part by writing status through the status
 * subresource (the operator itself is not running in these tests; names say "simulated").
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import type { AgentClient, GrantRevocation } from '../../../src/cli/api.ts';
import { pollUntil } from '../../support/eventually.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const entry = path.join(root, 'src', 'cli', 'kubectl-agentid.ts');
const G = { group: 'agentidentity.dev', version: 'v1alpha1' } as const;

export interface PluginResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface PluginRun {
  /** Settles when the process exits. */
  result: Promise<PluginResult>;
  /** What the process has written to stderr so far (to see progress while it still runs). */
  stderr(): string;
}

/** Starts `kubectl agentid ARGS...` as kubectl would: a child process with KUBECONFIG set. */
export function startPlugin(kubeconfig: string, args: string[], env: Record<string, string> = {}): PluginRun {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: kubeconfig };
  delete childEnv['NO_COLOR'];
  delete childEnv['FORCE_COLOR'];
  Object.assign(childEnv, env);
  const child = spawn(process.execPath, ['--no-warnings', entry, ...args], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const result = new Promise<PluginResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { result, stderr: () => stderr };
}

/** Runs the plugin to completion. */
export function runPlugin(kubeconfig: string, args: string[], env: Record<string, string> = {}): Promise<PluginResult> {
  return startPlugin(kubeconfig, args, env).result;
}

export class Cluster {
  readonly kc: KubeConfig;
  readonly custom: CustomObjectsApi;

  constructor(kc: KubeConfig) {
    this.kc = kc;
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  async namespace(name: string): Promise<void> {
    await this.kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  }

  /** An AgentClient with a minimal valid spec. */
  async createAgent(namespace: string, name: string, scopes = ['reports:read']): Promise<AgentClient> {
    return (await this.custom.createNamespacedCustomObject({
      ...G,
      plural: 'agentclients',
      namespace,
      body: {
        apiVersion: 'agentidentity.dev/v1alpha1',
        kind: 'AgentClient',
        metadata: { name, namespace },
        spec: { identityProviderRef: { name: 'embedded' }, clientName: name, scopes, agentMetadata: { owner: 'team' } },
      },
    })) as AgentClient;
  }

  async getAgent(namespace: string, name: string): Promise<AgentClient> {
    return (await this.custom.getNamespacedCustomObject({ ...G, plural: 'agentclients', namespace, name })) as AgentClient;
  }

  /** Simulates the operator: merge-patches AgentClient status through the status subresource. */
  async writeAgentStatus(namespace: string, name: string, status: NonNullable<AgentClient['status']>): Promise<AgentClient> {
    return (await this.custom.patchNamespacedCustomObjectStatus(
      { ...G, plural: 'agentclients', namespace, name, body: { status } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as AgentClient;
  }

  async createRevocation(namespace: string, name: string, spec: GrantRevocation['spec'], finalizers?: string[]): Promise<GrantRevocation> {
    return (await this.custom.createNamespacedCustomObject({
      ...G,
      plural: 'grantrevocations',
      namespace,
      body: {
        apiVersion: 'agentidentity.dev/v1alpha1',
        kind: 'GrantRevocation',
        metadata: { name, namespace, ...(finalizers ? { finalizers } : {}) },
        spec,
      },
    })) as GrantRevocation;
  }

  async getRevocation(namespace: string, name: string): Promise<GrantRevocation | undefined> {
    try {
      return (await this.custom.getNamespacedCustomObject({ ...G, plural: 'grantrevocations', namespace, name })) as GrantRevocation;
    } catch (error) {
      if ((error as { code?: number }).code === 404) return undefined;
      throw error;
    }
  }

  async listRevocations(namespace: string): Promise<GrantRevocation[]> {
    const list = (await this.custom.listNamespacedCustomObject({ ...G, plural: 'grantrevocations', namespace })) as { items: GrantRevocation[] };
    return list.items;
  }

  /** Simulates the operator: writes GrantRevocation status through the status subresource. */
  async writeRevocationStatus(namespace: string, name: string, status: NonNullable<GrantRevocation['status']>): Promise<GrantRevocation> {
    return (await this.custom.patchNamespacedCustomObjectStatus(
      { ...G, plural: 'grantrevocations', namespace, name, body: { status } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as GrantRevocation;
  }

  async removeFinalizers(namespace: string, plural: 'grantrevocations' | 'agentclients', name: string): Promise<void> {
    await this.custom.patchNamespacedCustomObject(
      { ...G, plural, namespace, name, body: { metadata: { finalizers: null } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }
}

/** Resolves with the first value `probe` returns that is not undefined, polling every 50 ms (a throwing probe fails at once). */
export function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  return pollUntil(probe, { timeoutMs, intervalMs: 50, ready: (v) => v !== undefined, retryErrors: false }) as Promise<T>;
}

export const condition = (type: string, status: 'True' | 'False' | 'Unknown', reason: string, message = reason) => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: new Date().toISOString(),
});
