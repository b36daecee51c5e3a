import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { applyCrds, startControlPlane } from '../../src/envtest/index.ts';

declare module 'vitest' {
  interface ProvidedContext {
    /** Admin (system:masters) kubeconfig of the control plane shared by the integration tests. */
    kubeconfigPath: string;
    /** Folder of that control plane (logs, certificates); tests may write files of their own here. */
    controlPlaneDir: string;
    /** Names of the CRDs installed from crds/. */
    installedCrds: string[];
  }
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * One real kube-apiserver + etcd for the whole integration run, with the project's CRDs installed.
 * Test files share it and isolate themselves by namespace (and, for cluster-scoped kinds, by name).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const controlPlane = await startControlPlane();
  try {
    const installedCrds = await applyCrds(controlPlane.kubeConfig, path.join(repoRoot, 'crds'));
    project.provide('kubeconfigPath', controlPlane.kubeconfigPath);
    project.provide('controlPlaneDir', controlPlane.dir);
    project.provide('installedCrds', installedCrds);
    console.log(
      `[envtest] control plane ${controlPlane.server} ready in ${Date.now() - started} ms, ` +
        `${installedCrds.length} CRDs installed`,
    );
  } catch (error) {
    await controlPlane.stop();
    throw error;
  }
  return () => controlPlane.stop();
}
