/**
 * Scenario 1 (1,000 AgentClients applied at once, time until all Ready with Secrets) with
 * scenario 2 (GrantRevocations applied while that backlog is being worked) running inside it.
 * The operator starts against a fresh IdP; one agent is registered before the burst as the
 * revocation target.
 */
import { applyAgents, agentName, ReadyTracker } from '../agents.ts';
import { seconds, startOperatorProcess } from '../context.ts';
import type { BenchContext } from '../context.ts';
import { countApiReads, countApiWrites, countIdpCalls } from '../proxy.ts';
import { sumMetric } from '../operator-process.ts';
import { readCpuSeconds, toMiB } from '../rss.ts';
import { AGENTS_POLICY_LABEL, BENCH_LABEL, IDP_NAME } from '../stack.ts';
import { runRevocations } from './revocation.ts';
import type { RevocationResult } from './revocation.ts';

export const AGENTS_NAMESPACE = 'bench-agents';
export const REVOKE_NAMESPACE = 'bench-revoke';

export interface BacklogResult {
  operatorStartSeconds: number;
  seconds: number;
  applySeconds: number;
  agents: number;
  apiWrites: ReturnType<typeof countApiWrites>;
  apiReads: ReturnType<typeof countApiReads>;
  /** CPU seconds the operator process used during the burst (user + system). */
  operatorCpuSeconds: number;
  /** CPU seconds of the benchmark process (embedded IdP, proxies, watches) during the burst. */
  benchCpuSeconds: number;
  /** AgentClient reconciles during the burst, per AgentClient (the operator's own count). */
  reconcilesPerAgent: number;
  idpCalls: ReturnType<typeof countIdpCalls>;
  rssPeakMiB: number;
  revocation: RevocationResult | { notMeasured: string };
}

export async function runBacklog(ctx: BenchContext): Promise<BacklogResult> {
  const { stack, options } = ctx;
  await stack.restartIdp();
  // Selected by the `bench-agents` ConsentPolicy alone (the policy-change scenario narrows it).
  await stack.ensureNamespace(AGENTS_NAMESPACE, { [AGENTS_POLICY_LABEL]: 'agents' });
  await stack.ensureNamespace(REVOKE_NAMESPACE, { [BENCH_LABEL]: 'true' });
  const operator = await startOperatorProcess(ctx);
  const operatorStartSeconds = seconds((await operator.waitReady(60_000)) - operator.startedAt);

  // The revocation target, Ready before the burst.
  const targetTracker = new ReadyTracker(stack.client, REVOKE_NAMESPACE, ['revoke-target']);
  let targetClientId: string;
  try {
    await targetTracker.synced;
    await applyAgents(stack.client, REVOKE_NAMESPACE, ['revoke-target'], IDP_NAME, 1);
    if (!(await targetTracker.wait(60_000))) throw new Error(`revocation target not Ready within 60 s: ${targetTracker.stuck().join('; ')}`);
    targetClientId = targetTracker.clientId('revoke-target') ?? '';
  } finally {
    targetTracker.stop();
  }

  const names = Array.from({ length: options.agents }, (_, i) => agentName('agent', i));
  const tracker = new ReadyTracker(stack.client, AGENTS_NAMESPACE, names);
  try {
    return await burst(ctx, tracker, names, targetClientId, operatorStartSeconds);
  } finally {
    tracker.stop();
  }
}

async function burst(ctx: BenchContext, tracker: ReadyTracker, names: string[], targetClientId: string, operatorStartSeconds: number): Promise<BacklogResult> {
  const { stack, options } = ctx;
  await tracker.synced;
  stack.apiProxy.reset();
  stack.idpProxy.reset();
  ctx.rss?.mark();
  const pid = ctx.operator?.pid ?? 0;
  const cpuBefore = readCpuSeconds(pid) ?? 0;
  const benchCpuBefore = process.cpuUsage();
  const reconciles = async (): Promise<number> => (ctx.operator ? sumMetric(await ctx.operator.metrics(), 'agentidentity_reconcile_total', { controller: 'agentclient' }) : 0);
  const reconcilesBefore = await reconciles();

  const start = performance.now();
  let created = 0;
  let startRevocations: () => void = () => undefined;
  const backlogExists = new Promise<void>((resolve) => (startRevocations = resolve));
  const revocationStartAfter = Math.min(50, Math.ceil(options.agents / 10));
  const revocation: Promise<BacklogResult['revocation']> =
    options.revocationRuns > 0
      ? backlogExists.then(() => runRevocations(ctx, REVOKE_NAMESPACE, { name: 'revoke-target', clientId: targetClientId }, tracker))
      : Promise.resolve({ notMeasured: '--revocation-runs 0' });
  const applyMs = await applyAgents(stack.client, AGENTS_NAMESPACE, names, IDP_NAME, options.applyConcurrency, () => {
    created += 1;
    if (created === revocationStartAfter) startRevocations();
  });
  const done = await tracker.wait(options.timeoutSeconds * 1000);
  const end = tracker.completedAt() ?? performance.now();
  // Writes and calls of the burst alone (the revocations' own are in there too; they are few).
  const apiWrites = countApiWrites(stack.apiProxy.requests());
  const apiReads = countApiReads(stack.apiProxy.requests());
  const operatorCpuSeconds = Math.round(((readCpuSeconds(pid) ?? 0) - cpuBefore) * 100) / 100;
  const benchCpu = process.cpuUsage(benchCpuBefore);
  const benchCpuSeconds = Math.round((benchCpu.user + benchCpu.system) / 1e4) / 100;
  const idpCalls = countIdpCalls(stack.idpProxy.requests());
  const reconcilesPerAgent = Math.round(((await reconciles()) - reconcilesBefore) / names.length * 100) / 100;
  const revocationResult = await revocation;
  if (!done) throw new Error(`operator: not all ${names.length} AgentClients Ready within ${options.timeoutSeconds}s (${tracker.pending()} pending): ${tracker.stuck().join('; ')}`);
  return {
    operatorStartSeconds,
    seconds: seconds(end - start),
    applySeconds: seconds(applyMs),
    agents: names.length,
    apiWrites,
    apiReads,
    operatorCpuSeconds,
    benchCpuSeconds,
    reconcilesPerAgent,
    idpCalls,
    rssPeakMiB: toMiB(ctx.rss?.window().peakBytes ?? 0),
    revocation: revocationResult,
  };
}
