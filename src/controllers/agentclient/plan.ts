/**
 * The AgentClient state machine, pure: from what we want and what we observed to the ONE next
 * step. The sync applies that step (one IdP call or one write, each persisted before the next),
 * folds its result into the observation and asks again, so a crash between any two steps resumes
 * from what was durably recorded. Nothing here does I/O or reads a clock.
 */
import type { DiscoveredProvider, Registration } from '../../idp/adapter.ts';
import type { CeilingEvaluation } from './ceiling.ts';
import type { RevocationHolds } from '../grantrevocation/holds.ts';
import type { KeyAlgorithm } from './types.ts';
import type { AgentClient } from './types.ts';
import { effectiveAuthMethod, parseSoftwareId } from './metadata.ts';
import type { RegistrationRecord } from './registration-store.ts';
import type { SecretOwnership } from './secret.ts';
import { clientAccessStep } from './nothing-allowed.ts';
import { NAMESPACE_UNKNOWN } from './ceiling.ts';
import { unenforceableCeiling } from './enforcement.ts';

export const FINALIZER = 'agentidentity.dev/registration';
export const ROTATE_ANNOTATION = 'agentidentity.dev/rotate';
export const SKIP_IDP_CLEANUP_ANNOTATION = 'agentidentity.dev/skip-idp-cleanup';
/**
 * Written by the operator with its finalizer on a new AgentClient: the time of the first register
 * intent. While no registration record exists, it stands for an intent record (sync.ts), so a
 * registration interrupted before its record was saved is searched for, adopted or cleaned up.
 */
export const REGISTRATION_INTENT_ANNOTATION = 'agentidentity.dev/registration-intent';

export interface ProviderState {
  found: boolean;
  ready: boolean;
  reason?: string;
  message?: string;
  discovered?: DiscoveredProvider;
}

/** A non-transient failure remembered so the same call is not retried hot. */
export interface Blocked {
  reason: string;
  message: string;
}

export interface Observation {
  agent: AgentClient;
  /** Milliseconds since the epoch. */
  now: number;
  provider: ProviderState;
  record: RegistrationRecord | null;
  secret: { ownership: SecretOwnership; upToDate: boolean };
  /** RFC 7592 read made during this sync (null registration: gone at the IdP). */
  remote?: { registration: Registration | null };
  /** findBySoftwareId made during this sync: null when the IdP cannot list. */
  search?: Registration[] | null;
  /** The pending register intent is known not to have reached the IdP (written or refused in this process). */
  intentSettled: boolean;
  /** A registration update was sent during this sync (never sent twice in one sync). */
  updated: boolean;
  /** Metadata fields where the IdP differs from the desired registration (set after a read). */
  drift?: string[];
  /** Generation and time of the last successful RFC 7592 read or write, as this process knows it. */
  verifiedGeneration?: number;
  lastVerifiedAt?: number;
  resyncPeriodMs: number;
  rotationPeriodMs?: number;
  /** A non-transient IdP failure for this generation: wait for a change, no hot retry. */
  blocked?: Blocked;
  /** The ceiling and lifetimes the ConsentPolicies allow (what is registered; see policy.ts). */
  ceiling: CeilingEvaluation;
  /** The policy's outcome differs from what the IdP was last known to hold: read and update it. */
  policyChanged: boolean;
  /** GrantRevocation holds on this AgentClient (grantrevocation/holds.ts); none when absent. */
  holds?: RevocationHolds;
  /** The client is disabled at the IdP because no ConsentPolicy allows anything (nothing-allowed.ts). */
  policyDisabled?: boolean;
}

export type Action =
  /**
   * `withIntent`: a new AgentClient whose next step would be its first register intent: the
   * intent goes into the same patch as the finalizer (REGISTRATION_INTENT_ANNOTATION), and the
   * record is first written after the IdP answered (one API write fewer per new agent).
   */
  | { type: 'addFinalizer'; withIntent?: { keyAlgorithm: KeyAlgorithm | null } }
  | { type: 'prepareRegistration'; keyAlgorithm: KeyAlgorithm | null }
  | { type: 'searchRegistrations' }
  | { type: 'adopt'; registration: Registration; extras: Registration[] }
  | { type: 'register'; possibleOrphan: boolean }
  | { type: 'readRegistration' }
  | { type: 'updateRegistration'; fields: string[] }
  | { type: 'forgetRegistration' }
  | { type: 'beginRotation'; keyAlgorithm: KeyAlgorithm; request?: string }
  | { type: 'completeRotation' }
  | { type: 'endOverlap' }
  | { type: 'declineRotation'; request: string }
  | { type: 'setPolicyDisabled'; disabled: boolean }
  | { type: 'writeSecret' }
  | { type: 'deleteRegistration' }
  | { type: 'deleteRegistrations'; registrations: Registration[] }
  | { type: 'releaseSecret' }
  | { type: 'deleteSecret' }
  | { type: 'deleteRecord' }
  | { type: 'removeFinalizer' };

/** Why the sync stopped short of Ready; becomes conditions in the report. */
export type Wait =
  | 'IdentityProviderNotReady'
  | 'IdentityProviderChanged'
  | 'SecretConflict'
  | 'OwnedByAnotherResource'
  | 'RegistrationUnsupported'
  | 'AuthMethodUnsupported'
  | 'Blocked'
  | 'NoScopesAllowed'
  /** The spec changed registered fields, but the registration has no RFC 7592 token to update it. */
  | 'RegistrationNotUpdatable'
  | 'DeletionBlocked'
  /** A GrantRevocation deleted the registration and still exists: no re-registration. */
  | 'DeletedByRevocation';

export type Step = { action: Action } | { wait: Wait } | { done: true };

export function isDeleting(agent: AgentClient): boolean {
  return agent.metadata.deletionTimestamp !== undefined && agent.metadata.deletionTimestamp !== null;
}

export function hasFinalizer(agent: AgentClient): boolean {
  return (agent.metadata.finalizers ?? []).includes(FINALIZER);
}

export function keyAlgorithm(agent: AgentClient): KeyAlgorithm {
  return agent.spec.credentials?.keyAlgorithm ?? 'ES256';
}

/** The rotation request not yet handled: the annotation's value when it differs from the last one handled. */
export function pendingRotationRequest(agent: AgentClient, record: RegistrationRecord | null): string | undefined {
  const value = agent.metadata.annotations?.[ROTATE_ANNOTATION];
  return value && value !== record?.lastRotationRequest ? value : undefined;
}

/** When the next scheduled rotation is due (ms), if a rotation period is set. */
export function nextRotationAt(record: RegistrationRecord | null, rotationPeriodMs: number | undefined): number | undefined {
  const base = record?.lastRotationTime ?? record?.registeredAt;
  if (!rotationPeriodMs || !base) return undefined;
  return Date.parse(base) + rotationPeriodMs;
}

export function overlapEnded(record: RegistrationRecord | null, now: number): boolean {
  return Boolean(record?.previousKey && record.overlapUntil && Date.parse(record.overlapUntil) <= now);
}

/** The registrations a software_id search returned that are provably this object's. */
export function ownMatches(search: Registration[], softwareId: string): Registration[] {
  return search.filter((registration) => registration.metadata.software_id === softwareId);
}

/** Adopt the registration holding our current key if any, else the oldest; the rest are extras. */
export function chooseAdoption(matches: Registration[], kid: string | undefined): { registration: Registration; extras: Registration[] } {
  const holdsKey = (r: Registration): boolean => Boolean(kid && (r.metadata.jwks?.keys ?? []).some((k) => k.kid === kid));
  const sorted = [...matches].sort((a, b) => Number(holdsKey(b)) - Number(holdsKey(a)) || (a.clientIdIssuedAt ?? 0) - (b.clientIdIssuedAt ?? 0));
  const [registration, ...extras] = sorted as [Registration, ...Registration[]];
  return { registration, extras };
}

/**
 * Whether we could hold an adopted registration's credentials: we need its registration token
 * to manage it, and for client_secret_basic the IdP must have told us the secret (our key is
 * put into the registration by the update that follows adoption).
 */
export function canHold(registration: Registration, method: string): boolean {
  if (!registration.handle.registrationAccessToken || !registration.handle.registrationClientUri) return false;
  return method !== 'client_secret_basic' || Boolean(registration.clientSecret);
}

/**
 * Whether we can read and update this registration (RFC 7592): decided per registration, by the
 * registration token and URI the IdP gave us, not by what discovery guessed for the IdP.
 */
export function manageable(record: RegistrationRecord | null): boolean {
  return Boolean(record?.registrationAccessToken && record.registrationClientUri);
}

function verifyDue(obs: Observation): boolean {
  const generation = obs.agent.metadata.generation;
  const verified = obs.verifiedGeneration ?? obs.agent.status?.observedGeneration;
  if (generation !== verified) return true;
  // A ConsentPolicy or Namespace change alters the ceiling without touching the AgentClient.
  if (obs.policyChanged) return true;
  if (obs.lastVerifiedAt === undefined) return true;
  // A period of 0 turns the periodic read off (operator flag --registration-resync-period).
  return obs.resyncPeriodMs > 0 && obs.now - obs.lastVerifiedAt >= obs.resyncPeriodMs;
}

/** The next step for an AgentClient that is being deleted. */
export function planDeletion(obs: Observation): Step {
  const { agent, record } = obs;
  if (!hasFinalizer(agent)) return { done: true };
  const policy = agent.spec.deletionPolicy ?? 'Delete';
  const skipIdp = agent.metadata.annotations?.[SKIP_IDP_CLEANUP_ANNOTATION] === 'true';
  if (policy === 'Delete' && !skipIdp && record) {
    const unsettledIntent = !record.clientId && record.intent?.op === 'register' && !obs.intentSettled;
    // A registration without RFC 7592 cannot be deleted by us: it is left (apply.ts says so).
    if ((record.clientId && manageable(record)) || unsettledIntent) {
      if (!obs.provider.ready) return { wait: 'DeletionBlocked' };
      if (obs.blocked) return { wait: 'DeletionBlocked' };
      if (record.clientId) return { action: { type: 'deleteRegistration' } };
      if (obs.search === undefined) return { action: { type: 'searchRegistrations' } };
      const matches = obs.search ? ownMatches(obs.search, record.softwareId) : [];
      if (matches.length > 0) return { action: { type: 'deleteRegistrations', registrations: matches } };
    }
  }
  if (obs.secret.ownership === 'owned') return { action: { type: policy === 'Orphan' ? 'releaseSecret' : 'deleteSecret' } };
  if (record) return { action: { type: 'deleteRecord' } };
  return { action: { type: 'removeFinalizer' } };
}

function planUnregistered(obs: Observation, record: RegistrationRecord | null): Step {
  const caps = obs.provider.discovered?.capabilities;
  if (caps && !caps.registration) return { wait: 'RegistrationUnsupported' };
  if (obs.secret.ownership === 'foreign') return { wait: 'SecretConflict' };
  // ConsentPolicy allows nothing: RFC 7591 cannot register an empty ceiling (an absent `scope`
  // means the IdP's default), so no client is registered until a policy allows a scope. An
  // interrupted registration is still resolved first.
  if (obs.ceiling.granted.length === 0 && (record?.intent?.op !== 'register' || obs.intentSettled)) return { wait: 'NoScopesAllowed' };
  const method = effectiveAuthMethod(obs.agent);
  const needsKey = method === 'private_key_jwt' && !record?.key;
  if (!record || record.intent?.op !== 'register' || needsKey) {
    return { action: { type: 'prepareRegistration', keyAlgorithm: needsKey ? keyAlgorithm(obs.agent) : null } };
  }
  if (obs.intentSettled) return { action: { type: 'register', possibleOrphan: false } };
  if (obs.search === undefined) return { action: { type: 'searchRegistrations' } };
  if (obs.search === null) return { action: { type: 'register', possibleOrphan: true } };
  const matches = ownMatches(obs.search, record.softwareId);
  const adoptable = matches.filter((r) => canHold(r, method));
  if (adoptable.length > 0) {
    const { registration } = chooseAdoption(adoptable, record.key?.kid);
    const extras = matches.filter((r) => r !== registration);
    return { action: { type: 'adopt', registration, extras } };
  }
  if (matches.length > 0) return { action: { type: 'deleteRegistrations', registrations: matches } };
  return { action: { type: 'register', possibleOrphan: false } };
}

function planRotation(obs: Observation, record: RegistrationRecord, management: boolean): Step | undefined {
  const method = effectiveAuthMethod(obs.agent);
  if (record.intent?.op === 'rotate' && record.pendingKey) return { action: { type: 'completeRotation' } };
  if (method === 'private_key_jwt' && !record.key) return { action: { type: 'beginRotation', keyAlgorithm: keyAlgorithm(obs.agent) } };
  if (overlapEnded(record, obs.now) && management) return { action: { type: 'endOverlap' } };
  const request = pendingRotationRequest(obs.agent, record);
  const canRotate = method === 'private_key_jwt' && management;
  if (request !== undefined) {
    return canRotate
      ? { action: { type: 'beginRotation', keyAlgorithm: keyAlgorithm(obs.agent), request } }
      : { action: { type: 'declineRotation', request } };
  }
  const due = nextRotationAt(record, obs.rotationPeriodMs);
  if (canRotate && due !== undefined && due <= obs.now) return { action: { type: 'beginRotation', keyAlgorithm: keyAlgorithm(obs.agent) } };
  return undefined;
}

/** Whether the ceiling is held because the AgentClient's Namespace is not in the cache yet. */
export function namespaceUnknown(obs: Pick<Observation, 'ceiling'>): boolean {
  return obs.ceiling.held && obs.ceiling.policyCompliant.reason === NAMESPACE_UNKNOWN;
}

/**
 * For an AgentClient without our finalizer and without a record: the intent the step after the
 * finalizer would write, so both go out in one patch. The finalizer and the intent still precede
 * every IdP call, which is what they protect.
 */
function firstIntent(obs: Observation): { withIntent?: { keyAlgorithm: KeyAlgorithm | null } } {
  if (obs.record !== null) return {};
  const agent = { ...obs.agent, metadata: { ...obs.agent.metadata, finalizers: [...(obs.agent.metadata.finalizers ?? []), FINALIZER] } };
  const next = plan({ ...obs, agent });
  return 'action' in next && next.action.type === 'prepareRegistration' ? { withIntent: { keyAlgorithm: next.action.keyAlgorithm } } : {};
}

/** The next step for a live AgentClient. */
export function plan(obs: Observation): Step {
  if (isDeleting(obs.agent)) return planDeletion(obs);
  if (!hasFinalizer(obs.agent)) return { action: { type: 'addFinalizer', ...firstIntent(obs) } };
  const { record, provider } = obs;
  // GrantRevocation holds (grantrevocation/suspension.ts), whatever a GitOps re-apply did to this
  // object: a registration a revocation deleted is not registered again, and a suspended agent
  // gets no Secret (its own is removed if it came back), while the GrantRevocation exists.
  if (obs.holds?.deletedBy.length) return { wait: 'DeletedByRevocation' };
  const suspended = (obs.holds?.suspendedBy.length ?? 0) > 0;
  // A ceiling the IdP cannot be made to hold (enforcement.ts): the Secret is withheld the same way.
  const withheld = suspended || unenforceableCeiling(obs) !== undefined;
  if (withheld && obs.secret.ownership === 'owned') return { action: { type: 'deleteSecret' } };
  const registered = Boolean(record?.clientId);
  const secretStep: Step | undefined =
    registered && !withheld && obs.secret.ownership !== 'foreign' && !obs.secret.upToDate ? { action: { type: 'writeSecret' } } : undefined;

  if (!provider.ready || !provider.discovered) return secretStep ?? { wait: 'IdentityProviderNotReady' };
  if (registered && record?.issuer && record.issuer !== provider.discovered.issuer) return secretStep ?? { wait: 'IdentityProviderChanged' };
  if (obs.blocked) return secretStep ?? { wait: 'Blocked' };
  const caps = provider.discovered.capabilities;
  if (effectiveAuthMethod(obs.agent) === 'private_key_jwt' && !caps.jwks) return secretStep ?? { wait: 'AuthMethodUnsupported' };
  if (!record?.clientId) return planUnregistered(obs, record);
  // ConsentPolicy allows nothing: cut the client off before any other IdP work.
  const cut = clientAccessStep(obs, 'disable');
  if (cut) return { action: cut };

  const management = caps.management && manageable(record);
  const rotation = planRotation(obs, record, management);
  if (rotation) return rotation;
  // The Namespace is not in the cache: which ConsentPolicies apply is unknown, so the registration
  // is neither read for nor updated to a ceiling or lifetimes evaluated without it (ceiling.ts).
  if (namespaceUnknown(obs)) return secretStep ?? { done: true };
  // Without management, drift is the spec against what was registered (sync.ts): said, not applied.
  if (!management && obs.drift && obs.drift.length > 0) return secretStep ?? { wait: 'RegistrationNotUpdatable' };
  if (management) {
    if (obs.remote === undefined && verifyDue(obs)) return { action: { type: 'readRegistration' } };
    if (obs.remote) {
      const registration = obs.remote.registration;
      if (registration === null) return { action: { type: 'forgetRegistration' } };
      const owner = parseSoftwareId(registration.metadata.software_id);
      if (owner && owner.uid !== obs.agent.metadata.uid) return { wait: 'OwnedByAnotherResource' };
      if (obs.drift && obs.drift.length > 0 && !obs.updated) return { action: { type: 'updateRegistration', fields: obs.drift } };
    }
  }
  if (obs.secret.ownership === 'foreign') return { wait: 'SecretConflict' };
  // Allowed again: re-enabled only now that the registration holds the new ceiling.
  const restore = clientAccessStep(obs, 'enable');
  if (restore) return { action: restore };
  return secretStep ?? { done: true };
}
