/**
 * What every controller factory receives. Controllers take their dependencies from here (never
 * from module state), so tests build them with real or small fake parts.
 */
import type { Logger } from 'pino';
import type { IdpCallRecord } from '../idp/adapter.ts';
import type { Clock } from '../runtime/clock.ts';
import type { AnyController } from '../runtime/controller.ts';
import type { EventRecorder } from '../runtime/events.ts';
import type { InformerFactory } from '../runtime/informers.ts';
import type { KubeClient } from '../runtime/kube/client.ts';
import type { Metrics } from '../runtime/metrics.ts';
import type { AddOptions } from '../runtime/queue/queue.ts';
import type { ProviderRegistry } from './identityprovider/providers.ts';
import type { AdapterFactory } from './identityprovider/sync.ts';

export interface OperatorSettings {
  /** Where operator-owned Secrets, the Lease and IdP credential Secrets live. */
  operatorNamespace: string;
  /** With no matching ConsentPolicy, allow the requested scopes (default false: deny). */
  allowNoPolicy: boolean;
  /** How often an unchanged IdentityProvider is rediscovered. */
  idpRediscoveryPeriodMs: number;
  /** Cluster name used in registrations' software_id. */
  clusterName: string;
  /**
   * How often each registration is read back from the IdP (RFC 7592) to catch drift made there;
   * 0 disables the periodic read (spec and policy changes are still pushed).
   */
  registrationResyncMs: number;
  /**
   * Label selector limiting which IdentityProviders this operator reconciles (sharding, or
   * several operators on one API server as in the integration tests); absent = all.
   */
  identityProviderSelector?: string;
}

export interface ControllerDeps {
  client: KubeClient;
  informers: InformerFactory;
  recorder: EventRecorder;
  metrics: Metrics;
  clock: Clock;
  log: Logger;
  settings: OperatorSettings;
  /** Ready IdP adapters by IdentityProvider name. */
  providers: ProviderRegistry;
  /** Builds an adapter for an IdentityProvider type (src/idp/registry.ts in production). */
  createAdapter: AdapterFactory;
  /** Sees every IdP HTTP call (feeds the IdP latency metric; tests and the benchmark count calls). */
  onIdpCall: (idp: string, call: IdpCallRecord) => void;
  /** Queue a key on a controller by name (e.g. priority work from a revocation). */
  enqueue(controller: string, key: string, options?: AddOptions): void;
}

export type ControllerFactory = (deps: ControllerDeps) => AnyController;
