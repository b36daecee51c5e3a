/**
 * The benchmark's AgentClients: what one looks like, applying many at once with a bounded
 * number of requests in flight, and tracking (by watch) when each is Ready with its Secret.
 */
import { API_VERSION } from '../../src/api/v1alpha1/index.ts';
import type { KubeClient } from '../../src/runtime/kube/client.ts';
import { Secrets } from '../../src/runtime/kube/types.ts';
import type { Condition, KubeObject, SecretObject } from '../../src/runtime/kube/types.ts';
import { AgentClients, SCOPES } from './stack.ts';
import { watchObjects } from './watch.ts';
import type { ObjectWatch } from './watch.ts';

export interface AgentObject extends KubeObject {
  spec: Record<string, unknown>;
  status?: { observedGeneration?: number; clientId?: string; conditions?: Condition[] };
}

export const agentName = (prefix: string, i: number): string => `${prefix}-${String(i).padStart(5, '0')}`;

/** A machine-to-machine agent (client_credentials, private_key_jwt with ES256: the defaults). */
export function agentManifest(namespace: string, name: string, idpName: string): AgentObject {
  return {
    apiVersion: API_VERSION,
    kind: 'AgentClient',
    metadata: { name, namespace, labels: { 'app.kubernetes.io/name': name } },
    spec: {
      identityProviderRef: { name: idpName },
      clientName: `Bench agent ${name}`,
      grantTypes: ['client_credentials'],
      scopes: [...SCOPES],
      agentMetadata: { owner: 'team-bench', agentType: 'reporting', capabilityVersion: '1.0.0' },
    },
  };
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` running at once. */
export async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/** Creates `names` in `namespace`; calls `created(name)` as each POST returns. Returns the burst duration. */
export async function applyAgents(
  client: KubeClient,
  namespace: string,
  names: readonly string[],
  idpName: string,
  concurrency: number,
  created?: (name: string) => void,
): Promise<number> {
  const start = performance.now();
  await pool(names.length, concurrency, async (i) => {
    const name = names[i] as string;
    await client.create(AgentClients, agentManifest(namespace, name, idpName));
    created?.(name);
  });
  return performance.now() - start;
}

export function isReady(agent: AgentObject): boolean {
  const ready = agent.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True' || !agent.status?.clientId) return false;
  const generation = agent.metadata?.generation;
  return ready.observedGeneration === undefined || generation === undefined || ready.observedGeneration === generation;
}

/**
 * Watches AgentClients and Secrets of one namespace and records, per expected name, when it was
 * first seen Ready and when its agent Secret (`<name>-oauth`, carrying client_id) was first seen.
 */
export class ReadyTracker {
  readonly #expected: Set<string>;
  readonly #readyAt = new Map<string, number>();
  readonly #secretAt = new Map<string, number>();
  readonly #clientIds = new Map<string, string>();
  readonly #watches: ObjectWatch[];
  readonly #waiters: Array<() => void> = [];
  /** Last observed Ready condition of a not-ready agent (why it is stuck, when it is). */
  readonly #lastReason = new Map<string, string>();
  errors: string[] = [];

  constructor(client: KubeClient, namespace: string, expected: Iterable<string>) {
    this.#expected = new Set(expected);
    const onError = (error: unknown) => {
      if (this.errors.length < 20) this.errors.push(String(error));
    };
    this.#watches = [
      watchObjects<AgentObject>(client, AgentClients, namespace, (kind, obj) => kind === 'upsert' && this.#onAgent(obj), onError),
      watchObjects<SecretObject>(client, Secrets, namespace, (kind, obj) => kind === 'upsert' && this.#onSecret(obj), onError),
    ];
  }

  get synced(): Promise<void> {
    return Promise.all(this.#watches.map((w) => w.synced)).then(() => undefined);
  }

  #onAgent(agent: AgentObject): void {
    const name = agent.metadata?.name ?? '';
    if (!this.#expected.has(name)) return;
    if (isReady(agent)) {
      if (!this.#readyAt.has(name)) this.#readyAt.set(name, performance.now());
      this.#clientIds.set(name, agent.status?.clientId ?? '');
    } else {
      const ready = agent.status?.conditions?.find((c) => c.type === 'Ready');
      if (ready) this.#lastReason.set(name, `${ready.status}/${ready.reason}: ${ready.message}`);
    }
    this.#check();
  }

  #onSecret(secret: SecretObject): void {
    const name = secret.metadata?.name ?? '';
    if (!name.endsWith('-oauth') || !secret.data?.['client_id']) return;
    const agent = name.slice(0, -'-oauth'.length);
    if (this.#expected.has(agent) && !this.#secretAt.has(agent)) this.#secretAt.set(agent, performance.now());
    this.#check();
  }

  #check(): void {
    if (!this.done()) return;
    for (const resolve of this.#waiters.splice(0)) resolve();
  }

  done(): boolean {
    return this.#readyAt.size === this.#expected.size && this.#secretAt.size === this.#expected.size;
  }

  /** Names not yet Ready with their Secret. */
  pending(): number {
    let n = 0;
    for (const name of this.#expected) if (!this.#readyAt.has(name) || !this.#secretAt.has(name)) n += 1;
    return n;
  }

  clientId(name: string): string | undefined {
    return this.#clientIds.get(name);
  }

  /** When the last agent became complete (Ready and Secret), or undefined. */
  completedAt(): number | undefined {
    if (!this.done()) return undefined;
    let last = 0;
    for (const name of this.#expected) last = Math.max(last, this.#readyAt.get(name) ?? 0, this.#secretAt.get(name) ?? 0);
    return last;
  }

  /** Resolves true once done, false on timeout. */
  wait(timeoutMs: number): Promise<boolean> {
    if (this.done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** A few stuck agents and why (for a report when the wait timed out). */
  stuck(limit = 5): string[] {
    const out: string[] = [];
    for (const name of this.#expected) {
      if (this.#readyAt.has(name) && this.#secretAt.has(name)) continue;
      out.push(`${name}: ready=${this.#readyAt.has(name)} secret=${this.#secretAt.has(name)} ${this.#lastReason.get(name) ?? 'no Ready condition yet'}`);
      if (out.length >= limit) break;
    }
    return out;
  }

  stop(): void {
    for (const w of this.#watches) w.stop();
  }
}
