/**
 * The operator as a separate process, run as the image runs it (`node dist/main.js` compiled by
 * product-build.ts, NODE_OPTIONS from the Dockerfile), so its RSS is its own and the product's,
 * and a restart is a real process restart. Its JSON log goes straight to a file (no pipe through
 * the benchmark). Probes and metrics listen on loopback ports chosen here.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { freePort } from '../../src/envtest/process.ts';
import { OPERATOR_NAMESPACE } from './stack.ts';

export interface OperatorProcessOptions {
  kubeconfigPath: string;
  /** The compiled entry point (product-build.ts). */
  entry: string;
  /** NODE_OPTIONS as the image sets them ('' for none). */
  nodeOptions: string;
  concurrency: number;
  logFile: string;
  logLevel: string;
  extraArgs?: string[];
}

export class OperatorProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly healthUrl: string;
  readonly metricsUrl: string;
  readonly startedAt: number;
  readonly exited: Promise<number | null>;

  private constructor(child: ChildProcess, healthUrl: string, metricsUrl: string) {
    this.child = child;
    this.pid = child.pid ?? 0;
    this.healthUrl = healthUrl;
    this.metricsUrl = metricsUrl;
    this.startedAt = performance.now();
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static async start(options: OperatorProcessOptions): Promise<OperatorProcess> {
    const [healthPort, metricsPort] = [await freePort(), await freePort()];
    const out = openSync(options.logFile, 'a');
    const child = spawn(
      process.execPath,
      [
        options.entry,
        `--kubeconfig=${options.kubeconfigPath}`,
        `--namespace=${OPERATOR_NAMESPACE}`,
        `--concurrency=${options.concurrency}`,
        `--health-probe-bind-address=127.0.0.1:${healthPort}`,
        `--metrics-bind-address=127.0.0.1:${metricsPort}`,
        `--log-level=${options.logLevel}`,
        ...(options.extraArgs ?? []),
      ],
      { stdio: ['ignore', out, out], env: { ...process.env, NODE_ENV: 'production', NODE_OPTIONS: options.nodeOptions } },
    );
    closeSync(out);
    if (!child.pid) throw new Error('operator process did not start');
    return new OperatorProcess(child, `http://127.0.0.1:${healthPort}`, `http://127.0.0.1:${metricsPort}`);
  }

  async readyz(): Promise<boolean> {
    try {
      const response = await fetch(`${this.healthUrl}/readyz`, { signal: AbortSignal.timeout(2000) });
      await response.text();
      return response.ok;
    } catch {
      return false;
    }
  }

  /** Resolves with the time /readyz first answered 200; rejects if the process exits first or on timeout. */
  async waitReady(timeoutMs: number): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    while (performance.now() < deadline) {
      if (exited) throw new Error(`operator exited before becoming ready (exit code ${String(this.child.exitCode)})`);
      if (await this.readyz()) return performance.now();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`operator not ready within ${timeoutMs} ms`);
  }

  /** Prometheus samples, `name{labels}` -> value. */
  async metrics(): Promise<Map<string, number>> {
    const response = await fetch(`${this.metricsUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
    const text = await response.text();
    const out = new Map<string, number>();
    for (const line of text.split('\n')) {
      if (!line || line.startsWith('#')) continue;
      const space = line.lastIndexOf(' ');
      out.set(line.slice(0, space), Number(line.slice(space + 1)));
    }
    return out;
  }

  /** SIGTERM (graceful: in-flight work finishes), then SIGKILL if it has not exited in time. */
  async stop(timeoutMs = 30_000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

/** Sum of the samples of one metric whose labels match every `label="value"` given. */
export function sumMetric(samples: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const [key, value] of samples) {
    if (key !== name && !key.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => key.includes(`${k}="${v}"`))) total += value;
  }
  return total;
}
