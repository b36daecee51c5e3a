/** What every scenario gets: the servers, the options, and the running operator (when one runs). */
import path from 'node:path';
import type { Logger } from 'pino';
import type { BenchOptions } from './args.ts';
import { OperatorProcess } from './operator-process.ts';
import type { ProductBuild } from './product-build.ts';
import { RssSampler } from './rss.ts';
import type { BenchStack } from './stack.ts';

export interface BenchContext {
  stack: BenchStack;
  options: BenchOptions;
  log: Logger;
  /** Working folder: kubeconfigs and the operator's log. */
  dir: string;
  /** The apiserver's CA (PEM). */
  ca: string;
  /** The operator as the image ships it. */
  product: ProductBuild;
  operator?: OperatorProcess;
  rss?: RssSampler;
}

/** Starts the operator process against the counting apiserver proxy and samples its RSS. */
export async function startOperatorProcess(ctx: BenchContext): Promise<OperatorProcess> {
  const operator = await OperatorProcess.start({
    kubeconfigPath: ctx.stack.proxiedKubeconfigPath,
    entry: ctx.product.entry,
    // BENCH_OPERATOR_NODE_OPTIONS adds flags for investigation, e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof'.
    nodeOptions: [ctx.product.nodeOptions, process.env['BENCH_OPERATOR_NODE_OPTIONS'] ?? ''].filter(Boolean).join(' '),
    concurrency: ctx.options.concurrency,
    logFile: path.join(ctx.dir, 'operator.log'),
    logLevel: ctx.options.operatorLogLevel,
  });
  ctx.rss?.stop();
  ctx.operator = operator;
  ctx.rss = new RssSampler(operator.pid);
  return operator;
}

export const seconds = (ms: number): number => Math.round(ms) / 1000;
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Percentile (nearest rank) of a sample, in the sample's unit. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}
