import { existsSync, readFileSync } from 'node:fs';
import https from 'node:https';
import type { ManagedProcess } from './process.ts';

const POLL_MS = 250;

/** Wait until etcd's /health says healthy, failing early if the process exits. */
export async function waitForEtcd(port: number, process: ManagedProcess, timeoutMs: number): Promise<void> {
  await poll(`etcd on port ${port}`, process, timeoutMs, async () => {
    const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) });
    const body = (await response.json()) as { health?: string };
    return response.ok && body.health === 'true';
  });
}

/**
 * Wait until kube-apiserver's /readyz answers 200, which includes the RBAC bootstrap roles and
 * CRD informers being synced. The serving certificate is self-generated at startup, so it is read
 * (and trusted) only once it exists.
 */
export async function waitForReadyz(port: number, caFile: string, process: ManagedProcess, timeoutMs: number): Promise<void> {
  await poll(`kube-apiserver on port ${port}`, process, timeoutMs, async () => {
    if (!existsSync(caFile)) return false;
    return (await httpsStatus(`https://127.0.0.1:${port}/readyz`, readFileSync(caFile, 'utf8'))) === 200;
  });
}

function httpsStatus(url: string, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = https.get(url, { ca, timeout: 2000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.once('timeout', () => request.destroy(new Error('timeout')));
    request.once('error', reject);
  });
}

async function poll(what: string, process: ManagedProcess, timeoutMs: number, ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void process.exited.then(() => {
    exited = true;
  });
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${what}: process exited with code ${String(process.child.exitCode)}`);
    try {
      if (await ready()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error(`${what}: not ready after ${timeoutMs} ms${lastError ? ` (last error: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)})` : ''}`);
}
