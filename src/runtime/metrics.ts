/**
 * The operator's Prometheus metrics, on a registry of its own (not prom-client's global one) so
 * that several operators in one test process do not collide. Other parts record through this
 * object; `/metrics` serves `registry`.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  /** result: success | requeue | error */
  readonly reconcileTotal: Counter<'controller' | 'result'>;
  readonly reconcileDuration: Histogram<'controller'>;
  /** lane: priority | normal | delayed | active; filled on scrape from the queues. */
  readonly workqueueDepth: Gauge<'controller' | 'lane'>;
  /** status: `ok` or the IdpError code. */
  readonly idpRequestDuration: Histogram<'idp' | 'operation' | 'status'>;
  /** From a GrantRevocation's creation to its completion at the IdP. */
  readonly revocationLatency: Histogram<string>;
  /** Events not recorded because the background Event queue was full (event-queue.ts). */
  readonly eventsDropped: Counter<string>;
  /** Events queued or being written (filled on scrape). */
  readonly eventsPending: Gauge<string>;
  /** Register a callback that reports queue depths on each scrape. */
  addDepthSource(source: () => Iterable<{ controller: string; lane: string; depth: number }>): void;
  /** Register the callback that reports the background Event queue's backlog on each scrape. */
  setEventBacklogSource(source: () => number): void;
}

export interface MetricsOptions {
  /** Also collect Node process metrics (heap, RSS, event loop lag). Default true. */
  processMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const depthSources: (() => Iterable<{ controller: string; lane: string; depth: number }>)[] = [];
  let eventBacklog: () => number = () => 0;
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const workqueueDepth = new Gauge({
    name: 'agentidentity_workqueue_depth',
    help: 'Keys waiting (priority, normal), scheduled for later (delayed) and running (active), per controller',
    labelNames: ['controller', 'lane'] as const,
    registers: [registry],
    collect() {
      for (const source of depthSources) {
        for (const d of source()) this.set({ controller: d.controller, lane: d.lane }, d.depth);
      }
    },
  });
  return {
    registry,
    reconcileTotal: new Counter({
      name: 'agentidentity_reconcile_total',
      help: 'Reconciles per controller and result (success, requeue, error)',
      labelNames: ['controller', 'result'] as const,
      registers: [registry],
    }),
    reconcileDuration: new Histogram({
      name: 'agentidentity_reconcile_duration_seconds',
      help: 'Reconcile duration per controller',
      labelNames: ['controller'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    workqueueDepth,
    idpRequestDuration: new Histogram({
      name: 'agentidentity_idp_request_duration_seconds',
      help: 'IdP call duration per IdentityProvider, operation and status (ok or IdpError code)',
      labelNames: ['idp', 'operation', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    revocationLatency: new Histogram({
      name: 'agentidentity_revocation_latency_seconds',
      help: 'Time from a GrantRevocation being created to its completion at the IdP',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers: [registry],
    }),
    eventsDropped: new Counter({
      name: 'agentidentity_events_dropped_total',
      help: 'Events dropped because the background Event queue was full',
      registers: [registry],
    }),
    eventsPending: new Gauge({
      name: 'agentidentity_events_pending',
      help: 'Events queued or being written by the background Event queue',
      registers: [registry],
      collect() {
        this.set(eventBacklog());
      },
    }),
    addDepthSource: (source) => void depthSources.push(source),
    setEventBacklogSource: (source) => void (eventBacklog = source),
  };
}
