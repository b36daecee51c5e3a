import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { freePort, startOrphanReaper, startProcess, tail, type ManagedProcess } from '../envtest/process.ts';
import { productNodeOptions } from './node-options.ts';

export interface OperatorProcessOptions {
  /** Repository root: the operator runs as `node <root>/src/main.ts`. */
  repoRoot: string;
  kubeconfigPath: string;
  namespace: string;
  /** Appended to across restarts (pino JSON, one line per record). */
  logFile: string;
  /** Holds the current operator pid, so `kill $(cat .dev/operator.pid)` restarts it. */
  pidFile: string;
  /** Extra main.ts flags, appended last. */
  extraArgs?: string[];
  /** How long the first start may take until /readyz answers 200 (default 60 s). */
  startTimeoutMs?: number;
  logger: Logger;
}

export interface OperatorProcess {
  /** `http://127.0.0.1:PORT` of /metrics and of /healthz + /readyz (of the current process). */
  metricsUrl: string;
  healthUrl: string;
  pid(): number | undefined;
  /** How many times the supervisor restarted it after it exited. */
  restarts(): number;
  /** SIGTERM (graceful: finish in-flight work), SIGKILL after a grace period; no more restarts. */
  stop(): Promise<void>;
}

/** Restart backoff like a Deployment's CrashLoopBackOff, shorter: 1 s doubling to 30 s. */
const MAX_BACKOFF_MS = 30_000;
/** A process that ran this long counts as healthy: the next crash restarts after 1 s again. */
const HEALTHY_RUN_MS = 60_000;

/**
 * Run the operator as its own process (`node src/main.ts`), as a Deployment would: separate from
 * the dev stack's process, restarted with backoff whenever it exits (a crash, or a `kill` to see
 * a restart pick its state up again), and stopped gracefully. Resolves once /readyz answers 200.
 * Probe and metrics servers listen on loopback ports chosen free once and kept across restarts
 * (like a pod's container ports), so the URLs in `.dev/env` stay true.
 */
export async function startOperatorProcess(options: OperatorProcessOptions): Promise<OperatorProcess> {
  const { logger } = options;
  const metricsUrl = `http://127.0.0.1:${await freePort()}`;
  const healthUrl = `http://127.0.0.1:${await freePort()}`;
  const args = [
    // The image's heap bounds (Dockerfile NODE_OPTIONS), so the dev operator behaves like a pod.
    ...productNodeOptions(options.repoRoot).split(/\s+/).filter(Boolean),
    '--no-warnings=ExperimentalWarning',
    path.join(options.repoRoot, 'src', 'main.ts'),
    '--kubeconfig', options.kubeconfigPath,
    '--namespace', options.namespace,
    '--metrics-bind-address', metricsUrl.slice('http://'.length),
    '--health-probe-bind-address', healthUrl.slice('http://'.length),
    '--shutdown-timeout', '10s',
    ...(options.extraArgs ?? []),
  ];
  let current: ManagedProcess | undefined;
  let reaper: { stop(): void } | undefined;
  let stopped = false;
  let restarts = 0;
  let backoffMs = 1000;
  let restartTimer: NodeJS.Timeout | undefined;

  const launch = (): ManagedProcess => {
    const proc = startProcess('agent-identity-operator', process.execPath, args, options.logFile);
    const pid = proc.child.pid ?? 0;
    // The exit hook of startProcess cannot run when the dev stack is SIGKILLed; the reaper can.
    reaper?.stop();
    reaper = startOrphanReaper(process.pid, [pid]);
    void writeFile(options.pidFile, `${pid}\n`).catch((error: unknown) => logger.warn({ err: error }, 'dev: cannot write operator pid file'));
    const startedAt = Date.now();
    void proc.exited.then((code) => {
      if (stopped || current !== proc) return;
      if (Date.now() - startedAt > HEALTHY_RUN_MS) backoffMs = 1000;
      logger.warn({ code, operatorPid: pid, restartInMs: backoffMs }, 'dev: operator exited; restarting it');
      restartTimer = setTimeout(() => {
        if (stopped) return;
        restarts++;
        current = launch();
        void waitReady(current, healthUrl, options.logFile, options.startTimeoutMs ?? 60_000).then(
          () => logger.info({ operatorPid: current?.child.pid }, 'dev: operator restarted and ready'),
          (error: unknown) => logger.warn({ err: error }, 'dev: restarted operator is not ready'),
        );
      }, backoffMs);
      backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
    });
    return proc;
  };

  const stop = async (): Promise<void> => {
    stopped = true;
    clearTimeout(restartTimer);
    await current?.stop(15_000);
    reaper?.stop();
    await rm(options.pidFile, { force: true });
  };

  current = launch();
  try {
    await waitReady(current, healthUrl, options.logFile, options.startTimeoutMs ?? 60_000);
  } catch (error) {
    await stop();
    throw error;
  }
  logger.info({ operatorPid: current.child.pid, metricsUrl, healthUrl }, 'dev: operator ready');
  return {
    metricsUrl,
    healthUrl,
    pid: () => current?.child.pid,
    restarts: () => restarts,
    stop,
  };
}

/** Wait until this process's /readyz answers 200 (its caches are synced); fail if it exits first. */
async function waitReady(proc: ManagedProcess, healthUrl: string, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void proc.exited.then(() => (exited = true));
  while (Date.now() < deadline && !exited) {
    const ok = await fetch(`${healthUrl}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (ok && !exited) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const why = exited ? `exited (code ${String(proc.child.exitCode)})` : `was not ready within ${timeoutMs / 1000}s`;
  throw new Error(`the operator ${why}; last lines of ${logFile}:\n${await tail(logFile, 30)}`);
}
