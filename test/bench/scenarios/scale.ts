/**
 * Scenario 5: operator RSS with `--scale` AgentClients in total. The ones beyond the Ready
 * backlog reference an IdentityProvider that is never Ready (its issuer refuses connections), so
 * the operator lists, watches, caches and reconciles every one of them (each ends with a
 * `Ready=False` condition written by the operator) but registers none: no registration Secret and
 * no agent Secret exist for them. What is measured: the operator process's VmRSS, peak while it
 * works through them, and settled (after its queues drained and `--settle-seconds` passed).
 */
import { applyAgents, agentName } from '../agents.ts';
import type { AgentObject } from '../agents.ts';
import { seconds, sleep } from '../context.ts';
import type { BenchContext } from '../context.ts';
import { countApiWrites } from '../proxy.ts';
import { sumMetric } from '../operator-process.ts';
import { toMiB } from '../rss.ts';
import { AgentClients, BENCH_LABEL, PARKED_IDP_NAME } from '../stack.ts';
import { watchObjects } from '../watch.ts';
import { waitDrained } from './quiet.ts';

export const SCALE_NAMESPACE = 'bench-scale';

export interface ScaleResult {
  totalAgentClients: number;
  parkedAgentClients: number;
  measured: string;
  applySeconds: number;
  /** Until every parked AgentClient carries a Ready condition (False) written by the operator. */
  processedSeconds: number;
  apiWrites: ReturnType<typeof countApiWrites>;
  rssPeakMiB: number;
  rssSettledMiB: number;
  /** From the operator's /metrics once settled: V8 heap used and total, memory outside the heap. */
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
  /** Events the operator dropped because its background queue was full (a burst of 9,000). */
  eventsDropped: number;
}

export async function runScale(ctx: BenchContext, existing: number): Promise<ScaleResult | { notMeasured: string }> {
  const { stack, options } = ctx;
  const operator = ctx.operator;
  if (!operator) throw new Error('scale: no operator running');
  const parked = options.scale - existing;
  if (parked <= 0) return { notMeasured: `--scale ${options.scale} is not above the ${existing} AgentClients already present` };
  await stack.ensureNamespace(SCALE_NAMESPACE, { [BENCH_LABEL]: 'true' });
  const names = Array.from({ length: parked }, (_, i) => agentName('parked', i));
  const expected = new Set(names);
  const processed = new Set<string>();
  let allProcessed: () => void = () => undefined;
  const processedPromise = new Promise<void>((resolve) => (allProcessed = resolve));
  const watch = watchObjects<AgentObject>(stack.client, AgentClients, SCALE_NAMESPACE, (kind, obj) => {
    const name = obj.metadata?.name ?? '';
    if (kind !== 'upsert' || !expected.has(name) || processed.has(name)) return;
    if (obj.status?.conditions?.some((c) => c.type === 'Ready')) {
      processed.add(name);
      if (processed.size === expected.size) allProcessed();
    }
  });
  await watch.synced;
  stack.apiProxy.reset();
  ctx.rss?.mark();
  const start = performance.now();
  const applyMs = await applyAgents(stack.client, SCALE_NAMESPACE, names, PARKED_IDP_NAME, options.applyConcurrency);
  const timeout = sleep(options.timeoutSeconds * 1000).then(() => false);
  const finished = await Promise.race([processedPromise.then(() => true), timeout]);
  const processedAt = performance.now();
  watch.stop();
  if (!finished) throw new Error(`scale: only ${processed.size}/${parked} parked AgentClients got a Ready condition within ${options.timeoutSeconds}s`);
  await waitDrained(operator, { timeoutMs: 300_000 });
  await sleep(options.settleSeconds * 1000);
  const rss = ctx.rss?.window();
  const samples = await operator.metrics();
  return {
    totalAgentClients: existing + parked,
    parkedAgentClients: parked,
    measured:
      `${existing} AgentClients Ready (registered, 2 Secrets each) + ${parked} referencing IdentityProvider ` +
      `${PARKED_IDP_NAME} that is not Ready: cached and reconciled to Ready=False, never registered (no Secrets)`,
    applySeconds: seconds(applyMs),
    processedSeconds: seconds(processedAt - start),
    apiWrites: countApiWrites(stack.apiProxy.requests()),
    rssPeakMiB: toMiB(rss?.peakBytes ?? 0),
    rssSettledMiB: toMiB(rss?.currentBytes ?? 0),
    heapUsedMiB: toMiB(sumMetric(samples, 'nodejs_heap_size_used_bytes')),
    heapTotalMiB: toMiB(sumMetric(samples, 'nodejs_heap_size_total_bytes')),
    externalMiB: toMiB(sumMetric(samples, 'nodejs_external_memory_bytes')),
    eventsDropped: sumMetric(samples, 'agentidentity_events_dropped_total'),
  };
}
