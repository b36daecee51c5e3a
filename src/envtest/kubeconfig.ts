import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';

/** What a kubeconfig file needs: where the API server is, which CA to trust, whose token to send. */
export interface KubeconfigSpec {
  server: string;
  caPem: string;
  user: string;
  token: string;
  namespace?: string;
}

/** Render a kubeconfig (one cluster, one user, one context) that trusts `caPem` and sends `token`. */
export function renderKubeconfig(spec: KubeconfigSpec): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'envtest',
        cluster: { server: spec.server, 'certificate-authority-data': Buffer.from(spec.caPem).toString('base64') },
      },
    ],
    users: [{ name: spec.user, user: { token: spec.token } }],
    contexts: [
      {
        name: spec.user,
        context: { cluster: 'envtest', user: spec.user, ...(spec.namespace ? { namespace: spec.namespace } : {}) },
      },
    ],
    'current-context': spec.user,
  });
}

/** Write a kubeconfig readable by its owner only (it carries a bearer token). */
export async function writeKubeconfig(file: string, spec: KubeconfigSpec): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, renderKubeconfig(spec), { mode: 0o600 });
}

/** Load a kubeconfig file into a client-node KubeConfig. */
export function loadKubeConfig(file: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  return kc;
}

export interface ServiceAccountKubeConfig {
  kubeConfig: KubeConfig;
  kubeconfigPath: string;
}

/**
 * Build a kubeconfig that authenticates as ServiceAccount `namespace/name`, with a token minted
 * by the TokenRequest API (the same kind of token a pod's projected volume gets), so tests can
 * run code under exactly the RBAC a ServiceAccount is granted. Creates the ServiceAccount when it
 * does not exist yet. The file is written to `dir`.
 */
export async function createServiceAccountKubeConfig(
  admin: KubeConfig,
  namespace: string,
  name: string,
  dir: string,
  options: { expirationSeconds?: number } = {},
): Promise<ServiceAccountKubeConfig> {
  const core = admin.makeApiClient(CoreV1Api);
  try {
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name, namespace } } });
  } catch (error) {
    if (!isConflict(error)) throw error;
  }
  const request = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: options.expirationSeconds ?? 3600 } },
  });
  const token = request.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error('admin kubeconfig has no current cluster');
  const caPem = cluster.caData
    ? Buffer.from(cluster.caData, 'base64').toString('utf8')
    : cluster.caFile
      ? await readFile(cluster.caFile, 'utf8')
      : undefined;
  if (!caPem) throw new Error('admin kubeconfig names no certificate authority');
  const kubeconfigPath = path.join(dir, `sa-${namespace}-${name}.kubeconfig`);
  await writeKubeconfig(kubeconfigPath, {
    server: cluster.server,
    caPem,
    user: `system:serviceaccount:${namespace}:${name}`,
    token,
    namespace,
  });
  return { kubeConfig: loadKubeConfig(kubeconfigPath), kubeconfigPath };
}

/** True for an HTTP 409 from client-node (AlreadyExists / Conflict). */
export function isConflict(error: unknown): boolean {
  return statusCode(error) === 409;
}

/** True for an HTTP 404 from client-node. */
export function isNotFound(error: unknown): boolean {
  return statusCode(error) === 404;
}

function statusCode(error: unknown): number | undefined {
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'number') return error.code;
  return undefined;
}
