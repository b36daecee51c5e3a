/**
 * Scenario 3: with every AgentClient Ready and the queues drained, the operator is left alone for
 * `--idle-seconds`. Everything it sends to the apiserver proxy and the IdP proxy meanwhile is
 * counted (target: zero of both). Leader election is off, so no Lease renewals are expected;
 * the benchmark does not touch the operator during the window (no probe, no scrape).
 */
import { seconds, sleep } from '../context.ts';
import type { BenchContext } from '../context.ts';
import { countApiWrites, countIdpCalls, countApiReads } from '../proxy.ts';
import { toMiB } from '../rss.ts';
import { AGENT_RECOUNT_WINDOW_MS } from '../../../src/controllers/consentpolicy/controller.ts';
import { waitDrained } from './quiet.ts';

export interface IdleResult {
  seconds: number;
  apiWrites: ReturnType<typeof countApiWrites>;
  apiReads: ReturnType<typeof countApiReads>;
  idpCalls: ReturnType<typeof countIdpCalls>;
  /** RSS at the end of the idle window, and the peak during it. */
  rssSettledMiB: number;
  rssPeakMiB: number;
}

export async function runIdle(ctx: BenchContext): Promise<IdleResult> {
  const operator = ctx.operator;
  if (!operator) throw new Error('idle: no operator running');
  await waitDrained(operator, { timeoutMs: 120_000 });
  // AgentClient changes reach ConsentPolicy recounts after a short window (a delayed key, which
  // waitDrained does not count): let the last of them run before the window opens.
  await sleep(AGENT_RECOUNT_WINDOW_MS + 1000);
  await waitDrained(operator, { timeoutMs: 120_000 });
  ctx.stack.apiProxy.reset();
  ctx.stack.idpProxy.reset();
  ctx.rss?.mark();
  const start = performance.now();
  await sleep(ctx.options.idleSeconds * 1000);
  const elapsed = performance.now() - start;
  const requests = ctx.stack.apiProxy.requests();
  const rss = ctx.rss?.window();
  return {
    seconds: seconds(elapsed),
    apiWrites: countApiWrites(requests),
    apiReads: countApiReads(requests),
    idpCalls: countIdpCalls(ctx.stack.idpProxy.requests()),
    rssSettledMiB: toMiB(rss?.currentBytes ?? 0),
    rssPeakMiB: toMiB(rss?.peakBytes ?? 0),
  };
}
