/**
 * The operator's own kubeconfig loader and HTTP client against the real API server: a kubeconfig
 * file, the in-cluster ServiceAccount layout with a rotated token, and watches whose connection
 * is reset under them (must reject or resolve, never crash the process with an unhandled error).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { Informer } from '../../../src/runtime/informer/informer.ts';
import { HttpKubeClient } from '../../../src/runtime/kube/http.ts';
import { inClusterConfig, loadKubeconfigFiles } from '../../../src/runtime/kube/kubeconfig.ts';
import type { KubeConnectionSource } from '../../../src/runtime/kube/kubeconfig.ts';
import { ConfigMaps, Namespaces } from '../../../src/runtime/kube/types.ts';
import type { KubeObject } from '../../../src/runtime/kube/types.ts';
import { createNamespace, eventually, log, realClient } from './env.ts';

const admin = realClient();
let ns: string;
let dir: string;
let kubeconfig: { server: string; ca: string; token: string };

beforeAll(async () => {
  ns = await createNamespace(admin, 'connection');
  dir = await mkdtemp(path.join(os.tmpdir(), 'connection-'));
  const doc = parse(await readFile(inject('kubeconfigPath'), 'utf8')) as {
    clusters: Array<{ cluster: { server: string; 'certificate-authority-data': string } }>;
    users: Array<{ user: { token: string } }>;
  };
  kubeconfig = {
    server: doc.clusters[0]!.cluster.server,
    ca: Buffer.from(doc.clusters[0]!.cluster['certificate-authority-data'], 'base64').toString(),
    token: doc.users[0]!.user.token,
  };
});
afterAll(async () => {
  admin.close();
  await rm(dir, { recursive: true, force: true });
});

const configMap = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, labels: { app: 'conn' } } });

/** A TCP proxy whose client connections can be reset (RST) on demand. */
async function resettingProxy(target: URL) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    connections: () => sockets.size,
    resetAll() {
      for (const socket of sockets) socket.resetAndDestroy();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function viaPort(port: number, ca: string, token: string): KubeConnectionSource {
  return {
    description: 'test proxy',
    resolve: () => Promise.resolve({ server: new URL(`https://127.0.0.1:${port}`), tls: { ca }, headers: { Authorization: `Bearer ${token}` } }),
  };
}

describe('kubeconfig loader on a real API server', () => {
  it('talks to the server with the envtest kubeconfig file (CA data, bearer token)', async () => {
    const client = new HttpKubeClient(await loadKubeconfigFiles([inject('kubeconfigPath')]));
    try {
      expect(await client.get(Namespaces, ns)).toMatchObject({ metadata: { name: ns } });
    } finally {
      client.close();
    }
  });

  it('in-cluster layout: uses the mounted CA and picks up a rotated token', async () => {
    const sa = path.join(dir, 'serviceaccount');
    await import('node:fs/promises').then((fs) => fs.mkdir(sa, { recursive: true }));
    await writeFile(path.join(sa, 'ca.crt'), kubeconfig.ca);
    await writeFile(path.join(sa, 'token'), 'not-a-valid-token');
    const server = new URL(kubeconfig.server);
    const source = inClusterConfig({ KUBERNETES_SERVICE_HOST: server.hostname, KUBERNETES_SERVICE_PORT: server.port }, sa);
    const client = new HttpKubeClient(source, { authCacheMs: 0 });
    try {
      await expect(client.get(Namespaces, ns)).rejects.toMatchObject({ status: 401 });
      await writeFile(path.join(sa, 'token'), kubeconfig.token);
      expect(await client.get(Namespaces, ns)).toMatchObject({ metadata: { name: ns } });
    } finally {
      client.close();
    }
  });
});

describe('watch connections reset under the client', () => {
  it('a reset watch rejects (no unhandled error event), and an aborted one resolves', async () => {
    const proxy = await resettingProxy(new URL(kubeconfig.server));
    const client = new HttpKubeClient(viaPort(proxy.port, kubeconfig.ca, kubeconfig.token));
    try {
      const seen: string[] = [];
      const watching = client.watch(ConfigMaps, { namespace: ns }, (e) => seen.push(`${e.type} ${e.object.metadata?.name}`));
      await admin.create(ConfigMaps, configMap('reset-1'));
      await eventually(() => seen.includes('ADDED reset-1'), 10_000, 'the watch event');
      proxy.resetAll();
      await expect(watching).rejects.toThrow(/ECONNRESET|aborted|socket hang up/);

      const abort = new AbortController();
      const watching2 = client.watch(ConfigMaps, { namespace: ns, signal: abort.signal }, () => undefined);
      await eventually(() => proxy.connections() > 0, 10_000, 'the second watch connection');
      abort.abort();
      await expect(watching2).resolves.toBeUndefined();
    } finally {
      client.close();
      await proxy.close();
    }
  });

  it('a throwing event handler ends the watch with its error instead of crashing the process', async () => {
    const client = new HttpKubeClient(await loadKubeconfigFiles([inject('kubeconfigPath')]));
    try {
      await admin.create(ConfigMaps, configMap('throws-1'));
      let calls = 0;
      const watching = client.watch(ConfigMaps, { namespace: ns }, () => {
        calls++;
        throw new Error('handler bug');
      });
      await expect(watching).rejects.toThrow('handler bug');
      expect(calls).toBe(1);
    } finally {
      client.close();
    }
  });

  it('an informer keeps its cache current across repeated resets', async () => {
    const proxy = await resettingProxy(new URL(kubeconfig.server));
    const client = new HttpKubeClient(viaPort(proxy.port, kubeconfig.ca, kubeconfig.token));
    const informer = new Informer<KubeObject>(client, log, { type: ConfigMaps, namespace: ns, labelSelector: 'app=conn' });
    try {
      informer.start();
      await informer.waitForSync();
      for (let i = 0; i < 3; i++) {
        proxy.resetAll();
        await admin.create(ConfigMaps, configMap(`after-reset-${i}`));
        await eventually(() => informer.get(`after-reset-${i}`, ns), 20_000, `after-reset-${i} in the cache`);
      }
    } finally {
      await informer.stop();
      client.close();
      await proxy.close();
    }
  });
});
