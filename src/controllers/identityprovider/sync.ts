/**
 * One IdentityProvider reconcile: gather (object, Secrets, cached provider), plan, apply
 * (discovery through the adapter registry, only when the plan says so), report (status when
 * changed, an Event when Ready changed). Transient discovery failures throw after reporting, so
 * the key backs off; configuration problems are reported and wait for a watch event.
 */
import type { Logger } from 'pino';
import type { IdentityProvider } from '../../api/v1alpha1/index.ts';
import type { IdpAdapter, IdpAdapterConfig, IdpCallRecord } from '../../idp/adapter.ts';
import type { Clock } from '../../runtime/clock.ts';
import type { ReconcileResult } from '../../runtime/controller.ts';
import type { EventRecorder } from '../../runtime/events.ts';
import type { KubeClient } from '../../runtime/kube/client.ts';
import type { ResourceType } from '../../runtime/kube/types.ts';
import { patchStatusIfChanged } from '../../runtime/status.ts';
import { resolveCredentials } from './credentials.ts';
import type { SecretLookup } from './credentials.ts';
import {
  checkDiscoveredIssuer,
  classifyDiscoveryError,
  desiredStatus,
  discoveredMessage,
  fingerprint,
  planDiscovery,
  readyTransition,
  validateIssuer,
} from './plan.ts';
import type { Outcome } from './plan.ts';
import type { ProviderRegistry } from './providers.ts';

export type AdapterFactory = (type: string, config: IdpAdapterConfig) => IdpAdapter;

export interface SyncDeps {
  client: KubeClient;
  type: ResourceType;
  getIdentityProvider(name: string): IdentityProvider | undefined;
  secrets: SecretLookup;
  operatorNamespace: string;
  providers: ProviderRegistry;
  createAdapter: AdapterFactory;
  recorder: EventRecorder;
  clock: Clock;
  rediscoveryPeriodMs: number;
  /** Sees every IdP HTTP call (metrics; tests count calls). */
  onIdpCall?: (idp: string, call: IdpCallRecord) => void;
}

/** Failures that are not transient are looked at again after this long (the IdP may be fixed). */
const PERMANENT_FAILURE_RECHECK_MS = 5 * 60_000;

export async function syncIdentityProvider(deps: SyncDeps, name: string, log: Logger, signal: AbortSignal): Promise<ReconcileResult> {
  const idp = deps.getIdentityProvider(name);
  if (!idp || idp.metadata?.deletionTimestamp) {
    deps.providers.delete(name);
    return;
  }
  const now = deps.clock.now();
  const cached = deps.providers.entry(name);
  let outcome: Outcome;
  let requeueAfter: number | undefined;
  let print: string | undefined;
  let adapter: IdpAdapter | undefined;

  const issuerProblem = validateIssuer(idp.spec.issuer);
  const credentials = issuerProblem ? undefined : resolveCredentials(idp, deps.operatorNamespace, deps.secrets);
  if (issuerProblem) {
    outcome = { reason: 'InvalidIssuer', message: issuerProblem, transient: false };
  } else if (!credentials?.ok) {
    outcome = { reason: 'CredentialsMissing', message: credentials?.message ?? 'credentials unresolved', transient: false };
  } else {
    print = fingerprint(idp, credentials.config);
    const plan = planDiscovery(cached, print, now, deps.rediscoveryPeriodMs);
    if (plan.action === 'reuse' && cached?.state.ready) {
      adapter = cached.state.adapter;
      outcome = { reason: 'Discovered', discovered: cached.state.discovered, discoveredAt: cached.discoveredAt ?? now, message: cached.state.message };
      requeueAfter = plan.requeueAfter;
    } else {
      const onIdpCall = deps.onIdpCall;
      const config: IdpAdapterConfig = { ...credentials.config, ...(onIdpCall ? { onCall: (c: IdpCallRecord) => onIdpCall(name, c) } : {}) };
      try {
        // Always a fresh adapter: what status reports then comes from the IdP's metadata alone,
        // never from what an adapter instance learnt from one registration (the oidc adapter's
        // per-registration RFC 7592 observation), so capabilities do not flap between rebuilds.
        adapter = deps.createAdapter(idp.spec.type, config);
        const discovered = await adapter.discover(signal);
        outcome = checkDiscoveredIssuer(idp, discovered) ?? {
          reason: 'Discovered',
          discovered,
          discoveredAt: deps.clock.now(),
          message: discoveredMessage(discovered),
        };
        if (outcome.reason === 'Discovered') {
          requeueAfter = deps.rediscoveryPeriodMs;
          // Same configuration and same results: keep the adapter the other controllers hold (its
          // connections and what it learnt), so a periodic rediscovery wakes no AgentClient.
          if (cached?.state.ready && cached.fingerprint === print && JSON.stringify(cached.state.discovered) === JSON.stringify(discovered)) {
            adapter = cached.state.adapter;
          }
        }
      } catch (error) {
        outcome = classifyDiscoveryError(error);
      }
    }
  }

  if (outcome.reason === 'Discovered' && adapter) {
    deps.providers.set(name, {
      state: { ready: true, adapter, discovered: outcome.discovered, reason: 'Discovered', message: outcome.message, issuer: idp.spec.issuer },
      fingerprint: print,
      discoveredAt: outcome.discoveredAt,
    });
  } else if (outcome.reason !== 'Discovered') {
    deps.providers.set(name, {
      state: {
        ready: false,
        adapter: cached?.state.adapter,
        discovered: cached?.state.discovered,
        reason: outcome.reason,
        message: outcome.message,
        issuer: idp.spec.issuer,
      },
      fingerprint: undefined,
      discoveredAt: undefined,
    });
    if (!outcome.transient && outcome.reason !== 'CredentialsMissing') requeueAfter = PERMANENT_FAILURE_RECHECK_MS;
  }

  const status = desiredStatus(idp, outcome, new Date(deps.clock.now()));
  await patchStatusIfChanged(deps.client, deps.type, idp, status);
  const transition = readyTransition(idp.status, status);
  if (transition) {
    log.info({ reason: transition.reason }, 'IdentityProvider Ready changed');
    await deps.recorder.event(idp, transition.type, transition.reason, transition.message);
  }
  if (outcome.reason !== 'Discovered' && outcome.transient) {
    // Thrown after reporting, so the condition is visible while the key backs off.
    throw new DiscoveryRetry(outcome.message, outcome.retryAfterSeconds);
  }
  return requeueAfter === undefined ? undefined : { requeueAfter };
}

/** A transient discovery failure (already reported in status); the queue retries with backoff. */
export class DiscoveryRetry extends Error {
  override readonly name = 'DiscoveryRetry';
  /** Read by the work queue: never retry sooner than the IdP asked. */
  readonly retryAfterSeconds: number | undefined;

  constructor(message: string, retryAfterSeconds?: number) {
    super(message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
