/**
 * Pure decisions for an IdentityProvider: whether to (re)discover, and the status and Ready
 * condition that follow from what happened. No I/O; sync.ts gathers inputs and applies.
 *
 * Rediscovery happens only when the configuration changed (spec or a referenced Secret's
 * value, tracked by fingerprint) or the rediscovery period has passed: a resync or a restart
 * of an unchanged IdentityProvider never calls the IdP twice.
 *
 * Conditions follow kstatus' abnormal-true pattern (as AgentClient does), so Flux, Argo CD and
 * `kstatus` see failures: `Reconciling=True` while a transient failure is retried with backoff,
 * `Stalled=True` for failures that wait for a person (InvalidIssuer, CredentialsMissing,
 * Unsupported, a non-transient DiscoveryFailed such as an invalid discovery document); both are
 * removed once discovery succeeds.
 *
 * `lastDiscoveryTime` moves only when a successful discovery changed what status reports
 * (endpoints, scopes, capabilities): an hourly rediscovery or a restart that finds the same IdP
 * writes nothing, so steady state makes zero API writes. Ready=True says the last attempt worked.
 */
import { createHash } from 'node:crypto';
import type { DiscoveredProvider, IdpAdapterConfig } from '../../idp/adapter.ts';
import { isIdpError } from '../../idp/errors.ts';
import type { IdentityProvider, IdentityProviderStatus } from '../../api/v1alpha1/index.ts';
import { getCondition, removeCondition, setCondition } from '../../runtime/conditions.ts';
import { statusEqual } from '../../runtime/status.ts';
import type { ProviderEntry, ProviderReason } from './providers.ts';

export type Outcome =
  | { reason: 'Discovered'; discovered: DiscoveredProvider; discoveredAt: number; message: string }
  | {
      reason: Exclude<ProviderReason, 'Discovered' | 'NotFound' | 'Pending'>;
      message: string;
      transient: boolean;
      /** From the IdP's Retry-After, when it sent one. */
      retryAfterSeconds?: number;
    };

export type DiscoveryPlan = { action: 'reuse'; requeueAfter: number } | { action: 'discover' };

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * RFC 8414 section 2: the issuer is an https URL with no query or fragment; plain http only for
 * loopback development IdPs. Returns a message when invalid.
 */
export function validateIssuer(issuer: string): string | undefined {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    return `issuer ${JSON.stringify(issuer.slice(0, 256))} is not a URL`;
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    return `issuer must use https (http only for loopback hosts), got ${url.protocol}//${url.host}`;
  }
  if (url.search || url.hash) return 'issuer must not have a query or fragment (RFC 8414 section 2)';
  if (url.username || url.password) return 'issuer must not carry user info';
  return undefined;
}

/** A digest of everything the adapter is built from; secret values enter only hashed. */
export function fingerprint(idp: IdentityProvider, config: IdpAdapterConfig): string {
  const material = JSON.stringify([idp.spec, config.issuer, config.initialAccessToken, config.adminToken, config.caBundle, config.timeoutMs]);
  return createHash('sha256').update(material).digest('hex');
}

export function planDiscovery(cached: ProviderEntry | undefined, print: string, now: number, rediscoveryPeriodMs: number): DiscoveryPlan {
  if (!cached?.state.ready || cached.fingerprint !== print || cached.discoveredAt === undefined) return { action: 'discover' };
  const age = now - cached.discoveredAt;
  if (age >= rediscoveryPeriodMs) return { action: 'discover' };
  return { action: 'reuse', requeueAfter: rediscoveryPeriodMs - age };
}

/** Turn a discovery failure into a reason; only transient ones are retried with backoff. */
export function classifyDiscoveryError(error: unknown): Outcome {
  if (isIdpError(error)) {
    if (error.code === 'Unsupported') return { reason: 'Unsupported', message: error.message, transient: false };
    return {
      reason: 'DiscoveryFailed',
      message: `${error.code}: ${error.message}`,
      transient: error.transient,
      ...(error.retryAfterSeconds !== undefined ? { retryAfterSeconds: error.retryAfterSeconds } : {}),
    };
  }
  return { reason: 'DiscoveryFailed', message: 'discovery failed unexpectedly (see operator logs)', transient: true };
}

/** RFC 8414 section 3.3: the metadata's issuer must be identical to the configured one. */
export function checkDiscoveredIssuer(idp: IdentityProvider, discovered: DiscoveredProvider): Outcome | undefined {
  if (discovered.issuer === idp.spec.issuer) return undefined;
  return {
    reason: 'InvalidIssuer',
    message: `discovery document names issuer ${discovered.issuer}, not ${idp.spec.issuer} (RFC 8414 section 3.3)`,
    transient: false,
  };
}

const seconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The status an outcome leads to. Failures keep the last discovered endpoints, marked not Ready. */
export function desiredStatus(idp: IdentityProvider, outcome: Outcome, now: Date): IdentityProviderStatus {
  const previous = idp.status ?? {};
  const generation = idp.metadata?.generation;
  const ready = outcome.reason === 'Discovered';
  const condition = (type: string) => ({ type, status: 'True' as const, reason: outcome.reason, message: outcome.message, observedGeneration: generation });
  let conditions = setCondition(previous.conditions, { ...condition('Ready'), status: ready ? 'True' : 'False' }, now);
  const retrying = !ready && outcome.transient;
  const stalled = !ready && !outcome.transient;
  conditions = retrying ? setCondition(conditions, condition('Reconciling'), now) : removeCondition(conditions, 'Reconciling');
  conditions = stalled ? setCondition(conditions, condition('Stalled'), now) : removeCondition(conditions, 'Stalled');
  const status: IdentityProviderStatus = { ...previous, observedGeneration: generation, conditions };
  if (outcome.reason === 'Discovered') {
    const d = outcome.discovered;
    status.endpoints = {
      issuer: d.issuer,
      tokenEndpoint: d.tokenEndpoint,
      registrationEndpoint: d.registrationEndpoint,
      revocationEndpoint: d.revocationEndpoint,
      introspectionEndpoint: d.introspectionEndpoint,
      jwksUri: d.jwksUri,
    };
    status.scopesSupported = d.scopesSupported ? [...d.scopesSupported].sort() : undefined;
    status.capabilities = { ...d.capabilities };
    const unchanged =
      previous.lastDiscoveryTime !== undefined &&
      statusEqual([previous.endpoints, previous.scopesSupported, previous.capabilities], [status.endpoints, status.scopesSupported, status.capabilities]);
    status.lastDiscoveryTime = unchanged ? previous.lastDiscoveryTime : seconds(outcome.discoveredAt);
  }
  return status;
}

export function discoveredMessage(d: DiscoveredProvider): string {
  const on = Object.entries(d.capabilities)
    .filter(([, v]) => v)
    .map(([k]) => k)
    .sort();
  return `Discovered ${d.issuer}; capabilities: ${on.length ? on.join(', ') : 'none'}`;
}

/** The Event to record when Ready changed status or reason; none otherwise. */
export function readyTransition(
  before: IdentityProviderStatus | undefined,
  after: IdentityProviderStatus,
): { type: 'Normal' | 'Warning'; reason: string; message: string } | undefined {
  const a = getCondition(before?.conditions, 'Ready');
  const b = getCondition(after.conditions, 'Ready');
  if (!b || (a && a.status === b.status && a.reason === b.reason)) return undefined;
  return { type: b.status === 'True' ? 'Normal' : 'Warning', reason: b.reason, message: b.message };
}
