/**
 * "No pending work", as the operator itself reports it on /metrics: every queue's priority and
 * normal lanes empty, nothing running (`agentidentity_workqueue_depth`) and no Event waiting to be
 * sent (`agentidentity_events_pending`), optionally after at
 * least `minReconciles` reconciles of one controller (`agentidentity_reconcile_total`).
 * Scheduled requeues (the `delayed` lane, e.g. a rotation due in 30 days) are not pending work.
 */
import { sleep } from '../context.ts';
import type { OperatorProcess } from '../operator-process.ts';
import { sumMetric } from '../operator-process.ts';

export interface DrainOptions {
  controller?: string;
  minReconciles?: number;
  timeoutMs: number;
  pollMs?: number;
}

export async function queueActive(operator: OperatorProcess): Promise<number> {
  const samples = await operator.metrics();
  return ['priority', 'normal', 'active'].reduce((n, lane) => n + sumMetric(samples, 'agentidentity_workqueue_depth', { lane }), 0);
}

/** Resolves with the time the queues were first seen drained (two polls in a row); rejects on timeout. */
export async function waitDrained(operator: OperatorProcess, options: DrainOptions): Promise<number> {
  const deadline = performance.now() + options.timeoutMs;
  let firstEmpty: number | undefined;
  while (performance.now() < deadline) {
    const samples = await operator.metrics();
    // Events still to be sent in the background are pending work too: their writes must not land in an idle window.
    const active = ['priority', 'normal', 'active'].reduce((n, lane) => n + sumMetric(samples, 'agentidentity_workqueue_depth', { lane }), 0) + sumMetric(samples, 'agentidentity_events_pending');
    const reconciles = options.controller ? sumMetric(samples, 'agentidentity_reconcile_total', { controller: options.controller }) : 0;
    const enough = reconciles >= (options.minReconciles ?? 0);
    if (active === 0 && enough) {
      if (firstEmpty !== undefined) return firstEmpty;
      firstEmpty = performance.now();
    } else {
      firstEmpty = undefined;
    }
    await sleep(options.pollMs ?? 100);
  }
  throw new Error(`operator queues not drained within ${options.timeoutMs} ms`);
}
