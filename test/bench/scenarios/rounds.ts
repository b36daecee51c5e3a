/**
 * Extra rounds of the backlog burst, so the ratio is a median rather than one draw: on a shared
 * 2-core machine a single burst of either side moves by 20 % or more between runs. Round r applies
 * `--agents` AgentClients in a namespace of its own (selected by the `bench-allow` policy), times
 * them to Ready exactly as the first round, then deletes them and waits until the operator has
 * cleaned up (their IdP clients deleted, finalizers removed), so the later phases see the same
 * 1,000 AgentClients as with one round.
 */
import { applyAgents, agentName, ReadyTracker } from '../agents.ts';
import { seconds, sleep } from '../context.ts';
import type { BenchContext } from '../context.ts';
import { deleteCollection } from '../kubeops.ts';
import { AgentClients, BENCH_LABEL, IDP_NAME } from '../stack.ts';

export async function runExtraBurst(ctx: BenchContext, round: number): Promise<number> {
  const { stack, options } = ctx;
  const namespace = `bench-round-${round}`;
  await stack.ensureNamespace(namespace, { [BENCH_LABEL]: 'true' });
  const names = Array.from({ length: options.agents }, (_, i) => agentName('round', i));
  const tracker = new ReadyTracker(stack.client, namespace, names);
  let elapsed: number;
  try {
    await tracker.synced;
    const start = performance.now();
    await applyAgents(stack.client, namespace, names, IDP_NAME, options.applyConcurrency);
    if (!(await tracker.wait(options.timeoutSeconds * 1000))) {
      throw new Error(`round ${round}: not all ${names.length} AgentClients Ready within ${options.timeoutSeconds}s: ${tracker.stuck().join('; ')}`);
    }
    elapsed = (tracker.completedAt() ?? performance.now()) - start;
  } finally {
    tracker.stop();
  }
  await deleteCollection(stack.controlPlane, ctx.ca, AgentClients, namespace);
  const deadline = performance.now() + options.timeoutSeconds * 1000;
  while ((await stack.client.list(AgentClients, { namespace, limit: 1 })).items.length > 0) {
    if (performance.now() > deadline) throw new Error(`round ${round}: AgentClients not cleaned up within ${options.timeoutSeconds}s`);
    await sleep(500);
  }
  return seconds(elapsed);
}

/** The median of a sample (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
