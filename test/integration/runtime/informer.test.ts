import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane } from '../../../src/envtest/index.ts';
import { HttpKubeClient } from '../../../src/runtime/kube/http.ts';
import { Informer } from '../../../src/runtime/informer/informer.ts';
import type { KubeClient } from '../../../src/runtime/kube/client.ts';
import { ConfigMaps } from '../../../src/runtime/kube/types.ts';
import type { KubeObject } from '../../../src/runtime/kube/types.ts';
import { createNamespace, eventually, log, realClient } from './env.ts';

const client = realClient();
let ns: string;

const cm = (name: string, labels: Record<string, string> = { app: 'x' }, data: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: ns, labels, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"big":"copy"}' } },
  data,
});

function recorder(informer: Informer) {
  const events: string[] = [];
  informer.addHandler({
    add: (o) => events.push(`add ${o.metadata?.name}`),
    update: (_a, b) => events.push(`update ${b.metadata?.name}`),
    delete: (o) => events.push(`delete ${o.metadata?.name}`),
  });
  return events;
}

beforeAll(async () => {
  ns = await createNamespace(client, 'informer');
});
afterAll(() => client.close());

describe('Informer on a real API server', () => {
  it('lists, then watches with a label selector; caches compacted objects', async () => {
    await client.create(ConfigMaps, cm('before'));
    await client.create(ConfigMaps, cm('unlabelled', { app: 'other' }));
    const informer = new Informer(client, log, { type: ConfigMaps, namespace: ns, labelSelector: 'app=x', pageSize: 1 });
    const events = recorder(informer);
    informer.start();
    await informer.waitForSync();
    expect(informer.hasSynced()).toBe(true);
    expect(informer.keys()).toEqual([`${ns}/before`]);
    const cached = informer.get('before', ns)!;
    expect(cached.metadata?.managedFields).toBeUndefined();
    expect(cached.metadata?.annotations?.['kubectl.kubernetes.io/last-applied-configuration']).toBeUndefined();
    expect(cached.kind).toBe('ConfigMap');

    await client.create(ConfigMaps, cm('after'));
    await client.patch(ConfigMaps, 'before', ns, 'merge', { data: { k: 'v' } });
    await client.delete(ConfigMaps, 'after', ns);
    await client.patch(ConfigMaps, 'unlabelled', ns, 'merge', { data: { k: 'v' } });
    await eventually(() => events.includes('delete after'), 10_000, 'delete event');
    expect(events).toEqual(['add before', 'add after', 'update before', 'delete after']);
    expect(informer.get('before', ns)?.metadata?.resourceVersion).toBeDefined();
    expect(informer.stats.lists).toBe(1);
    await informer.stop();
  });

  it('relists on 410 Gone when its resourceVersion was compacted away, synthesising missed deletes', async () => {
    // A control plane of its own: the watch cache off (watches go to etcd) and etcd compacted by
    // hand, so the 410 is the real API server's answer to the informer's own stale version.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'informer-410-'));
    const cp = await startControlPlane({ dataDir: dir, apiserverArgs: ['--watch-cache=false'] });
    const own = new HttpKubeClient(cp.kubeConfig);
    try {
      const ports = JSON.parse(await readFile(path.join(dir, 'ports.json'), 'utf8')) as { etcdClient: number };
      const etcd = `http://127.0.0.1:${ports.etcdClient}`;
      const make = (name: string) => ({ ...cm(name), metadata: { ...cm(name).metadata, namespace: 'default' } });
      await own.create(ConfigMaps, make('gone-a'));
      await own.create(ConfigMaps, make('gone-b'));
      let first = true;
      // Before the informer's first watch: change the world behind its back, then compact etcd.
      const delayed: KubeClient = {
        get: own.get.bind(own),
        list: own.list.bind(own),
        create: own.create.bind(own),
        replace: own.replace.bind(own),
        patch: own.patch.bind(own),
        delete: own.delete.bind(own),
        async watch(type, options, onEvent) {
          if (first) {
            first = false;
            await own.delete(ConfigMaps, 'gone-a', 'default');
            await own.create(ConfigMaps, make('gone-c'));
            await own.create(ConfigMaps, { metadata: { name: 'unrelated', namespace: 'default' } });
            const head = (await (await fetch(`${etcd}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: 'AA==' }) })).json()) as {
              header: { revision: string };
            };
            await fetch(`${etcd}/v3/kv/compaction`, { method: 'POST', body: JSON.stringify({ revision: head.header.revision, physical: true }) });
          }
          return own.watch(type, options, onEvent);
        },
      };
      const informer = new Informer<KubeObject>(delayed, log, { type: ConfigMaps, namespace: 'default', labelSelector: 'app=x' });
      const events = recorder(informer);
      informer.start();
      await informer.waitForSync();
      await eventually(() => informer.stats.relistsOnGone > 0, 20_000, 'a relist on 410');
      await eventually(() => events.includes('delete gone-a') && events.includes('add gone-c'), 10_000, 'events from the relist');
      expect(informer.stats.lists).toBe(2);
      expect(informer.get('gone-a', 'default')).toBeUndefined();
      expect(informer.get('gone-c', 'default')).toBeDefined();
      // It keeps watching after the relist.
      await own.create(ConfigMaps, make('gone-d'));
      await eventually(() => informer.get('gone-d', 'default'), 10_000, 'watch after relist');
      await informer.stop();
    } finally {
      own.close();
      await cp.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
