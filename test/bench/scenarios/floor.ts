/**
 * The floor: the same apply burst as the operator scenario, processed by the bare script
 * (`floor.ts`) at the operator's concurrency, through the same apiserver proxy, against a fresh
 * IdP. No operator runs meanwhile. Everything it created is deleted afterwards. Run twice: with
 * the finalizer patch (the ratio's floor) and without (the bare floor, reported for comparison).
 */
import type { DiscoveredProvider, IdpAdapter } from '../../../src/idp/adapter.ts';
import { createAdapter } from '../../../src/idp/registry.ts';
import { Secrets } from '../../../src/runtime/kube/types.ts';
import { HttpKubeClient } from '../../../src/runtime/kube/http.ts';
import { loadKubeConfig } from '../../../src/envtest/index.ts';
import { applyAgents, agentName, pool, ReadyTracker } from '../agents.ts';
import { seconds } from '../context.ts';
import type { BenchContext } from '../context.ts';
import { FloorRunner } from '../floor.ts';
import { deleteCollection } from '../kubeops.ts';
import { countApiReads, countApiWrites, countIdpCalls } from '../proxy.ts';
import { AgentClients, BENCH_LABEL, IDP_NAME, OPERATOR_NAMESPACE } from '../stack.ts';

export const FLOOR_NAMESPACE = 'bench-floor';
/** Not the operator's: no operator ever acts on the floor's AgentClients. */
export const FLOOR_FINALIZER = 'agentidentity.dev/bench-floor';

export interface FloorResult {
  seconds: number;
  applySeconds: number;
  concurrency: number;
  agents: number;
  apiWrites: ReturnType<typeof countApiWrites>;
  apiReads: ReturnType<typeof countApiReads>;
  /** CPU seconds of the benchmark process (floor script, embedded IdP, proxies, watches). */
  benchCpuSeconds: number;
  idpCalls: ReturnType<typeof countIdpCalls>;
  failures: string[];
}

/** `finalizer`: the floor of the ratio target (with the finalizer patch); without: the bare floor. */
export async function runFloor(ctx: BenchContext, { finalizer }: { finalizer: boolean }): Promise<FloorResult> {
  const { stack, options } = ctx;
  if (ctx.operator) throw new Error('the floor runs without the operator');
  await stack.restartIdp();
  await stack.ensureNamespace(FLOOR_NAMESPACE, { [BENCH_LABEL]: 'true' });
  const names = Array.from({ length: options.agents }, (_, i) => agentName('agent', i));
  const client = new HttpKubeClient(loadKubeConfig(stack.proxiedKubeconfigPath), { maxSockets: Math.max(64, options.concurrency * 4) });
  const adapter = createAdapter('embedded', { issuer: stack.issuer, initialAccessToken: stack.initialAccessToken, adminToken: stack.adminToken, timeoutMs: 10_000 });
  // Discovery once, before the clock starts: the operator has discovered its IdentityProvider before any AgentClient arrives too.
  const discovered = await adapter.discover();
  const tracker = new ReadyTracker(stack.client, FLOOR_NAMESPACE, names);
  try {
    return await measureFloor(ctx, tracker, names, client, adapter, discovered, finalizer);
  } finally {
    tracker.stop();
    client.close();
  }
}

async function measureFloor(
  ctx: BenchContext,
  tracker: ReadyTracker,
  names: string[],
  client: HttpKubeClient,
  adapter: IdpAdapter,
  discovered: DiscoveredProvider,
  finalizer: boolean,
): Promise<FloorResult> {
  const { stack, options } = ctx;
  await tracker.synced;
  stack.apiProxy.reset();
  stack.idpProxy.reset();

  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const deps = { client, adapter, issuer: discovered.issuer, tokenEndpoint: discovered.tokenEndpoint, ...(finalizer ? { finalizer: FLOOR_FINALIZER } : {}) };
  const runner = new FloorRunner(deps, FLOOR_NAMESPACE, options.concurrency);
  const applyMs = await applyAgents(stack.client, FLOOR_NAMESPACE, names, IDP_NAME, options.applyConcurrency, (name) => runner.push(name));
  await runner.close();
  const done = await tracker.wait(options.timeoutSeconds * 1000);
  const end = tracker.completedAt() ?? performance.now();
  const result: FloorResult = {
    seconds: seconds(end - start),
    applySeconds: seconds(applyMs),
    concurrency: options.concurrency,
    agents: names.length,
    apiWrites: countApiWrites(stack.apiProxy.requests()),
    apiReads: countApiReads(stack.apiProxy.requests()),
    benchCpuSeconds: (() => {
      const cpu = process.cpuUsage(cpuBefore);
      return Math.round((cpu.user + cpu.system) / 1e4) / 100;
    })(),
    idpCalls: countIdpCalls(stack.idpProxy.requests()),
    failures: runner.failures,
  };
  if (!done) throw new Error(`floor: not all Ready within ${options.timeoutSeconds}s: ${[...runner.failures, ...tracker.stuck()].join('; ')}`);

  // Leave nothing for the operator (or the next floor) to find: the AgentClients, both kinds of Secrets.
  if (finalizer) await releaseFinalizers(client, names, options.applyConcurrency);
  await deleteCollection(stack.controlPlane, ctx.ca, AgentClients, FLOOR_NAMESPACE);
  await deleteCollection(stack.controlPlane, ctx.ca, Secrets, FLOOR_NAMESPACE);
  await deleteCollection(stack.controlPlane, ctx.ca, Secrets, OPERATOR_NAMESPACE, 'agentidentity.dev/component=registration');
  return result;
}

/** Drops the floor's finalizer from its AgentClients so that deleting them completes. */
async function releaseFinalizers(client: HttpKubeClient, names: string[], concurrency: number): Promise<void> {
  await pool(names.length, concurrency, async (i) => {
    await client.patch(AgentClients, names[i] ?? '', FLOOR_NAMESPACE, 'merge', { metadata: { finalizers: null } });
  });
}
