/**
 * One AgentClient sync: gather (cache, a direct read of the registration record, the provider),
 * then plan -> apply one step -> plan again until the planner is done or waits, then report
 * (status written only when it changed). Errors are classified: transient ones are thrown for
 * backoff with jitter after the condition is recorded; the others are remembered so the same IdP
 * call is not repeated until the spec, the IdentityProvider or the resync period changes things.
 */
import { parseDuration } from '../../api/duration.ts';
import { isIdpError } from '../../idp/errors.ts';
import type { IdpErrorCode } from '../../idp/errors.ts';
import type { ReconcileResult } from '../../runtime/controller.ts';
import { scrubMessage } from '../../runtime/events.ts';
import { isApiError } from '../../runtime/kube/errors.ts';
import { Secrets } from '../../runtime/kube/types.ts';
import type { SecretObject } from '../../runtime/kube/types.ts';
import { patchStatusIfChanged } from '../../runtime/status.ts';
import { applyAction, unmanagedDrift } from './apply.ts';
import { REGISTRATION_INTENT_ANNOTATION, hasFinalizer, isDeleting, manageable, namespaceUnknown, nextRotationAt, plan } from './plan.ts';
import type { Action, Observation, Step } from './plan.ts';
import { applyCeilingChange, ceilingStale, evaluateAgent, policyFingerprint } from './policy.ts';
import { clientAccess, initiallyDisabled } from './nothing-allowed.ts';
import { buildStatus } from './report.ts';
import type { Outcome, StepError } from './report.ts';
import { softwareId } from './metadata.ts';
import type { RegistrationRecord } from './registration-store.ts';
import { agentSecretName } from './secret.ts';
import { SyncState } from './state.ts';
import type { Memory, SyncDeps } from './state.ts';
import type { AgentClient } from './types.ts';

/** At most this many steps per sync: a full registration takes six. */
const MAX_STEPS = 24;
/** A foreign Secret's deletion sends us no event (it lacks our label): look again this often. */
const SECRET_CONFLICT_RECHECK_MS = 60_000;
/** Recheck while the AgentClient's Namespace is not in the cache (ceiling held). */
const NAMESPACE_UNKNOWN_RECHECK_MS = 5_000;

const REASONS: Record<IdpErrorCode, string> = {
  Unreachable: 'IdPUnavailable',
  Timeout: 'IdPTimeout',
  RateLimited: 'IdPRateLimited',
  ServerError: 'IdPServerError',
  InvalidClientMetadata: 'InvalidClientMetadata',
  InvalidSoftwareStatement: 'InvalidSoftwareStatement',
  Unauthorized: 'IdPUnauthorized',
  NotFound: 'RegistrationNotFound',
  Unsupported: 'IdPUnsupported',
  InvalidResponse: 'IdPInvalidResponse',
  ClientError: 'IdPClientError',
};

const DOING: Record<Action['type'], string> = {
  addFinalizer: 'adding the finalizer',
  prepareRegistration: 'recording the registration intent',
  searchRegistrations: 'searching the IdP for an interrupted registration',
  adopt: 'adopting an interrupted registration',
  register: 'registering the client (RFC 7591)',
  readRegistration: 'reading the registration (RFC 7592)',
  updateRegistration: 'updating the registration (RFC 7592)',
  forgetRegistration: 'recording a lost registration',
  beginRotation: 'preparing a key rotation',
  completeRotation: 'registering the new key (RFC 7592)',
  endOverlap: 'removing the previous key (RFC 7592)',
  declineRotation: 'recording a rotation request',
  setPolicyDisabled: 'disabling or re-enabling the client at the IdP (ConsentPolicy)',
  writeSecret: 'writing the credentials Secret',
  deleteRegistration: 'deleting the registration (RFC 7592)',
  deleteRegistrations: 'deleting registrations left by an interrupted attempt',
  releaseSecret: 'releasing the credentials Secret',
  deleteSecret: 'deleting the credentials Secret',
  deleteRecord: 'deleting the registration record',
  removeFinalizer: 'removing the finalizer',
};

function redact(message: string, secrets: string[]): string {
  let out = message;
  for (const secret of secrets) out = out.split(secret).join('[redacted]');
  return scrubMessage(out);
}

/** Classifies a failed step; the message names the step and the IdP's reason, never a credential. */
export function classify(error: unknown, action: Action['type'], secrets: string[]): StepError {
  const doing = DOING[action];
  if (isIdpError(error)) {
    return { action, reason: REASONS[error.code], message: redact(`${doing} failed: ${error.message}`, secrets), transient: error.transient };
  }
  if (isApiError(error)) {
    const transient = error.status !== 422 && error.status !== 400 && error.status !== 403;
    return { action, reason: transient ? 'ApiServerError' : 'ApiRequestRejected', message: redact(`${doing} failed: ${error.message}`, secrets), transient };
  }
  const text = error instanceof Error ? error.message : String(error);
  return { action, reason: 'InternalError', message: redact(`${doing} failed: ${text}`, secrets), transient: true };
}

function firstSight(memory: Memory, agent: AgentClient, deps: SyncDeps): void {
  if (memory.lastVerifiedAt !== undefined) return;
  const ready = agent.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  if (ready && agent.status?.observedGeneration === agent.metadata.generation) {
    // After a restart, spread the drift reads over one period instead of reading everything now.
    memory.verifiedGeneration = agent.metadata.generation;
    memory.lastVerifiedAt = deps.clock.now() - deps.random() * deps.resyncPeriodMs;
  }
}

async function gather(deps: SyncDeps, agent: AgentClient, memory: Memory, cachedSecret: SecretObject | undefined, signal: AbortSignal): Promise<SyncState> {
  const provider = deps.providers.get(agent.spec.identityProviderRef.name);
  const now = deps.clock.now();
  const blocked = memory.blocked;
  if (blocked && (blocked.generation !== agent.metadata.generation || blocked.adapter !== provider?.adapter || now >= blocked.until)) {
    delete memory.blocked;
  }
  // A new AgentClient (no finalizer of ours, nothing registered in status) cannot have a record
  // yet: the finalizer always comes first. The read is skipped; the record's first write is a
  // create, which fails with 409 should one exist after all (and the retry reads it). The agent's
  // Secret is read, though, when the cache has none: a foreign Secret of that name must stop the
  // registration before it starts (SecretConflict).
  const fresh = !hasFinalizer(agent) && !isDeleting(agent) && !agent.status?.clientId;
  const record = (await deps.store.load(agent.metadata.uid, { presumeAbsent: fresh })) ?? intentFromAnnotation(agent, deps.clusterName);
  // From the apiserver's watch cache: a Secret created a moment ago and missed here makes our
  // create fail with 409, and writeSecret then reads it with a quorum read.
  const secret = cachedSecret ?? (await deps.client.get<SecretObject>(Secrets, agentSecretName(agent), agent.metadata.namespace, { resourceVersion: '0' })) ?? undefined;
  const rotationPeriod = agent.spec.credentials?.rotationPeriod;
  // ConsentPolicy: the ceiling to register, and whether it (or the projected lifetimes) moved
  // since the IdP was last known to hold it.
  const ceiling = evaluateAgent(deps.policy, agent, provider?.discovered?.capabilities);
  const fingerprint = policyFingerprint(ceiling, provider?.discovered?.capabilities);
  // Seeded only from a discovered provider: the capabilities are part of the fingerprint, so a
  // seed taken before discovery would differ afterwards and force an IdP read for nothing.
  if (provider?.discovered) memory.policyFingerprint ??= fingerprint;
  const obs: Observation = {
    agent,
    now,
    provider: {
      found: provider !== undefined,
      ready: Boolean(provider?.ready && provider.adapter && provider.discovered),
      reason: provider?.reason,
      message: provider?.message,
      discovered: provider?.discovered,
    },
    record,
    secret: { ownership: 'absent', upToDate: false },
    intentSettled: record?.intent?.op === 'register' && record.intent.at === memory.settledIntentAt,
    updated: false,
    verifiedGeneration: memory.verifiedGeneration,
    lastVerifiedAt: memory.lastVerifiedAt,
    resyncPeriodMs: deps.resyncPeriodMs,
    rotationPeriodMs: rotationPeriod ? parseDuration(rotationPeriod) : undefined,
    blocked: memory.blocked && { reason: memory.blocked.reason, message: memory.blocked.message },
    ceiling,
    policyChanged:
      ceilingStale(ceiling, record?.clientId ? record.registeredScope : undefined) || (memory.policyFingerprint !== undefined && memory.policyFingerprint !== fingerprint),
    ...(deps.holds ? { holds: deps.holds(agent) } : {}),
  };
  obs.policyDisabled = initiallyDisabled(agent, ceiling, obs.holds);
  // A registration deleted by a GrantRevocation: once the hold lifts, read the registration at
  // once (it is gone, so the agent is registered again) instead of at the next drift check.
  if (obs.holds?.deletedBy.length) {
    delete memory.lastVerifiedAt;
    delete memory.verifiedGeneration;
  }
  const log = deps.log.child({ agentClient: `${agent.metadata.namespace}/${agent.metadata.name}`, uid: agent.metadata.uid });
  const state = new SyncState({ deps, obs, memory, signal, log, provider, secret });
  // A registration without RFC 7592 is never read: its drift is the spec against what was sent.
  obs.drift = unmanagedDrift(state);
  await state.refreshSecret();
  return state;
}

/**
 * No record, but the finalizer patch recorded a register intent (REGISTRATION_INTENT_ANNOTATION):
 * the intent record it stands for, never saved (no resourceVersion: its first save is a create).
 * Unless this process knows the intent never reached the IdP (`Memory.settledIntentAt`), the IdP
 * is searched by software_id before registering, and on deletion, as for any unsettled intent.
 */
export function intentFromAnnotation(agent: AgentClient, clusterName: string): RegistrationRecord | null {
  const at = agent.metadata.annotations?.[REGISTRATION_INTENT_ANNOTATION];
  if (!at) return null;
  const { uid, namespace, name } = agent.metadata;
  return { uid, namespace, name, softwareId: softwareId({ cluster: clusterName, namespace, name, uid }), intent: { op: 'register', at } };
}

/** When to look again with nothing else to wake us: overlap end, rotation, drift read, a retry. */
function nextWake(state: SyncState, step: Step | undefined): number | undefined {
  const { obs, memory, deps } = state;
  const now = deps.clock.now();
  const times: number[] = [];
  const record = obs.record;
  if (record?.previousKey && record.overlapUntil) times.push(Date.parse(record.overlapUntil));
  const rotation = nextRotationAt(record, obs.rotationPeriodMs);
  if (rotation !== undefined) times.push(rotation);
  if (deps.resyncPeriodMs > 0 && record?.clientId && manageable(record) && obs.provider.discovered?.capabilities.management) times.push((memory.lastVerifiedAt ?? now) + deps.resyncPeriodMs);
  if (memory.blocked) times.push(memory.blocked.until);
  if (step && 'wait' in step && step.wait === 'SecretConflict') times.push(now + SECRET_CONFLICT_RECHECK_MS);
  // The Namespace event wakes it too (fan-out); this covers an event missed while the cache was filling.
  if (namespaceUnknown(obs)) times.push(now + NAMESPACE_UNKNOWN_RECHECK_MS);
  if (times.length === 0) return undefined;
  return Math.max(1_000, Math.min(...times) - now);
}

async function report(state: SyncState, outcome: Outcome): Promise<void> {
  if (state.finalized) return;
  const now = new Date(state.now());
  // ConsentPolicy: the IdP already holds the new ceiling (PUT first); create the GrantRevocation
  // the change needs before status records it (see policy.ts for why this order).
  const { obs } = state;
  const registered = obs.record?.clientId && obs.record.registeredScope !== undefined ? obs.record.registeredScope.split(' ').filter(Boolean) : undefined;
  const applied = registered && !isDeleting(obs.agent) ? await applyCeilingChange(state.deps.client, state.deps.policy, obs.agent, obs.ceiling, registered, now, clientAccess(obs), outcome.step !== undefined && 'done' in outcome.step) : undefined;
  const status = buildStatus(state.obs, outcome, now, applied);
  await patchStatusIfChanged(state.deps.client, state.deps.agentClients, state.obs.agent as never, status);
}

/** Reconciles one AgentClient (already read from the cache and checked to carry name, namespace, uid). */
export async function syncAgentClient(
  deps: SyncDeps,
  agent: AgentClient,
  memory: Memory,
  cachedSecret: SecretObject | undefined,
  signal: AbortSignal,
): Promise<ReconcileResult> {
  firstSight(memory, agent, deps);
  const state = await gather(deps, agent, memory, cachedSecret, signal);
  let step: Step | undefined;
  try {
    for (let i = 0; i < MAX_STEPS; i++) {
      step = plan(state.obs);
      if (!('action' in step)) break;
      const action = step.action;
      // An unanswered registration may still land: the search waits; the status the failed
      // attempt reported stands meanwhile.
      const searchAt = memory.searchNotBefore;
      if (action.type === 'searchRegistrations' && searchAt !== undefined && searchAt > state.now()) return { requeueAfter: searchAt - state.now() };
      state.log.debug({ action: action.type }, 'agentclient step');
      try {
        await applyAction(state, action);
      } catch (error) {
        return await failed(state, action, error);
      }
      state.obs.now = state.now();
    }
    await report(state, { step });
    if (step && 'done' in step) memory.policyFingerprint = policyFingerprint(state.obs.ceiling, state.provider?.discovered?.capabilities);
  } finally {
    await state.flush();
  }
  if (state.finalized || isDeleting(state.obs.agent)) return undefined;
  const wake = nextWake(state, step);
  return wake === undefined ? undefined : { requeueAfter: wake };
}

async function failed(state: SyncState, action: Action, error: unknown): Promise<ReconcileResult> {
  if (isApiError(error) && (error.status === 409 || error.status === 404)) throw error; // stale cache: retry from fresh state
  const info = classify(error, action.type, state.secrets());
  const { deps, memory, obs } = state;
  state.log.warn({ action: action.type, reason: info.reason, transient: info.transient, err: info.message }, 'agentclient step failed');
  if (!info.transient) {
    memory.blocked = {
      generation: obs.agent.metadata.generation,
      adapter: state.provider?.adapter,
      reason: info.reason,
      message: info.message,
      until: deps.clock.now() + blockedRetryMs(deps),
    };
    state.event('Warning', info.reason, info.message);
  }
  try {
    await report(state, { error: info });
  } catch (statusError) {
    state.log.warn({ err: classify(statusError, action.type, state.secrets()).message }, 'could not record the failure in status');
  }
  if (info.transient) throw error;
  return { requeueAfter: blockedRetryMs(deps) };
}

/** A non-transient failure is tried again after one drift period (10 min when the period is off). */
function blockedRetryMs(deps: SyncDeps): number {
  return deps.resyncPeriodMs > 0 ? deps.resyncPeriodMs : 10 * 60_000;
}
