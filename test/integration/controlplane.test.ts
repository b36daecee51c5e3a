import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CoreV1Api, RbacAuthorizationV1Api, VersionApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { applyCrds, createServiceAccountKubeConfig, loadKubeConfig, startControlPlane } from '../../src/envtest/index.ts';

const admin = loadKubeConfig(inject('kubeconfigPath'));
const namespace = `cp-${randomBytes(4).toString('hex')}`;
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'cp-test-'));
  await admin.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function statusOf(error: unknown): number | undefined {
  return error && typeof error === 'object' && 'code' in error ? (error.code as number) : undefined;
}

describe('shared control plane', () => {
  it('serves the API with the admin kubeconfig', async () => {
    const version = await admin.makeApiClient(VersionApi).getCode();
    expect(version.major).toBe('1');
    const namespaces = await admin.makeApiClient(CoreV1Api).listNamespace();
    expect(namespaces.items.map((n) => n.metadata?.name)).toContain(namespace);
  });

  it('has the CRDs from crds/ installed, and re-applying them updates in place', async () => {
    const installed = inject('installedCrds');
    const again = await applyCrds(admin, path.resolve(import.meta.dirname, '..', '..', 'crds'));
    expect(again).toEqual(installed);
  });

  it('limits a ServiceAccount kubeconfig to what RBAC grants it', async () => {
    const sa = await createServiceAccountKubeConfig(admin, namespace, 'reader', scratch);
    const asSa = sa.kubeConfig.makeApiClient(CoreV1Api);

    const denied = await asSa.listNamespacedConfigMap({ namespace }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(statusOf(denied)).toBe(403);

    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: 'configmap-reader' },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'configmap-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace }],
      },
    });
    // RBAC is served from an informer cache: the binding takes effect within moments, not at once.
    await expect.poll(() => asSa.listNamespacedConfigMap({ namespace }).then(() => 'allowed', () => 'denied'), {
      timeout: 10_000,
    }).toBe('allowed');

    const stillDenied = await asSa.listNamespacedSecret({ namespace }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(statusOf(stillDenied)).toBe(403);
  });
});

describe('several control planes', () => {
  it('run side by side, each with its own state', async () => {
    const [a, b] = await Promise.all([startControlPlane(), startControlPlane()]);
    try {
      expect(a.server).not.toBe(b.server);
      expect(a.dir).not.toBe(b.dir);
      await a.kubectl(['create', 'namespace', 'only-in-a']);
      const inB = await b.kubectl(['get', 'namespace', 'only-in-a'], { allowFailure: true });
      expect(inB.code).not.toBe(0);
      expect(inB.stderr).toContain('NotFound');
      const inA = await a.kubectl(['get', 'namespace', 'only-in-a', '-o', 'name']);
      expect(inA.stdout.trim()).toBe('namespace/only-in-a');
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    expect(existsSync(a.dir)).toBe(false);
    expect(existsSync(b.dir)).toBe(false);
  });
});

/** Pids whose command line mentions `text` (reads /proc, so no pgrep needed). */
function pidsMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      // The process ended meanwhile.
    }
  }
  return pids;
}

describe('a control plane whose parent is killed outright', () => {
  it('is reaped (no etcd or kube-apiserver left behind)', async () => {
    const harness = path.resolve(import.meta.dirname, '..', '..', 'src', 'envtest', 'index.ts');
    const script = `const { startControlPlane } = await import(${JSON.stringify(harness)});
      const cp = await startControlPlane(); console.log(cp.dir); setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const dir = await new Promise<string>((resolve, reject) => {
      parent.stdout.setEncoding('utf8').once('data', (line: string) => resolve(line.trim()));
      parent.once('exit', (code) => reject(new Error(`parent exited early (${String(code)})`)));
    });
    expect(pidsMentioning(dir).length).toBe(2);
    parent.kill('SIGKILL');
    await expect.poll(() => pidsMentioning(dir).length, { timeout: 15_000 }).toBe(0);
    await rm(dir, { recursive: true, force: true });
  });
});
