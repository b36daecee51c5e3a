/**
 * GrantRevocations applied while the AgentClient backlog is being worked: one at a time, each
 * `RevokeGrants` for one agent registered before the burst. Measured per run, from just before
 * the POST: until the IdP receives the revocation call (seen by the IdP proxy: DELETE
 * /admin/grants for that client_id) and until the watch shows `status.phase: Completed`.
 */
import { API_VERSION } from '../../../src/api/v1alpha1/index.ts';
import type { KubeObject } from '../../../src/runtime/kube/types.ts';
import type { ReadyTracker } from '../agents.ts';
import { percentile, seconds, sleep } from '../context.ts';
import type { BenchContext } from '../context.ts';
import { idpOperation } from '../proxy.ts';
import { GrantRevocations } from '../stack.ts';
import { watchObjects } from '../watch.ts';

interface RevocationObject extends KubeObject {
  status?: { phase?: string; completionTime?: string; targets?: Array<{ results?: Array<{ outcome?: string; message?: string }> }> };
}

export interface RevocationRun {
  /** Agents of the backlog not yet Ready when this revocation was applied. */
  backlogPending: number;
  phase: string;
  toIdpCallSeconds?: number;
  toCompletedSeconds?: number;
}

export interface RevocationResult {
  target: string;
  runs: RevocationRun[];
  runsDuringBacklog: number;
  completedP50Seconds?: number;
  completedP99Seconds?: number;
  completedMaxSeconds?: number;
  idpCallP50Seconds?: number;
  idpCallP99Seconds?: number;
  failures: string[];
}

export async function runRevocations(
  ctx: BenchContext,
  namespace: string,
  target: { name: string; clientId: string },
  backlog: ReadyTracker,
): Promise<RevocationResult> {
  const { stack, options } = ctx;
  const completed = new Map<string, { at: number; phase: string }>();
  const waiters = new Map<string, () => void>();
  const watch = watchObjects<RevocationObject>(stack.client, GrantRevocations, namespace, (kind, obj) => {
    const name = obj.metadata?.name ?? '';
    const phase = obj.status?.phase;
    if (kind !== 'upsert' || (phase !== 'Completed' && phase !== 'Failed') || completed.has(name)) return;
    completed.set(name, { at: performance.now(), phase });
    waiters.get(name)?.();
  });
  await watch.synced;
  let idpCallAt: number | undefined;
  stack.idpProxy.onRequest((request) => {
    if (idpCallAt === undefined && idpOperation(request) === 'revokeGrants' && new URLSearchParams(request.query).get('client_id') === target.clientId) {
      idpCallAt = request.at;
    }
  });
  const runs: RevocationRun[] = [];
  const failures: string[] = [];
  try {
    for (let i = 0; i < options.revocationRuns; i++) {
      const name = `bench-revoke-${String(i).padStart(3, '0')}`;
      const done = new Promise<void>((resolve) => waiters.set(name, resolve));
      const backlogPending = backlog.pending();
      idpCallAt = undefined;
      const start = performance.now();
      await stack.client.create(GrantRevocations, {
        apiVersion: API_VERSION,
        kind: 'GrantRevocation',
        metadata: { name, namespace },
        spec: { target: { agentClientName: target.name }, actions: ['RevokeGrants'], reason: `benchmark run ${i}`, incidentRef: 'BENCH-1' },
      } as KubeObject);
      const finished = await Promise.race([done.then(() => true), sleep(30_000).then(() => false)]);
      const result = completed.get(name);
      const run: RevocationRun = { backlogPending, phase: result?.phase ?? 'NotFinished' };
      if (idpCallAt !== undefined) run.toIdpCallSeconds = seconds(idpCallAt - start);
      if (result) run.toCompletedSeconds = seconds(result.at - start);
      runs.push(run);
      if (!finished || result?.phase !== 'Completed') failures.push(`${name}: ${run.phase}`);
      // Spread the runs over the backlog rather than firing them back to back.
      await sleep(options.revocationGapMs);
    }
  } finally {
    stack.idpProxy.onRequest(undefined);
    watch.stop();
  }
  const ok = runs.filter((r) => r.phase === 'Completed');
  const completedTimes = ok.map((r) => r.toCompletedSeconds ?? Infinity);
  const idpTimes = runs.flatMap((r) => (r.toIdpCallSeconds === undefined ? [] : [r.toIdpCallSeconds]));
  // A run that never completed counts as infinitely slow in the percentiles.
  const all = [...completedTimes, ...runs.filter((r) => r.phase !== 'Completed').map(() => Infinity)];
  const result: RevocationResult = {
    target: `${namespace}/${target.name}`,
    runs,
    runsDuringBacklog: runs.filter((r) => r.backlogPending > 0).length,
    failures,
  };
  const set = (key: 'completedP50Seconds' | 'completedP99Seconds' | 'completedMaxSeconds' | 'idpCallP50Seconds' | 'idpCallP99Seconds', value: number | undefined) => {
    if (value !== undefined) result[key] = value;
  };
  set('completedP50Seconds', percentile(all, 50));
  set('completedP99Seconds', percentile(all, 99));
  set('completedMaxSeconds', percentile(all, 100));
  set('idpCallP50Seconds', percentile(idpTimes, 50));
  set('idpCallP99Seconds', percentile(idpTimes, 99));
  return result;
}
