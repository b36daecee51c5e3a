import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Paths of the binaries a control plane needs. */
export interface ControlPlaneAssets {
  kubeApiserver: string;
  etcd: string;
  /** kubectl from the assets folder, or plain `kubectl` resolved on PATH. */
  kubectl: string;
}

export interface ResolveAssetsOptions {
  env?: NodeJS.ProcessEnv;
  /** Script that builds the binaries and prints their folder (default hack/envtest/provision.sh). */
  provisionScript?: string;
  /** Receives the provisioning script's progress lines (stderr). Default: process.stderr. */
  onProgress?: (chunk: string) => void;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Find kube-apiserver, etcd and kubectl, in the same order of precedence as controller-runtime's
 * envtest: TEST_ASSET_KUBE_APISERVER / TEST_ASSET_ETCD / TEST_ASSET_KUBECTL name single binaries,
 * KUBEBUILDER_ASSETS names a folder holding them; otherwise `hack/envtest/provision.sh` builds
 * them into a cache (slow the first time only) and prints the folder. kubectl falls back to PATH.
 */
export async function resolveAssets(options: ResolveAssetsOptions = {}): Promise<ControlPlaneAssets> {
  const env = options.env ?? process.env;
  let folder = env.KUBEBUILDER_ASSETS || undefined;
  const explicitApiserver = env.TEST_ASSET_KUBE_APISERVER || undefined;
  const explicitEtcd = env.TEST_ASSET_ETCD || undefined;
  if (!folder && !(explicitApiserver && explicitEtcd)) {
    folder = await provision(options);
  }
  const pick = async (explicit: string | undefined, name: string): Promise<string> => {
    const file = explicit ?? (folder ? path.join(folder, name) : undefined);
    if (!file || !(await isExecutable(file))) {
      throw new Error(
        `envtest: ${name} not found or not executable (${file ?? 'no path'}); set KUBEBUILDER_ASSETS ` +
          `or TEST_ASSET_${name.toUpperCase().replace('-', '_')}, or run hack/envtest/provision.sh`,
      );
    }
    return file;
  };
  const kubeApiserver = await pick(explicitApiserver, 'kube-apiserver');
  const etcd = await pick(explicitEtcd, 'etcd');
  let kubectl = env.TEST_ASSET_KUBECTL || undefined;
  if (!kubectl && folder && (await isExecutable(path.join(folder, 'kubectl')))) {
    kubectl = path.join(folder, 'kubectl');
  }
  return { kubeApiserver, etcd, kubectl: kubectl ?? 'kubectl' };
}

function provision(options: ResolveAssetsOptions): Promise<string> {
  const script = options.provisionScript ?? path.join(repoRoot, 'hack', 'envtest', 'provision.sh');
  const onProgress = options.onProgress ?? ((chunk: string) => process.stderr.write(chunk));
  return new Promise((resolve, reject) => {
    const child = execFile('bash', [script], { maxBuffer: 1 << 20 }, (error, stdout) => {
      if (error) {
        reject(new Error(`envtest: ${script} failed: ${error.message}`, { cause: error }));
        return;
      }
      const folder = stdout.trim().split('\n').pop() ?? '';
      if (!folder) reject(new Error(`envtest: ${script} printed no folder`));
      else resolve(folder);
    });
    child.stderr?.setEncoding('utf8').on('data', onProgress);
  });
}
