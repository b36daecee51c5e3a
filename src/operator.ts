/**
 * The operator as a library: build the client, the manager and every registered controller, and
 * the probe/metrics servers. `main.ts` calls this for the real process; integration tests, the
 * benchmark and the dev stack call it to run the operator in-process.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
// Type only: the operator process must not load client-node (~85 MiB of RSS); see kubeconfig.ts.
import type { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import type { Logger } from 'pino';
import { controllerFactories } from './controllers/index.ts';
import type { ControllerDeps, ControllerFactory } from './controllers/index.ts';
import { ProviderRegistry } from './controllers/identityprovider/providers.ts';
import type { AdapterFactory } from './controllers/identityprovider/sync.ts';
import { createAdapter } from './idp/registry.ts';
import type { Clock } from './runtime/clock.ts';
import { startServer } from './runtime/http-server.ts';
import type { RunningServer } from './runtime/http-server.ts';
import type { KubeClient } from './runtime/kube/client.ts';
import { HttpKubeClient } from './runtime/kube/http.ts';
import { loadKubeconfig } from './runtime/kube/kubeconfig.ts';
import type { KubeConnectionSource } from './runtime/kube/kubeconfig.ts';
import { Manager } from './runtime/manager.ts';
import { createMetrics } from './runtime/metrics.ts';
import type { Metrics } from './runtime/metrics.ts';

export interface OperatorOptions {
  /** Operator namespace: IdP credential Secrets, operator-owned Secrets, the Lease. */
  namespace: string;
  /**
   * One of: a connection source (`runtime/kube/kubeconfig.ts`), a client-node KubeConfig (tests and
   * tools; the caller has loaded client-node already), a kubeconfig file, or (none) $KUBECONFIG,
   * in-cluster, ~/.kube/config.
   */
  kubeConfig?: KubeConfig | KubeConnectionSource;
  kubeconfigPath?: string;
  /** Wrap the API client (e.g. with `countingClient`) before anything uses it. */
  wrapClient?: (client: KubeClient) => KubeClient;
  leaderElect?: boolean;
  leaseName?: string;
  /** Leader-election identity; default hostname plus a random suffix. */
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** `:8080`, `127.0.0.1:0`; '' or '0' disables. Default ':8080'. */
  metricsBindAddress?: string;
  /** Default ':8081'. May equal metricsBindAddress' port only if the same server is wanted: use distinct ones. */
  healthProbeBindAddress?: string;
  /** Normal-lane workers per controller. Default 16. */
  concurrency?: number;
  log?: Logger;
  logLevel?: string;
  allowNoPolicy?: boolean;
  /** Default 1 h. */
  idpRediscoveryPeriodMs?: number;
  clusterName?: string;
  /** Periodic RFC 7592 drift read of each registration; default 10 min, 0 disables. */
  registrationResyncMs?: number;
  /** Reconcile only IdentityProviders matching this label selector (default: all). */
  identityProviderSelector?: string;
  createAdapter?: AdapterFactory;
  clock?: Clock;
  metrics?: Metrics;
  /** Default: every registered controller (src/controllers/index.ts). */
  controllers?: readonly ControllerFactory[];
  shutdownDeadlineMs?: number;
  /** Default: stop the operator. main.ts exits the process instead (a restart rejoins the election). */
  onLostLeadership?: () => void;
}

export interface RunningOperator {
  manager: Manager;
  metrics: Metrics;
  providers: ProviderRegistry;
  client: KubeClient;
  log: Logger;
  /** Base URLs of the servers (when enabled). */
  metricsUrl: string | undefined;
  healthUrl: string | undefined;
  /** Graceful stop: finish in-flight work, release the lease, close servers. Idempotent. */
  stop(): Promise<void>;
}

function connectionSource(options: OperatorOptions): Promise<KubeConfig | KubeConnectionSource> {
  if (options.kubeConfig) return Promise.resolve(options.kubeConfig);
  return loadKubeconfig(options.kubeconfigPath ? { file: options.kubeconfigPath } : {});
}

/** Start the operator; resolves once its caches are synced (and workers run, if leading). */
export async function startOperator(options: OperatorOptions): Promise<RunningOperator> {
  const log = options.log ?? pino({ level: options.logLevel ?? 'info', base: { component: 'agent-identity-operator' } });
  const http = new HttpKubeClient(await connectionSource(options), { maxSockets: Math.max(64, (options.concurrency ?? 16) * 4) });
  const client = options.wrapClient ? options.wrapClient(http) : http;
  const metrics = options.metrics ?? createMetrics();
  let stopping: Promise<void> | undefined;
  const manager = new Manager({
    client,
    log,
    metrics,
    concurrency: options.concurrency ?? 16,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.shutdownDeadlineMs !== undefined ? { shutdownDeadlineMs: options.shutdownDeadlineMs } : {}),
    ...(options.leaderElect
      ? {
          leaderElection: {
            namespace: options.namespace,
            name: options.leaseName ?? 'agent-identity-operator-leader',
            identity: options.identity ?? `${os.hostname()}_${randomBytes(4).toString('hex')}`,
            ...(options.leaseDurationMs ? { leaseDurationMs: options.leaseDurationMs } : {}),
            ...(options.renewDeadlineMs ? { renewDeadlineMs: options.renewDeadlineMs } : {}),
            ...(options.retryPeriodMs ? { retryPeriodMs: options.retryPeriodMs } : {}),
          },
        }
      : {}),
    onLostLeadership: options.onLostLeadership ?? (() => void stop()),
  });
  const providers = new ProviderRegistry();
  const deps: ControllerDeps = {
    client,
    informers: manager.informers,
    recorder: manager.recorder,
    metrics,
    clock: manager.clock,
    log,
    settings: {
      operatorNamespace: options.namespace,
      allowNoPolicy: options.allowNoPolicy ?? false,
      idpRediscoveryPeriodMs: options.idpRediscoveryPeriodMs ?? 3600_000,
      clusterName: options.clusterName ?? 'default',
      registrationResyncMs: options.registrationResyncMs ?? 10 * 60_000,
      ...(options.identityProviderSelector ? { identityProviderSelector: options.identityProviderSelector } : {}),
    },
    providers,
    createAdapter: options.createAdapter ?? createAdapter,
    onIdpCall: (idp, call) =>
      metrics.idpRequestDuration.observe({ idp, operation: call.operation, status: call.errorCode ?? 'ok' }, call.durationMs / 1000),
    enqueue: (controller, key, opts) => manager.enqueue(controller, key, opts),
  };
  for (const factory of options.controllers ?? controllerFactories) manager.add(factory(deps));

  const servers: RunningServer[] = [];
  const metricsServer = await startServer(options.metricsBindAddress ?? ':8080', { metrics: metrics.registry });
  if (metricsServer) servers.push(metricsServer);
  const healthServer = await startServer(options.healthProbeBindAddress ?? ':8081', {
    healthz: () => manager.healthz(),
    readyz: () => manager.readyz(),
  });
  if (healthServer) servers.push(healthServer);

  function stop(): Promise<void> {
    stopping ??= (async () => {
      await manager.stop();
      await Promise.all(servers.map((s) => s.close()));
      http.close();
    })();
    return stopping;
  }

  try {
    await manager.start();
  } catch (error) {
    await stop();
    throw error;
  }
  return { manager, metrics, providers, client, log, metricsUrl: metricsServer?.url, healthUrl: healthServer?.url, stop };
}
