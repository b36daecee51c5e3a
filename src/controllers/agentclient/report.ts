/**
 * From the final observation of a sync to the AgentClient's status: conditions per the
 * Kubernetes API conventions (a `Ready` summary; `Registered`, `CredentialsReady`; kstatus'
 * abnormal-true `Reconciling` and `Stalled`), `observedGeneration` and the credential fields.
 * Pure; messages carry names, ids and reasons, never a credential.
 */
import { removeCondition, setCondition } from '../../runtime/conditions.ts';
import type { Condition } from '../../runtime/kube/types.ts';
import { effectiveAuthMethod } from './metadata.ts';
import { isDeleting, manageable, namespaceUnknown, nextRotationAt } from './plan.ts';
import type { Action, Observation, Step, Wait } from './plan.ts';
import { agentSecretName } from './secret.ts';
import { CEILING_NOT_ENFORCEABLE, secretWithheldCondition, unenforceableCeiling } from './enforcement.ts';
import type { AgentClientStatus, CredentialsStatus } from './types.ts';
import { ceilingStatus, policyConditions } from './policy.ts';
import { clientAccess, nothingAllowedReady } from './nothing-allowed.ts';
import type { AppliedChange } from './policy.ts';
import type { RevocationHolds } from '../grantrevocation/holds.ts';

/**
 * What GrantRevocation holds (grantrevocation/suspension.ts) put in place of the usual
 * conditions: a held state is deliberate and waits for a person (kstatus Stalled), not for work.
 */
function holdConditions(holds: RevocationHolds | undefined): { deleted?: CondInput; suspended?: CondInput; suspendedCondition: CondInput } {
  const describe = (list: RevocationHolds['suspendedBy']): string => list.map((h) => `${h.name} (${h.reason})`).join(', ');
  const out: { deleted?: CondInput; suspended?: CondInput; suspendedCondition: CondInput } = {
    suspendedCondition: { status: 'False', reason: 'NotSuspended', message: 'no GrantRevocation suspends this agent' },
  };
  if (holds?.deletedBy.length) {
    out.deleted = { status: 'False', reason: 'DeletedByRevocation', message: `registration deleted by GrantRevocation ${describe(holds.deletedBy)}; not registered again while it exists` };
  }
  if (holds?.suspendedBy.length) {
    const message = `suspended by GrantRevocation ${describe(holds.suspendedBy)}: client disabled at the IdP and no credentials Secret until it is deleted`;
    out.suspended = { status: 'False', reason: 'Suspended', message };
    out.suspendedCondition = { status: 'True', reason: 'SuspendedByRevocation', message };
  }
  return out;
}

/** A failed step, already classified and scrubbed of credentials. */
export interface StepError {
  action: Action['type'];
  reason: string;
  message: string;
  transient: boolean;
}

export interface Outcome {
  step?: Step;
  error?: StepError;
}

type CondInput = { status: Condition['status']; reason: string; message: string };

const STALLING_WAITS: ReadonlySet<Wait> = new Set<Wait>([
  'SecretConflict',
  'OwnedByAnotherResource',
  'IdentityProviderChanged',
  'RegistrationUnsupported',
  'AuthMethodUnsupported',
  'Blocked',
  'RegistrationNotUpdatable',
]);

const IDP_ACTIONS: ReadonlySet<Action['type']> = new Set<Action['type']>([
  'searchRegistrations',
  'adopt',
  'register',
  'readRegistration',
  'updateRegistration',
  'completeRotation',
  'endOverlap',
  'deleteRegistration',
  'deleteRegistrations',
]);

/**
 * A failed periodic drift read (RFC 7592 GET, transient) of a working registration whose
 * generation and policy outcome this process already verified: the client still works, so the
 * agent stays Registered and Ready and `DriftChecked=False` says the check failed. A read made for
 * a spec or policy change still counts as a failure of that change.
 */
function driftCheckFailed(obs: Observation, outcome: Outcome): StepError | undefined {
  const error = outcome.error;
  if (!error || error.action !== 'readRegistration' || !error.transient || !obs.record?.clientId) return undefined;
  return obs.verifiedGeneration === obs.agent.metadata.generation && !obs.policyChanged ? error : undefined;
}

function waitOf(outcome: Outcome): Wait | undefined {
  return outcome.step && 'wait' in outcome.step ? outcome.step.wait : undefined;
}

function registered(obs: Observation, outcome: Outcome): CondInput {
  const { record } = obs;
  const wait = waitOf(outcome);
  const error = driftCheckFailed(obs, outcome) ? undefined : outcome.error;
  if (error && IDP_ACTIONS.has(error.action)) return { status: 'False', reason: error.reason, message: error.message };
  if (obs.blocked) return { status: 'False', reason: obs.blocked.reason, message: obs.blocked.message };
  switch (wait) {
    case 'OwnedByAnotherResource':
      return { status: 'False', reason: wait, message: 'the registration at the IdP names another AgentClient in its software_id; it is not taken over' };
    case 'IdentityProviderChanged':
      return { status: 'False', reason: wait, message: `registered at ${record?.issuer ?? '?'}, but the IdentityProvider now points at another issuer; recreate the AgentClient to register there` };
    case 'RegistrationUnsupported':
      return { status: 'False', reason: wait, message: 'the IdP does not offer RFC 7591 dynamic client registration' };
    case 'AuthMethodUnsupported':
      return { status: 'False', reason: wait, message: 'the IdP does not accept client jwks, which private_key_jwt needs' };
    case 'NoScopesAllowed':
      if (namespaceUnknown(obs)) return { status: 'False', reason: wait, message: 'which ConsentPolicies apply is not known yet (see PolicyCompliant): nothing is registered until it is' };
      return { status: 'False', reason: wait, message: 'no requested scope is allowed (see PolicyCompliant); the client is registered once a ConsentPolicy allows one' };
    default:
  }
  if (record?.clientId) {
    return { status: 'True', reason: 'Registered', message: `registered at ${record.issuer ?? '?'} as client ${record.clientId}` };
  }
  if (wait === 'SecretConflict') return { status: 'False', reason: wait, message: 'not registering until the credentials Secret name is free' };
  if (wait === 'IdentityProviderNotReady') return { status: 'False', reason: wait, message: providerMessage(obs) };
  return { status: 'Unknown', reason: 'Registering', message: 'registration in progress' };
}

function credentialsReady(obs: Observation, outcome: Outcome): CondInput {
  const name = agentSecretName(obs.agent);
  if (obs.secret.ownership === 'foreign') {
    return { status: 'False', reason: 'SecretConflict', message: `Secret ${name} exists and is not owned by this AgentClient; it is never overwritten` };
  }
  if (outcome.error?.action === 'writeSecret') return { status: 'False', reason: 'SecretWriteFailed', message: outcome.error.message };
  if (!obs.record?.clientId) return { status: 'Unknown', reason: 'WaitingForRegistration', message: `Secret ${name} is written once the client is registered` };
  if (unenforceableCeiling(obs)) return secretWithheldCondition(name);
  if (!obs.secret.upToDate) return { status: 'False', reason: 'SecretPending', message: `Secret ${name} is being written` };
  const kid = obs.record.key?.kid;
  return { status: 'True', reason: 'SecretReady', message: `Secret ${name} holds the client credentials${kid ? ` (key ${kid})` : ''}` };
}

function providerMessage(obs: Observation): string {
  const name = obs.agent.spec.identityProviderRef.name;
  if (!obs.provider.found) return `IdentityProvider ${name} not found`;
  return `IdentityProvider ${name} is not ready${obs.provider.message ? `: ${obs.provider.message}` : ''}`;
}

function ready(obs: Observation, outcome: Outcome, reg: CondInput, cred: CondInput): CondInput {
  const wait = waitOf(outcome);
  if (isDeleting(obs.agent)) {
    if (wait === 'DeletionBlocked' || (outcome.error && IDP_ACTIONS.has(outcome.error.action))) {
      const why = outcome.error?.message ?? (obs.blocked?.message || providerMessage(obs));
      return { status: 'False', reason: 'DeletionBlocked', message: `deleting the registration is blocked by the IdP (${why}); set annotation agentidentity.dev/skip-idp-cleanup=true to delete without it` };
    }
    return { status: 'False', reason: 'Deleting', message: 'cleaning up the registration and Secrets' };
  }
  if (wait === 'IdentityProviderNotReady') return { status: 'False', reason: wait, message: providerMessage(obs) };
  const unenforceable = unenforceableCeiling(obs);
  if (unenforceable?.kind === 'narrowed') {
    return { status: 'False', reason: CEILING_NOT_ENFORCEABLE, message: `a ConsentPolicy removed ${unenforceable.removed.join(' ')}, which this registration cannot drop; the agent Secret is withheld (see PolicyCompliant)` };
  }
  if (wait === 'RegistrationNotUpdatable') {
    const fields = (obs.drift ?? []).join(', ');
    return { status: 'False', reason: wait, message: `the spec changes registered fields (${fields}), but the IdP gave this registration no RFC 7592 registration access token, so it cannot be updated; revert the change, or recreate the AgentClient to register anew` };
  }
  if (outcome.error && !IDP_ACTIONS.has(outcome.error.action) && outcome.error.action !== 'writeSecret') {
    return { status: 'False', reason: outcome.error.reason, message: outcome.error.message };
  }
  const done = (outcome.step !== undefined && 'done' in outcome.step) || driftCheckFailed(obs, outcome) !== undefined;
  const nothing = done ? nothingAllowedReady(obs) : undefined;
  if (nothing) return nothing;
  if (reg.status === 'True' && cred.status === 'True' && done) {
    return { status: 'True', reason: 'Ready', message: `client ${obs.record?.clientId ?? '?'} is registered and its credentials are in Secret ${agentSecretName(obs.agent)}` };
  }
  const first = reg.status !== 'True' ? reg : cred.status !== 'True' ? cred : { status: 'False' as const, reason: 'Reconciling', message: 'work in progress' };
  return { status: first.status === 'Unknown' ? 'Unknown' : 'False', reason: first.reason, message: first.message };
}

function stalled(obs: Observation, outcome: Outcome): boolean {
  const wait = waitOf(outcome);
  if (wait && STALLING_WAITS.has(wait)) return true;
  if (obs.secret.ownership === 'foreign') return true;
  return Boolean(outcome.error && !outcome.error.transient);
}

function credentialsStatus(obs: Observation): CredentialsStatus {
  const { record, agent } = obs;
  const out: CredentialsStatus = { secretName: agentSecretName(agent) };
  if (record?.key) out.keyId = record.key.kid;
  if (record?.previousKey) {
    out.previousKeyId = record.previousKey.kid;
    out.overlapUntil = record.overlapUntil;
  }
  if (record?.lastRotationTime) out.lastRotationTime = record.lastRotationTime;
  const next = nextRotationAt(record, obs.rotationPeriodMs);
  if (next !== undefined) out.nextRotationTime = iso(next);
  if (record?.lastRotationRequest) out.lastRotationRequest = record.lastRotationRequest;
  const method = effectiveAuthMethod(agent);
  const caps = obs.provider.discovered?.capabilities;
  if (method === 'private_key_jwt') {
    const managed = !record?.clientId || manageable(record);
    if (!caps || (caps.management && caps.jwks && managed)) out.rotationSupport = 'Overlap';
    else {
      out.rotationSupport = 'Unsupported';
      out.rotationMessage = 'the IdP does not offer RFC 7592 registration management with jwks, so keys cannot be rotated in place';
    }
  } else if (method === 'client_secret_basic') {
    out.rotationSupport = 'Unsupported';
    out.rotationMessage =
      'client secret rotation is not available through RFC 7592 at this IdP (an update keeps the existing secret); use private_key_jwt, or recreate the AgentClient for a new secret';
  }
  return out;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The whole status this sync should leave on the AgentClient. */
export function buildStatus(obs: Observation, outcome: Outcome, now: Date, applied?: AppliedChange): AgentClientStatus {
  const { agent, record } = obs;
  const generation = agent.metadata.generation;
  const held = isDeleting(agent) ? { suspendedCondition: holdConditions(undefined).suspendedCondition } : holdConditions(obs.holds);
  const reg = held.deleted ?? registered(obs, outcome);
  const cred = held.suspended ?? credentialsReady(obs, outcome);
  const summary = held.deleted ?? held.suspended ?? ready(obs, outcome, reg, cred);
  const with_ = (type: string, input: CondInput) => (list: Condition[]) => setCondition(list, { type, ...input, observedGeneration: generation }, now);
  let conditions = (agent.status?.conditions ?? []) as Condition[];
  conditions = with_('Ready', summary)(conditions);
  conditions = with_('Registered', reg)(conditions);
  conditions = with_('CredentialsReady', cred)(conditions);
  conditions = with_('Suspended', held.suspendedCondition)(conditions);
  // Present only while the periodic drift check fails, so healthy agents carry no extra condition.
  const drift = driftCheckFailed(obs, outcome);
  conditions = drift
    ? with_('DriftChecked', { status: 'False', reason: drift.reason, message: `${drift.message}; the registration was last verified earlier and the client keeps working` })(conditions)
    : removeCondition(conditions, 'DriftChecked');
  // ConsentPolicy: PolicyCompliant and TokenLifetimesProjected (policy.ts).
  for (const c of policyConditions(obs.ceiling, applied, clientAccess(obs))) conditions = with_(c.type, c)(conditions);
  const isStalled = stalled(obs, outcome) || Boolean(held.deleted ?? held.suspended);
  conditions = isStalled ? with_('Stalled', { status: 'True', reason: summary.reason, message: summary.message })(conditions) : removeCondition(conditions, 'Stalled');
  conditions =
    summary.status !== 'True' && !isStalled
      ? with_('Reconciling', { status: 'True', reason: summary.reason, message: summary.message })(conditions)
      : removeCondition(conditions, 'Reconciling');

  const status: AgentClientStatus = { ...(agent.status ?? {}), observedGeneration: generation, conditions };
  const liveClientId = held.deleted ? undefined : record?.clientId;
  status.clientId = liveClientId;
  status.identityProvider = liveClientId ? record?.issuer : undefined;
  status.registeredAt = liveClientId ? record?.registeredAt : undefined;
  status.suspendedBy = held.suspended ? obs.holds?.suspendedBy.map((h) => h.name) : undefined;
  // ConsentPolicy: grantedScopes is what the IdP holds; history, deniedScopes, policies (policy.ts).
  if (applied) Object.assign(status, ceilingStatus(agent, obs.ceiling, applied, clientAccess(obs)));
  else if (!record?.clientId && !isDeleting(agent)) Object.assign(status, ceilingStatus(agent, obs.ceiling, undefined), { grantedScopes: undefined });
  status.credentials = credentialsStatus(obs);
  return status;
}
