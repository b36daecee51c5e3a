/**
 * Operator entry point: `node src/main.ts [flags]` (or `node dist/main.js`). Flags fall back to
 * environment variables where a Deployment sets them (POD_NAMESPACE).
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { parseDuration } from './api/duration.ts';
import { startOperator } from './operator.ts';

const USAGE = `agent-identity-operator

  --kubeconfig PATH                  kubeconfig (default: $KUBECONFIG, in-cluster, ~/.kube/config)
  --namespace NS                     operator namespace (default $POD_NAMESPACE or agent-identity-system)
  --leader-elect                     run leader election on a Lease (for more than one replica)
  --metrics-bind-address ADDR        Prometheus /metrics (default :8080; 0 disables)
  --health-probe-bind-address ADDR   /healthz and /readyz (default :8081; 0 disables)
  --concurrency N                    workers per controller (default 16)
  --log-level LEVEL                  trace|debug|info|warn|error (default info)
  --allow-no-policy                  allow requested scopes when no ConsentPolicy matches (default: deny)
  --idp-rediscovery-period DURATION  rediscover unchanged IdentityProviders this often (default 1h)
  --cluster-name NAME                names this cluster in registrations' software_id (default "default")
  --registration-resync-period DURATION
                                     read each registration back from the IdP this often to catch
                                     drift made there (default 10m; 0 disables)
  --identity-provider-selector SEL   reconcile only IdentityProviders matching this label selector
                                     (sharding; default: all)
  --shutdown-timeout DURATION        how long in-flight work may run after SIGTERM (default 20s)
`;

const { values } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    namespace: { type: 'string' },
    'leader-elect': { type: 'boolean', default: false },
    'metrics-bind-address': { type: 'string', default: ':8080' },
    'health-probe-bind-address': { type: 'string', default: ':8081' },
    concurrency: { type: 'string', default: '16' },
    'log-level': { type: 'string', default: 'info' },
    'allow-no-policy': { type: 'boolean', default: false },
    'idp-rediscovery-period': { type: 'string', default: '1h' },
    'cluster-name': { type: 'string', default: 'default' },
    'registration-resync-period': { type: 'string', default: '10m' },
    'shutdown-timeout': { type: 'string', default: '20s' },
    'identity-provider-selector': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});

if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

// Asynchronous stdout: a burst's log lines are written together instead of one blocking write
// each; pino flushes what is pending when the process exits (also after a fatal line).
const log = pino({ level: values['log-level'], base: { component: 'agent-identity-operator' } }, pino.destination({ dest: 1, sync: false }));
const concurrency = Number(values.concurrency);
if (!Number.isInteger(concurrency) || concurrency < 1) {
  log.fatal({ concurrency: values.concurrency }, '--concurrency must be a positive integer');
  process.exit(2);
}

try {
  const operator = await startOperator({
    namespace: values.namespace ?? process.env['POD_NAMESPACE'] ?? 'agent-identity-system',
    ...(values.kubeconfig ? { kubeconfigPath: values.kubeconfig } : {}),
    leaderElect: values['leader-elect'],
    metricsBindAddress: values['metrics-bind-address'],
    healthProbeBindAddress: values['health-probe-bind-address'],
    concurrency,
    log,
    allowNoPolicy: values['allow-no-policy'],
    idpRediscoveryPeriodMs: parseDuration(values['idp-rediscovery-period']),
    clusterName: values['cluster-name'],
    registrationResyncMs: values['registration-resync-period'] === '0' ? 0 : parseDuration(values['registration-resync-period']),
    shutdownDeadlineMs: parseDuration(values['shutdown-timeout']),
    ...(values['identity-provider-selector'] ? { identityProviderSelector: values['identity-provider-selector'] } : {}),
    onLostLeadership: () => {
      // client-go's behaviour: a replica that lost the lease exits and rejoins after a restart.
      log.fatal('lost leadership; exiting');
      process.exit(1);
    },
  });
  log.info({ metrics: operator.metricsUrl, health: operator.healthUrl }, 'operator started');
  let signalled = false;
  const shutdown = (signal: string): void => {
    if (signalled) {
      log.warn({ signal }, 'second signal; exiting now');
      process.exit(1);
    }
    signalled = true;
    log.info({ signal }, 'shutting down: finishing in-flight work');
    operator.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
} catch (error) {
  log.fatal({ err: error }, 'operator failed to start');
  process.exit(1);
}
