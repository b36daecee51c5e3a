import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { parse, stringify } from 'yaml';
import { applyCrds, isConflict, isNotFound, loadKubeConfig, startControlPlane, type ControlPlane } from '../envtest/index.ts';
import { startEmbeddedIdp } from '../idp/embedded/server.ts';
import { renderEnvFile } from './env.ts';
import { persistIdpState } from './idp-state.ts';
import { startOperatorProcess, type OperatorProcess } from './operator.ts';
import { applySamples, type AppliedSamples } from './samples.ts';

/** Namespace the operator runs in; the IdentityProvider's Secret references resolve here. */
export const OPERATOR_NAMESPACE = 'agent-identity-system';
/** Secret names the sample IdentityProvider (type: embedded) refers to; key `token` in each. */
export const INITIAL_ACCESS_TOKEN_SECRET = 'embedded-idp-initial-access-token';
export const ADMIN_TOKEN_SECRET = 'embedded-idp-admin-token';
/** Fixed by default (the issuer in config/samples/identityprovider.yaml) so the issuer stays stable. */
export const DEFAULT_IDP_PORT = 4444;
/** The samples' tenant namespace: the default namespace of `<dataDir>/kubeconfig`, so the tour needs no -n. */
export const SAMPLES_NAMESPACE = 'agents';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface DevStackOptions {
  /** State folder (`.dev` for make dev): control plane data, kubeconfig, env, token files. */
  dataDir: string;
  /** Folder of the CRD YAML (default `crds`). */
  crdsDir?: string;
  /** Embedded IdP port; 0 picks a free one (tests). Default DEFAULT_IDP_PORT. */
  idpPort?: number;
  /** Kustomization applied once the operator runs (default config/samples); false skips it. */
  samplesDir?: string | false;
  /** How long the samples' IdentityProviders and AgentClients may take to become Ready (default 120 s). */
  readyTimeoutMs?: number;
  /** Text written to `<dataDir>/tour` just before `<dataDir>/ready`, for `make dev-up` to print. */
  tour?: (stack: DevStack) => string;
  logger: Logger;
}

export interface DevStack {
  controlPlane: ControlPlane;
  kubeConfig: KubeConfig;
  /** `<dataDir>/kubeconfig` (admin). */
  kubeconfigPath: string;
  /** `<dataDir>/env`: shell lines KUBECONFIG=..., IDP_ISSUER=..., ... */
  envPath: string;
  issuer: string;
  registrationEndpoint: string;
  initialAccessTokenFile: string;
  adminTokenFile: string;
  crds: string[];
  /** The operator, a supervised child process (`node src/main.ts`); log in `operatorLogFile`. */
  operator: OperatorProcess;
  operatorLogFile: string;
  /** `<dataDir>/bin`: kubectl, kubectl-agentid and node, put first on PATH by the env file. */
  binDir: string;
  /** What was applied from the samples (absent when skipped). */
  samples?: AppliedSamples;
  stop(): Promise<void>;
}

/**
 * Start the development stack step by step: a control plane with its data under `dataDir`, the
 * CRDs, the embedded IdP, and the Secrets an `embedded` IdentityProvider refers to. Each step
 * is undone by `stop()` in reverse order; a failing step stops what was started before it.
 */
export async function startDevStack(options: DevStackOptions): Promise<DevStack> {
  const dataDir = path.resolve(options.dataDir);
  const { logger } = options;
  await mkdir(path.join(dataDir, 'secrets'), { recursive: true, mode: 0o700 });
  const undo: Array<() => Promise<void>> = [];
  const stop = async () => {
    await rm(path.join(dataDir, 'ready'), { force: true });
    await rm(path.join(dataDir, 'tour'), { force: true });
    for (const step of undo.reverse()) await step();
    undo.length = 0;
  };
  try {
    // Step 1: control plane (etcd + kube-apiserver), state kept in <dataDir>/controlplane.
    const controlPlane = await startControlPlane({ dataDir: path.join(dataDir, 'controlplane'), logger });
    undo.push(() => controlPlane.stop());
    const kubeconfigPath = path.join(dataDir, 'kubeconfig');
    await writeDevKubeconfig(controlPlane.kubeconfigPath, kubeconfigPath);
    const kubeConfig = loadKubeConfig(kubeconfigPath);

    // Step 2: CRDs.
    const crds = await applyCrds(kubeConfig, options.crdsDir ?? 'crds');
    logger.info({ crds }, 'dev: CRDs installed');

    // Step 3: embedded IdP, with tokens and state kept in 0600 files so they survive a restart.
    const initialAccessTokenFile = path.join(dataDir, 'secrets', 'initial-access-token');
    const adminTokenFile = path.join(dataDir, 'secrets', 'admin-token');
    const idp = await startEmbeddedIdp({
      host: '127.0.0.1',
      port: options.idpPort ?? DEFAULT_IDP_PORT,
      initialAccessToken: await ensureToken(initialAccessTokenFile),
      adminToken: await ensureToken(adminTokenFile),
      logger: logger.child({ component: 'embedded-idp' }),
    });
    undo.push(() => idp.stop());
    // Registrations and grants survive a restart like the control plane's data does.
    const idpState = await persistIdpState(idp.store, path.join(dataDir, 'secrets', 'idp-state.json'), logger);
    undo.push(() => idpState.stop());
    const registrationEndpoint = await discoverRegistrationEndpoint(idp.issuer);
    logger.info({ issuer: idp.issuer }, 'dev: embedded IdP ready');

    // Step 4: the Secrets the sample IdentityProvider refers to, in the operator namespace.
    await ensureNamespace(kubeConfig, OPERATOR_NAMESPACE);
    await upsertTokenSecret(kubeConfig, INITIAL_ACCESS_TOKEN_SECRET, idp.initialAccessToken);
    await upsertTokenSecret(kubeConfig, ADMIN_TOKEN_SECRET, idp.adminToken);

    // Step 5: the operator, as its own process like a Deployment's pod (restarted when it exits).
    const operatorLogFile = path.join(dataDir, 'operator.log');
    const operator = await startOperatorProcess({
      repoRoot,
      kubeconfigPath,
      namespace: OPERATOR_NAMESPACE,
      logFile: operatorLogFile,
      pidFile: path.join(dataDir, 'operator.pid'),
      logger,
    });
    undo.push(() => operator.stop());

    // Step 6: the samples, and wait until the IdentityProvider and the AgentClients are Ready.
    let samples: AppliedSamples | undefined;
    if (options.samplesDir !== false) {
      samples = await applySamples({
        controlPlane,
        samplesDir: options.samplesDir ?? path.join(repoRoot, 'config', 'samples'),
        issuer: idp.issuer,
        operatorLogFile,
        ...(options.readyTimeoutMs !== undefined ? { readyTimeoutMs: options.readyTimeoutMs } : {}),
      });
      if (samples.patchedIssuer) logger.info(samples.patchedIssuer, 'dev: applied the sample IdentityProvider with the running IdP issuer');
      logger.info({ objects: samples.objects.length }, 'dev: samples applied and Ready');
    }

    const binDir = await linkTools(dataDir, controlPlane.assets.kubectl);
    const envPath = path.join(dataDir, 'env');
    await writeFile(
      envPath,
      renderEnvFile({
        kubeconfigPath,
        kubectl: controlPlane.assets.kubectl,
        issuer: idp.issuer,
        registrationEndpoint,
        initialAccessTokenFile,
        adminTokenFile,
        binDir,
        operatorMetricsUrl: operator.metricsUrl,
        operatorHealthUrl: operator.healthUrl,
        operatorLogFile,
      }),
    );
    const stack: DevStack = {
      controlPlane,
      kubeConfig,
      kubeconfigPath,
      envPath,
      issuer: idp.issuer,
      registrationEndpoint,
      initialAccessTokenFile,
      adminTokenFile,
      crds,
      operator,
      operatorLogFile,
      binDir,
      ...(samples ? { samples } : {}),
      stop,
    };
    if (options.tour) await writeFile(path.join(dataDir, 'tour'), options.tour(stack));
    await writeFile(path.join(dataDir, 'ready'), `${process.pid}\n`);
    return stack;
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The admin kubeconfig, with the samples' namespace as the context's default namespace. */
async function writeDevKubeconfig(from: string, to: string): Promise<void> {
  const config = parse(await readFile(from, 'utf8')) as { contexts?: Array<{ context?: Record<string, unknown> }> };
  for (const entry of config.contexts ?? []) if (entry.context) entry.context.namespace = SAMPLES_NAMESPACE;
  await writeFile(to, stringify(config), { mode: 0o600 });
}

/**
 * `<dataDir>/bin` with the tools the tour uses: the control plane's kubectl, the kubectl plugin's
 * development wrapper (kubectl finds `kubectl-agentid` on PATH) and the pinned node.
 */
async function linkTools(dataDir: string, kubectl: string): Promise<string> {
  const binDir = path.join(dataDir, 'bin');
  await mkdir(binDir, { recursive: true });
  const links: Record<string, string> = {
    kubectl,
    'kubectl-agentid': path.join(repoRoot, 'bin', 'kubectl-agentid'),
    node: process.execPath,
  };
  for (const [name, target] of Object.entries(links)) {
    await rm(path.join(binDir, name), { force: true });
    await symlink(target, path.join(binDir, name));
  }
  return binDir;
}

async function ensureToken(file: string): Promise<string> {
  if (existsSync(file)) {
    const token = (await readFile(file, 'utf8')).trim();
    if (token) return token;
  }
  const token = randomBytes(32).toString('base64url');
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  return token;
}

/** RFC 8414 section 3: the registration endpoint comes from the IdP's own metadata. */
async function discoverRegistrationEndpoint(issuer: string): Promise<string> {
  const response = await fetch(`${issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`embedded IdP discovery answered ${response.status}`);
  const metadata = (await response.json()) as { registration_endpoint?: string };
  if (!metadata.registration_endpoint) throw new Error('embedded IdP advertises no registration_endpoint');
  return metadata.registration_endpoint;
}

async function ensureNamespace(kubeConfig: KubeConfig, name: string): Promise<void> {
  try {
    await kubeConfig.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  } catch (error) {
    if (!isConflict(error)) throw error;
  }
}

async function upsertTokenSecret(kubeConfig: KubeConfig, name: string, token: string): Promise<void> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const body: V1Secret = {
    metadata: { name, namespace: OPERATOR_NAMESPACE, labels: { 'app.kubernetes.io/part-of': 'agent-identity-dev' } },
    type: 'Opaque',
    stringData: { token },
  };
  try {
    await core.replaceNamespacedSecret({ name, namespace: OPERATOR_NAMESPACE, body });
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await core.createNamespacedSecret({ namespace: OPERATOR_NAMESPACE, body });
  }
}
