import { chmod, mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveAssets } from './assets.ts';

let root: string;

async function executable(file: string): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, '#!/bin/sh\n');
  await chmod(file, 0o755);
  return file;
}

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'assets-test-'));
  for (const name of ['kube-apiserver', 'etcd', 'kubectl']) await executable(path.join(root, 'full', name));
  for (const name of ['kube-apiserver', 'etcd']) await executable(path.join(root, 'nokubectl', name));
  await executable(path.join(root, 'single', 'my-apiserver'));
  await executable(path.join(root, 'single', 'my-etcd'));
  await writeFile(path.join(root, 'full-not-exec'), '');
});
afterAll(() => rm(root, { recursive: true, force: true }));

const neverProvision = path.join('/nonexistent', 'provision.sh');

describe('resolveAssets', () => {
  it('uses the KUBEBUILDER_ASSETS folder', async () => {
    const assets = await resolveAssets({ env: { KUBEBUILDER_ASSETS: path.join(root, 'full') }, provisionScript: neverProvision });
    expect(assets).toEqual({
      kubeApiserver: path.join(root, 'full', 'kube-apiserver'),
      etcd: path.join(root, 'full', 'etcd'),
      kubectl: path.join(root, 'full', 'kubectl'),
    });
  });

  it('lets TEST_ASSET_* name single binaries, over the folder', async () => {
    const assets = await resolveAssets({
      env: {
        KUBEBUILDER_ASSETS: path.join(root, 'full'),
        TEST_ASSET_KUBE_APISERVER: path.join(root, 'single', 'my-apiserver'),
        TEST_ASSET_KUBECTL: '/usr/local/bin/kubectl',
      },
      provisionScript: neverProvision,
    });
    expect(assets.kubeApiserver).toBe(path.join(root, 'single', 'my-apiserver'));
    expect(assets.etcd).toBe(path.join(root, 'full', 'etcd'));
    expect(assets.kubectl).toBe('/usr/local/bin/kubectl');
  });

  it('needs no folder when both server binaries are named, and falls back to kubectl on PATH', async () => {
    const assets = await resolveAssets({
      env: {
        TEST_ASSET_KUBE_APISERVER: path.join(root, 'single', 'my-apiserver'),
        TEST_ASSET_ETCD: path.join(root, 'single', 'my-etcd'),
      },
      provisionScript: neverProvision,
    });
    expect(assets.etcd).toBe(path.join(root, 'single', 'my-etcd'));
    expect(assets.kubectl).toBe('kubectl');
  });

  it('otherwise runs the provisioning script and uses the last folder it prints', async () => {
    const script = path.join(root, 'provision.sh');
    await writeFile(script, `echo "building..." >&2\necho "noise"\necho "${path.join(root, 'nokubectl')}"\n`);
    const progress: string[] = [];
    const assets = await resolveAssets({ env: {}, provisionScript: script, onProgress: (c) => progress.push(c) });
    expect(assets.kubeApiserver).toBe(path.join(root, 'nokubectl', 'kube-apiserver'));
    expect(assets.kubectl).toBe('kubectl');
    expect(progress.join('')).toContain('building...');
  });

  it('fails clearly when a binary is missing or not executable', async () => {
    await expect(
      resolveAssets({ env: { KUBEBUILDER_ASSETS: path.join(root, 'single') }, provisionScript: neverProvision }),
    ).rejects.toThrow(/kube-apiserver not found or not executable/);
    await expect(
      resolveAssets({
        env: { TEST_ASSET_KUBE_APISERVER: path.join(root, 'full-not-exec'), TEST_ASSET_ETCD: path.join(root, 'single', 'my-etcd') },
        provisionScript: neverProvision,
      }),
    ).rejects.toThrow(/TEST_ASSET_KUBE_APISERVER/);
  });

  it('reports a failing provisioning script', async () => {
    const script = path.join(root, 'failing.sh');
    await writeFile(script, 'echo "go is required" >&2\nexit 1\n');
    await expect(resolveAssets({ env: {}, provisionScript: script, onProgress: () => undefined })).rejects.toThrow(
      /failing\.sh failed/,
    );
  });
});
