/**
 * Where the API server is and how to authenticate to it, without `@kubernetes/client-node`: that
 * package costs ~85 MiB of RSS just to import, and the operator needs only what this file reads.
 *
 * Supported: kubeconfig files (current-context; clusters with server, certificate-authority(-data),
 * insecure-skip-tls-verify, tls-server-name; users with token, tokenFile, client-certificate(-data),
 * client-key(-data), username/password), several files in $KUBECONFIG merged the way kubectl does,
 * and the in-cluster ServiceAccount (token re-read on every resolve, since the kubelet rotates it).
 * Exec and auth-provider plugins, and proxies, are refused with a clear error.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { RequestOptions } from 'node:https';
import os from 'node:os';
import path from 'node:path';

/** One resolved connection: TLS options for `https.request` plus the auth headers to send. */
export interface KubeConnection {
  server: URL;
  tls: Pick<RequestOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized' | 'servername'>;
  headers: Record<string, string>;
}

/** Resolves a {@link KubeConnection}; called again when cached credentials age (token rotation). */
export interface KubeConnectionSource {
  resolve(): Promise<KubeConnection>;
  /** For logs and errors: where the configuration came from. */
  readonly description: string;
}

export class KubeconfigError extends Error {
  override readonly name = 'KubeconfigError';
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeconfigDoc {
  'current-context'?: string;
  clusters?: Array<{ name?: string; cluster?: Record<string, unknown> }>;
  users?: Array<{ name?: string; user?: Record<string, unknown> }>;
  contexts?: Array<{ name?: string; context?: { cluster?: string; user?: string } }>;
}

/** A kubeconfig document with the directory its relative paths resolve against (kubectl rule). */
interface Loaded {
  doc: KubeconfigDoc;
  dir: string;
}

/**
 * Parse kubeconfig text. JSON is parsed directly; YAML loads the `yaml` package only then (it costs
 * ~10 MiB, and in a cluster the operator reads no kubeconfig at all).
 */
export async function parseKubeconfig(text: string): Promise<KubeconfigDoc> {
  let doc: unknown;
  try {
    doc = JSON.parse(text) as unknown;
  } catch {
    const { parse } = await import('yaml');
    doc = parse(text) as unknown;
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new KubeconfigError('kubeconfig is not a mapping');
  return doc;
}

/** Load one or more kubeconfig files (merged as kubectl does: the first definition of a name wins). */
export async function loadKubeconfigFiles(files: readonly string[], options: { context?: string } = {}): Promise<KubeConnectionSource> {
  const loaded: Loaded[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new KubeconfigError(`cannot read kubeconfig ${file}: ${(error as Error).message}`);
    }
    let doc: KubeconfigDoc;
    try {
      doc = await parseKubeconfig(text);
    } catch (error) {
      throw new KubeconfigError(`cannot parse kubeconfig ${file}: ${(error as Error).message}`);
    }
    loaded.push({ doc, dir: path.dirname(path.resolve(file)) });
  }
  return fromKubeconfig(loaded, files.join(path.delimiter), options.context);
}

function findNamed<T extends { name?: string }>(loaded: Loaded[], pick: (doc: KubeconfigDoc) => T[] | undefined, name: string): { entry: T; dir: string } | undefined {
  for (const { doc, dir } of loaded) {
    const entry = (pick(doc) ?? []).find((e) => e?.name === name);
    if (entry) return { entry, dir };
  }
  return undefined;
}

interface Selected {
  where: string;
  cluster: Record<string, unknown>;
  clusterDir: string;
  user: Record<string, unknown>;
  userName: string;
  userDir: string;
}

/** The context's cluster and user, each with the directory of the file that defined it. */
function select(loaded: Loaded[], description: string, contextOverride: string | undefined): Selected {
  const contextName = contextOverride ?? loaded.map((l) => l.doc['current-context']).find((c) => typeof c === 'string' && c !== '');
  if (!contextName) throw new KubeconfigError(`kubeconfig ${description} has no current-context`);
  const context = findNamed(loaded, (d) => d.contexts, contextName)?.entry.context;
  if (!context) throw new KubeconfigError(`kubeconfig ${description}: context "${contextName}" not found`);
  const clusterRef = findNamed(loaded, (d) => d.clusters, context.cluster ?? '');
  if (!clusterRef?.entry.cluster) throw new KubeconfigError(`kubeconfig ${description}: cluster "${context.cluster ?? ''}" not found`);
  const userName = context.user ?? '';
  const userRef = userName ? findNamed(loaded, (d) => d.users, userName) : undefined;
  if (userName && !userRef?.entry.user) throw new KubeconfigError(`kubeconfig ${description}: user "${userName}" not found`);
  return {
    where: `kubeconfig ${description}, context "${contextName}"`,
    cluster: clusterRef.entry.cluster,
    clusterDir: clusterRef.dir,
    user: userRef?.entry.user ?? {},
    userName,
    userDir: userRef?.dir ?? clusterRef.dir,
  };
}

function serverUrl({ cluster, user, userName, where }: Selected): URL {
  for (const key of ['exec', 'auth-provider']) {
    if (user[key] !== undefined) {
      throw new KubeconfigError(`${where}: user "${userName}" uses an ${key} plugin, which this operator does not support; use a token, tokenFile or client certificate`);
    }
  }
  if (cluster['proxy-url'] !== undefined) throw new KubeconfigError(`${where}: proxy-url is not supported`);
  const server = str(cluster, 'server', where);
  if (!server) throw new KubeconfigError(`${where}: cluster has no server`);
  try {
    return new URL(server);
  } catch {
    throw new KubeconfigError(`${where}: server "${server}" is not a URL`);
  }
}

/** Certificates and keys are read once: a change needs a restart, as with client-go. */
function tlsOptions({ cluster, clusterDir, user, userDir, where }: Selected): KubeConnection['tls'] {
  const tls: KubeConnection['tls'] = {};
  const ca = material(cluster, 'certificate-authority', clusterDir, where);
  if (ca) tls.ca = ca;
  if (cluster['insecure-skip-tls-verify'] === true) tls.rejectUnauthorized = false;
  const serverName = str(cluster, 'tls-server-name', where);
  if (serverName) tls.servername = serverName;
  const cert = material(user, 'client-certificate', userDir, where);
  const key = material(user, 'client-key', userDir, where);
  if (Boolean(cert) !== Boolean(key)) throw new KubeconfigError(`${where}: a client certificate needs both client-certificate and client-key`);
  if (cert && key) Object.assign(tls, { cert, key });
  return tls;
}

/** The Authorization header, if any; a tokenFile is read at every call (it may be rotated). */
function authorization({ user, userDir, where }: Selected): () => Promise<string | undefined> {
  const token = str(user, 'token', where);
  const tokenFile = str(user, 'tokenFile', where);
  const username = str(user, 'username', where);
  const password = str(user, 'password', where);
  if (token) return () => Promise.resolve(`Bearer ${token}`);
  if (tokenFile) return async () => `Bearer ${await readToken(path.resolve(userDir, tokenFile), where)}`;
  if (username !== undefined && password !== undefined) {
    const basic = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    return () => Promise.resolve(basic);
  }
  return () => Promise.resolve(undefined);
}

function fromKubeconfig(loaded: Loaded[], description: string, contextOverride: string | undefined): KubeConnectionSource {
  const selected = select(loaded, description, contextOverride);
  const server = serverUrl(selected);
  const tls = tlsOptions(selected);
  const auth = authorization(selected);
  return {
    description: selected.where,
    async resolve() {
      const header = await auth();
      const headers: Record<string, string> = header ? { Authorization: header } : {};
      return { server, tls, headers };
    },
  };
}

function str(obj: Record<string, unknown>, key: string, where: string): string | undefined {
  const value = obj[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new KubeconfigError(`${where}: ${key} must be a string`);
  return value;
}

/** `<name>-data` (base64) wins over `<name>` (a file path), as in client-go. */
function material(obj: Record<string, unknown>, name: string, dir: string, where: string): Buffer | undefined {
  const data = str(obj, `${name}-data`, where);
  if (data) return Buffer.from(data, 'base64');
  const file = str(obj, name, where);
  if (!file) return undefined;
  try {
    return readFileSync(path.resolve(dir, file));
  } catch (error) {
    throw new KubeconfigError(`${where}: cannot read ${name} ${file}: ${(error as Error).message}`);
  }
}

async function readToken(file: string, where: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    throw new KubeconfigError(`${where}: cannot read token file ${file}: ${(error as Error).message}`);
  }
}

/**
 * The pod's ServiceAccount (rest.InClusterConfig): server from KUBERNETES_SERVICE_HOST/PORT,
 * CA read once, token re-read at every resolve because the kubelet rotates the projected token.
 */
export function inClusterConfig(env: NodeJS.ProcessEnv = process.env, dir = SERVICE_ACCOUNT_DIR): KubeConnectionSource {
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'];
  if (!host || !port) throw new KubeconfigError('not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set');
  const server = new URL(`https://${host.includes(':') ? `[${host}]` : host}:${port}`);
  const where = `in-cluster config (${dir})`;
  let ca: Buffer;
  try {
    ca = readFileSync(path.join(dir, 'ca.crt'));
  } catch (error) {
    throw new KubeconfigError(`${where}: cannot read ca.crt: ${(error as Error).message}`);
  }
  const tokenFile = path.join(dir, 'token');
  return {
    description: where,
    async resolve() {
      return { server, tls: { ca }, headers: { Authorization: `Bearer ${await readToken(tokenFile, where)}` } };
    },
  };
}

/**
 * controller-runtime's order: an explicit file, then $KUBECONFIG (a path list, merged), then the
 * in-cluster ServiceAccount, then ~/.kube/config.
 */
export async function loadKubeconfig(
  options: { file?: string; env?: NodeJS.ProcessEnv; serviceAccountDir?: string; home?: string } = {},
): Promise<KubeConnectionSource> {
  if (options.file) return loadKubeconfigFiles([options.file]);
  const env = options.env ?? process.env;
  const fromEnv = (env['KUBECONFIG'] ?? '').split(path.delimiter).filter(Boolean);
  if (fromEnv.length > 0) {
    // kubectl skips listed files that do not exist, as long as one does.
    const existing = fromEnv.filter((f) => existsSync(f));
    return loadKubeconfigFiles(existing.length > 0 ? existing : fromEnv);
  }
  if (env['KUBERNETES_SERVICE_HOST'] && env['KUBERNETES_SERVICE_PORT']) return inClusterConfig(env, options.serviceAccountDir);
  const home = path.join(options.home ?? os.homedir(), '.kube', 'config');
  if (existsSync(home)) return loadKubeconfigFiles([home]);
  throw new KubeconfigError('no kubeconfig: pass --kubeconfig, set $KUBECONFIG, run in a cluster, or create ~/.kube/config');
}
