import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { resolveAssets, type ControlPlaneAssets } from './assets.ts';
import { createServiceAccountKubeConfig, loadKubeConfig, writeKubeconfig, type ServiceAccountKubeConfig } from './kubeconfig.ts';
import { runKubectl, type KubectlOptions, type KubectlResult } from './kubectl.ts';
import { freePort, startOrphanReaper, startProcess, tail, type ManagedProcess } from './process.ts';
import { waitForEtcd, waitForReadyz } from './readiness.ts';

export interface ControlPlaneOptions {
  /** Binaries; resolved with `resolveAssets()` when absent. */
  assets?: ControlPlaneAssets;
  /**
   * Folder for etcd data, certificates and keys. When given it is kept on stop (so `make dev`
   * state survives a restart) and ports are reused when still free; when absent a temp folder is
   * created and removed on stop.
   */
  dataDir?: string;
  /** How long to wait for etcd and /readyz (default 120 s: a loaded 2-core CI machine is slow). */
  startTimeoutMs?: number;
  /** Extra kube-apiserver flags (`--name=value`), appended last so they win. */
  apiserverArgs?: string[];
  logger?: Logger;
}

/** A running etcd + kube-apiserver pair and an admin (system:masters) identity for it. */
export interface ControlPlane {
  /** https://127.0.0.1:PORT */
  server: string;
  /** Admin kubeconfig (token auth, trusts the apiserver's self-generated serving certificate). */
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  /** etcd's client URL (http://127.0.0.1:PORT), for tests that must reach under the API server (e.g. compaction). */
  etcdServer: string;
  /** Bearer token of the admin user (group system:masters). */
  adminToken: string;
  /** Folder holding data, certificates, kubeconfigs and the etcd / kube-apiserver logs. */
  dir: string;
  assets: ControlPlaneAssets;
  /** Run kubectl against this control plane as admin; rejects on a non-zero exit unless allowFailure. */
  kubectl(args: string[], options?: KubectlOptions): Promise<KubectlResult>;
  /** A kubeconfig for ServiceAccount namespace/name (created when missing), token from TokenRequest. */
  createServiceAccountKubeConfig(namespace: string, name: string): Promise<ServiceAccountKubeConfig>;
  /** Stop both processes (whole process groups); removes the folder unless it was given. */
  stop(): Promise<void>;
}

interface Ports {
  apiserver: number;
  etcdClient: number;
  etcdPeer: number;
}

const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc';
const MAX_ATTEMPTS = 3;

/**
 * Start etcd and kube-apiserver on free loopback ports, the envtest way: RBAC authorization, a
 * static admin token, a generated service-account signing key so TokenRequest works, and the
 * apiserver's self-signed serving certificate trusted by the kubeconfig. Several control planes
 * may run at once (each has its own folder and ports); a port lost to a race is retried.
 */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const assets = options.assets ?? (await resolveAssets());
  const keep = options.dataDir !== undefined;
  const dir = options.dataDir ? path.resolve(options.dataDir) : await mkdtemp(path.join(os.tmpdir(), 'envtest-'));
  await mkdir(path.join(dir, 'certs'), { recursive: true, mode: 0o700 });
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        return await startOnce(assets, dir, keep, options);
      } catch (error) {
        if (!(error instanceof PortInUseError) || attempt >= MAX_ATTEMPTS) throw error;
        options.logger?.warn({ attempt }, 'envtest: a port was taken meanwhile; retrying on new ports');
      }
    }
  } catch (error) {
    if (!keep) await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

class PortInUseError extends Error {}

async function startOnce(
  assets: ControlPlaneAssets,
  dir: string,
  keep: boolean,
  options: ControlPlaneOptions,
): Promise<ControlPlane> {
  const timeoutMs = options.startTimeoutMs ?? 120_000;
  const ports = await choosePorts(dir, keep);
  const adminToken = randomBytes(32).toString('base64url');
  const saKey = await ensureServiceAccountKey(dir);
  await writeFile(path.join(dir, 'tokens.csv'), `${adminToken},admin,admin,"system:masters"\n`, { mode: 0o600 });

  const etcd = startProcess('etcd', assets.etcd, etcdArgs(dir, ports, keep), path.join(dir, 'etcd.log'));
  const started: ManagedProcess[] = [etcd];
  const reaper = { current: startOrphanReaper(process.pid, [etcd.child.pid ?? 0]) };
  const stopAll = async () => {
    reaper.current.stop();
    for (const p of [...started].reverse()) await p.stop();
  };
  try {
    await waitForEtcd(ports.etcdClient, etcd, timeoutMs);
    const apiserver = startProcess(
      'kube-apiserver',
      assets.kubeApiserver,
      [...apiserverArgs(dir, ports, saKey), ...(options.apiserverArgs ?? [])],
      path.join(dir, 'kube-apiserver.log'),
    );
    started.push(apiserver);
    reaper.current.stop();
    reaper.current = startOrphanReaper(process.pid, started.map((p) => p.child.pid ?? 0));
    const caFile = path.join(dir, 'certs', 'apiserver.crt');
    await waitForReadyz(ports.apiserver, caFile, apiserver, timeoutMs);

    const server = `https://127.0.0.1:${ports.apiserver}`;
    const kubeconfigPath = path.join(dir, 'kubeconfig');
    await writeKubeconfig(kubeconfigPath, { server, caPem: await readFile(caFile, 'utf8'), user: 'admin', token: adminToken });
    const kubeConfig = loadKubeConfig(kubeconfigPath);
    options.logger?.info({ server, dir }, 'envtest: control plane ready');
    let stopped: Promise<void> | undefined;
    return {
      server,
      kubeconfigPath,
      kubeConfig,
      etcdServer: `http://127.0.0.1:${ports.etcdClient}`,
      adminToken,
      dir,
      assets,
      kubectl: (args, kubectlOptions) => runKubectl(assets.kubectl, kubeconfigPath, args, kubectlOptions),
      createServiceAccountKubeConfig: (namespace, name) =>
        createServiceAccountKubeConfig(kubeConfig, namespace, name, dir),
      stop() {
        stopped ??= stopAll().then(async () => {
          if (!keep) await rm(dir, { recursive: true, force: true });
        });
        return stopped;
      },
    };
  } catch (error) {
    await stopAll();
    const logs = await Promise.all(started.map(async (p) => `--- ${p.name} (${p.logFile}) ---\n${await tail(p.logFile)}`));
    const text = logs.join('\n');
    if (/address already in use/.test(text)) throw new PortInUseError(text);
    throw new Error(`envtest: control plane did not start: ${String(error)}\n${text}`, { cause: error });
  }
}

function etcdArgs(dir: string, ports: Ports, keep: boolean): string[] {
  const client = `http://127.0.0.1:${ports.etcdClient}`;
  const peer = `http://127.0.0.1:${ports.etcdPeer}`;
  return [
    `--data-dir=${path.join(dir, 'etcd')}`,
    '--name=default',
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=default=${peer}`,
    '--log-level=warn',
    // Throwaway test data needs no fsync; a kept dev folder does.
    `--unsafe-no-fsync=${keep ? 'false' : 'true'}`,
  ];
}

function apiserverArgs(dir: string, ports: Ports, saKey: string): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
    `--cert-dir=${path.join(dir, 'certs')}`,
    `--secure-port=${ports.apiserver}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    '--service-cluster-ip-range=10.0.0.0/24',
    `--token-auth-file=${path.join(dir, 'tokens.csv')}`,
    '--authorization-mode=RBAC',
    `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
    `--service-account-key-file=${saKey}`,
    `--service-account-signing-key-file=${saKey}`,
    // No controller-manager runs, so nothing would create the `default` ServiceAccount pods need.
    '--disable-admission-plugins=ServiceAccount',
    '--allow-privileged=true',
  ];
}

/** Reuse the ports of a kept folder when they are still free, so its kubeconfig stays valid. */
async function choosePorts(dir: string, keep: boolean): Promise<Ports> {
  const file = path.join(dir, 'ports.json');
  if (keep && existsSync(file)) {
    try {
      const previous = JSON.parse(await readFile(file, 'utf8')) as Ports;
      if (await allFree([previous.apiserver, previous.etcdClient, previous.etcdPeer])) return previous;
    } catch {
      // Unreadable or taken: choose new ones.
    }
  }
  let ports: Ports;
  do {
    ports = { apiserver: await freePort(), etcdClient: await freePort(), etcdPeer: await freePort() };
  } while (new Set(Object.values(ports)).size !== 3);
  if (keep) await writeFile(file, JSON.stringify(ports));
  return ports;
}

async function allFree(ports: number[]): Promise<boolean> {
  const check = (port: number) =>
    new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
  for (const port of ports) if (!(await check(port))) return false;
  return true;
}

/** An RSA key signing ServiceAccount tokens; kept across restarts of a kept folder. */
async function ensureServiceAccountKey(dir: string): Promise<string> {
  const file = path.join(dir, 'certs', 'service-account.key');
  if (!existsSync(file)) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeFile(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  }
  return file;
}
