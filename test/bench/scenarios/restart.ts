/**
 * Scenario 4: a real process restart (SIGTERM, wait for exit, start a new process) with every
 * AgentClient Ready. "Ready again" = /readyz answers 200 AND no pending work: every AgentClient
 * has been reconciled at least once by the new process and the queues are empty (see quiet.ts).
 * Counted from spawn until then: IdP calls by operation (registrations must be zero) and API
 * writes by resource; and every AgentClient must still be Ready afterwards.
 */
import type { KubeList } from '../../../src/runtime/kube/types.ts';
import { isReady } from '../agents.ts';
import type { AgentObject } from '../agents.ts';
import { seconds, sleep, startOperatorProcess } from '../context.ts';
import type { BenchContext } from '../context.ts';
import { countApiWrites, countIdpCalls } from '../proxy.ts';
import { AgentClients } from '../stack.ts';
import { waitDrained } from './quiet.ts';

export interface RestartResult {
  stopSeconds: number;
  stopExitCode: number | null;
  readyzSeconds: number;
  readySeconds: number;
  agentClients: number;
  idpCalls: ReturnType<typeof countIdpCalls>;
  registrations: number;
  apiWrites: ReturnType<typeof countApiWrites>;
  notReadyAfter: number;
  /** AgentClients whose status differs after the restart, and which status fields differ (count per field). */
  statusChanged: number;
  changedStatusFields: Record<string, number>;
}

/** Dotted paths (arrays by index, conditions by type) where two JSON values differ. */
function diffPaths(a: unknown, b: unknown, path: string, out: Set<string>): void {
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  if (Array.isArray(a) && Array.isArray(b) && path.endsWith('conditions')) {
    const byType = (list: unknown[]) => new Map(list.map((c) => [(c as { type?: string }).type ?? '?', c]));
    const [ma, mb] = [byType(a), byType(b)];
    for (const type of new Set([...ma.keys(), ...mb.keys()])) diffPaths(ma.get(type), mb.get(type), `${path}[${type}]`, out);
    return;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    for (const key of new Set([...Object.keys(ra), ...Object.keys(rb)])) diffPaths(ra[key], rb[key], path ? `${path}.${key}` : key, out);
    return;
  }
  out.add(path);
}

export const AGENTCLIENT_CONTROLLER = 'agentclient';

export async function runRestart(ctx: BenchContext): Promise<RestartResult> {
  const { stack } = ctx;
  const previous = ctx.operator;
  if (!previous) throw new Error('restart: no operator running');
  const all = await stack.client.list<AgentObject>(AgentClients);
  const stopStart = performance.now();
  const stopExitCode = await previous.stop();
  const stopSeconds = seconds(performance.now() - stopStart);
  stack.apiProxy.reset();
  stack.idpProxy.reset();
  const operator = await startOperatorProcess(ctx);
  const readyzAt = await operator.waitReady(60_000);
  const drainedAt = await waitDrained(operator, {
    controller: AGENTCLIENT_CONTROLLER,
    minReconciles: all.items.length,
    timeoutMs: ctx.options.timeoutSeconds * 1000,
  });
  const readyAt = Math.max(readyzAt, drainedAt);
  const idpCalls = countIdpCalls(stack.idpProxy.requests());
  const apiWrites = countApiWrites(stack.apiProxy.requests());
  // Let anything racing the last poll land, then check nothing was knocked out of Ready.
  await sleep(1000);
  const after: KubeList<AgentObject> = await stack.client.list<AgentObject>(AgentClients);
  return {
    stopSeconds,
    stopExitCode,
    readyzSeconds: seconds(readyzAt - operator.startedAt),
    readySeconds: seconds(readyAt - operator.startedAt),
    agentClients: all.items.length,
    idpCalls,
    registrations: idpCalls.byOperation['register'] ?? 0,
    apiWrites,
    notReadyAfter: after.items.filter((a) => !isReady(a)).length,
    ...statusChanges(all.items, after.items),
  };
}

function statusChanges(before: AgentObject[], after: AgentObject[]): { statusChanged: number; changedStatusFields: Record<string, number> } {
  const old = new Map(before.map((a) => [a.metadata?.uid, a.status]));
  const fields: Record<string, number> = {};
  let changed = 0;
  for (const agent of after) {
    const paths = new Set<string>();
    diffPaths(old.get(agent.metadata?.uid), agent.status, 'status', paths);
    if (paths.size > 0) changed += 1;
    for (const p of paths) fields[p] = (fields[p] ?? 0) + 1;
  }
  return { statusChanged: changed, changedStatusFields: fields };
}
