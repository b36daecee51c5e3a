/**
 * One GrantRevocation reconcile: gather (caches), plan (plan.ts), apply (actions.ts, one target's
 * actions in order, targets in parallel), report (status.ts), with each result written to status
 * as soon as it is known, so a crash mid-way resumes without redoing completed IdP calls.
 *
 * Steady state makes no write and no IdP call: the plan from the cache is empty for a finished
 * revocation and for a held suspension already asserted by this process. When the cached plan has
 * work and the cache may lag behind our own last write, the object is re-read directly first, so
 * a stale cache never makes us redo an action.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../runtime/clock.ts';
import type { EventRecorder } from '../../runtime/events.ts';
import { ensureFinalizer } from '../../runtime/finalizers.ts';
import { describeError } from '../../runtime/informer/informer.ts';
import type { KubeClient } from '../../runtime/kube/client.ts';
import type { KubeObject } from '../../runtime/kube/types.ts';
import { patchStatusIfChanged } from '../../runtime/status.ts';
import type { AgentClient } from '../agentclient/types.ts';
import { runAction } from './actions.ts';
import type { ActionDeps, ProviderHandle } from './actions.ts';
import { auditRecord, emitAudit } from './audit.ts';
import { liftSuspensions } from './lift.ts';
import { registrationDeletions } from './suspension.ts';
import { planSteps, resolveTargets, tally } from './plan.ts';
import type { Step } from './plan.ts';
import { readyState, recordResult, requestedByOf, summarize } from './status.ts';
import type { Waiting } from './status.ts';
import type { SuspensionMemory, WrittenVersions } from './memory.ts';
import { GrantRevocations, RetryLater, SUSPENSION_FINALIZER } from './types.ts';
import type { ActionResult, GrantRevocation, GrantRevocationStatus } from './types.ts';

/** Reads from the informer caches (never the API server). */
export interface Caches {
  grantRevocation(key: string): GrantRevocation | undefined;
  grantRevocations(namespace: string): GrantRevocation[];
  agentClients(namespace: string): AgentClient[];
  /** AgentClients whose `status.clientId` is this (an index, so a client_id target costs no scan). */
  agentClientsByClientId(clientId: string): AgentClient[];
}

/** The IdP of an IdentityProvider, or why it cannot be used now. */
export type ProviderLookup = (name: string) => { provider: ProviderHandle } | { waiting: string };

export interface SyncDeps {
  client: KubeClient;
  caches: Caches;
  providers: ProviderLookup;
  actions: ActionDeps;
  recorder: EventRecorder;
  /** Receives the audit records (and nothing secret). */
  log: Logger;
  clock: Clock;
  memory: SuspensionMemory;
  versions: WrittenVersions;
  /** `agentidentity_revocation_latency_seconds`. */
  observeLatency?: (seconds: number) => void;
  /** Targets worked on at once within one revocation. Default 8. */
  targetConcurrency?: number;
}

export const iso = (clock: Clock): string => new Date(clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');

export const asKube = (grev: GrantRevocation): KubeObject => grev;

const EVENT_REASON: Record<ActionResult['action'], string> = {
  RevokeGrants: 'GrantsRevoked',
  RotateCredentials: 'CredentialsRotated',
  Suspend: 'Suspended',
  DeleteRegistration: 'RegistrationDeleted',
};

function candidates(caches: Caches, grev: GrantRevocation): AgentClient[] {
  const { namespace } = grev.metadata;
  const clientId = grev.spec.target.clientId;
  if (clientId === undefined) return caches.agentClients(namespace);
  const recorded = new Set((grev.status?.targets ?? []).map((t) => t.agentClient));
  const byId = caches.agentClientsByClientId(clientId);
  const extra = recorded.size ? caches.agentClients(namespace).filter((a) => recorded.has(a.metadata.name)) : [];
  return [...byId, ...extra];
}

/** Reconciles the GrantRevocation `key` (`namespace/name`). */
export async function syncGrantRevocation(deps: SyncDeps, key: string, signal: AbortSignal): Promise<{ requeueAfter?: number }> {
  const cached = deps.caches.grantRevocation(key);
  if (!cached) {
    deps.memory.forget(key);
    deps.versions.forget(key);
    return {};
  }
  if (cached.metadata.deletionTimestamp) {
    await liftSuspensions(deps, cached, signal);
    return {};
  }
  const grev = await prepare(deps, key, cached);
  if (!grev) return {};
  const asserted = { suspensionAsserted: (a: AgentClient) => deps.memory.asserted(key, a) };
  const resolution = resolveTargets(grev, candidates(deps.caches, grev));
  const steps = planSteps(grev, resolution.targets, asserted);

  const writer = new StatusWriter(deps, grev);
  const startedAt = grev.status?.startTime ?? iso(deps.clock);
  writer.update((s) => ({ ...s, startTime: startedAt, requestedBy: requestedByOf(grev) }));
  const waiting = await applySteps(deps, writer, steps, signal);

  const current = writer.grev;
  const ready = readyState({
    ...(resolution.problem ? { problem: resolution.problem } : {}),
    tally: tally(current, resolution.targets),
    remaining: planSteps(current, resolution.targets, asserted).length,
    ...(waiting ? { waiting: waiting.waiting } : {}),
    holdsSuspension: grev.spec.actions.includes('Suspend'),
  });
  writer.update((s) => summarize(s, { grev: current, ready, now: iso(deps.clock) }));
  await writer.flush();
  announce(deps, cached, writer.grev, ready);
  if (ready.reason === 'TargetNotFound') {
    const before = cached.status?.conditions?.find((c) => c.type === 'Ready')?.reason;
    if (before !== 'TargetNotFound') void deps.recorder.event(asKube(writer.grev), 'Warning', 'TargetNotFound', `${ready.message}; retrying`);
    // With backoff: the AgentClient's arrival wakes it through the watch; this covers a missed event.
    throw new RetryLater(ready.message);
  }
  if (waiting?.error !== undefined) throw waiting.error instanceof Error ? waiting.error : new RetryLater(describeError(waiting.error));
  return waiting ? { requeueAfter: HANDOFF_RECHECK_MS } : {};
}

/**
 * The object to act on: re-read directly when the cached plan has work and the cache may lag
 * behind our own last write; the suspension finalizer added before any IdP call, so deleting the
 * object can never skip the lift. Resolves undefined when it is gone or being deleted.
 */
async function prepare(deps: SyncDeps, key: string, cached: GrantRevocation): Promise<GrantRevocation | undefined> {
  let grev = cached;
  const suspends = grev.spec.actions.includes('Suspend');
  const wantsFinalizer = suspends && !grev.metadata.finalizers?.includes(SUSPENSION_FINALIZER);
  const cachedSteps = planSteps(grev, resolveTargets(grev, candidates(deps.caches, grev)).targets, { suspensionAsserted: (a) => deps.memory.asserted(key, a) });
  const cacheFresh = deps.versions.fresh(key, grev.metadata.uid, grev.metadata.resourceVersion, grev.status !== undefined);
  if ((cachedSteps.length > 0 || wantsFinalizer) && !cacheFresh) {
    const fresh = await deps.client.get<KubeObject>(GrantRevocations, grev.metadata.name, grev.metadata.namespace);
    if (!fresh) return undefined;
    grev = fresh as unknown as GrantRevocation;
    if (grev.metadata.deletionTimestamp) return undefined;
  }
  if (suspends) {
    const updated = await ensureFinalizer(deps.client, GrantRevocations, asKube(grev), SUSPENSION_FINALIZER);
    if (updated) {
      grev = updated as unknown as GrantRevocation;
      deps.versions.wrote(key, grev.metadata.uid, grev.metadata.resourceVersion);
    }
  }
  return grev;
}

/** Events and the latency metric when the phase turns terminal. */
function announce(deps: SyncDeps, before: GrantRevocation, after: GrantRevocation, ready: { reason: string; message: string }): void {
  const phase = after.status?.phase;
  if (phase === 'Completed' && before.status?.phase !== 'Completed') {
    const created = Date.parse(after.metadata.creationTimestamp ?? '');
    if (!Number.isNaN(created)) deps.observeLatency?.(Math.max(0, deps.clock.now() - created) / 1000);
    void deps.recorder.event(asKube(after), 'Normal', 'Completed', ready.message);
  }
  if (phase === 'Failed' && before.status?.phase !== 'Failed') {
    void deps.recorder.event(asKube(after), 'Warning', ready.reason, ready.message);
  }
}

interface WaitingOutcome {
  waiting: Waiting;
  /** Set for failures (retry with backoff); absent when another controller is expected to wake us. */
  error?: unknown;
}

/** A safety net for work handed to the AgentClient controller: its status change normally wakes us first. */
const HANDOFF_RECHECK_MS = 30_000;

/** Runs each target's steps in order, targets concurrently; the first wait of the round is reported. */
async function applySteps(deps: SyncDeps, writer: StatusWriter, steps: Step[], signal: AbortSignal): Promise<WaitingOutcome | undefined> {
  const byTarget = new Map<string, Step[]>();
  for (const step of steps) {
    const list = byTarget.get(step.agentClient.metadata.name) ?? [];
    list.push(step);
    byTarget.set(step.agentClient.metadata.name, list);
  }
  let waiting: WaitingOutcome | undefined;
  const queue = [...byTarget.values()];
  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      // With one target, its last result goes out with the final status write (one write fewer on
      // the path to Completed); otherwise each result is written as soon as it is known.
      const outcome = await applyTarget(deps, writer, next, signal, byTarget.size > 1);
      if (outcome && (!waiting || (waiting.error === undefined && outcome.error !== undefined))) waiting = outcome;
    }
  };
  const workers = Array.from({ length: Math.min(queue.length, deps.targetConcurrency ?? 8) }, () => worker());
  await Promise.all(workers);
  return waiting;
}

async function applyTarget(deps: SyncDeps, writer: StatusWriter, steps: Step[], signal: AbortSignal, flushLast: boolean): Promise<WaitingOutcome | undefined> {
  for (const [index, step] of steps.entries()) {
    const grev = writer.grev;
    const agentClient = step.agentClient;
    const idpName = agentClient.spec.identityProviderRef.name;
    const lookup = deps.providers(idpName);
    if ('waiting' in lookup) {
      const message = `IdentityProvider ${idpName}: ${lookup.waiting}`;
      return { waiting: { reason: 'IdentityProviderNotReady', message }, error: new RetryLater(message) };
    }
    let outcome: Awaited<ReturnType<typeof runAction>>;
    let clientId = step.clientId;
    try {
      const resolved = clientId === undefined ? await recordedClientId(deps, agentClient) : { clientId };
      if ('pending' in resolved) return { waiting: { reason: 'AwaitingAgentClient', message: resolved.pending } };
      clientId = resolved.clientId;
      outcome = await runAction(deps.actions, step.action, { grev, agentClient, clientId, provider: lookup.provider, now: () => iso(deps.clock), signal });
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      void deps.recorder.event(asKube(grev), 'Warning', 'IdpUnavailable', `${step.action} on AgentClient ${agentClient.metadata.name}: ${message}; retrying`);
      return { waiting: { reason: 'IdpUnavailable', message: `${step.action} on AgentClient ${agentClient.metadata.name}: ${message}` }, error };
    }
    if ('pending' in outcome) return { waiting: { reason: 'AwaitingAgentClient', message: outcome.pending } };
    const result = outcome;
    const actedOn = clientId;
    if (step.action === 'Suspend' && result.outcome !== 'Failed') deps.memory.remember(writer.key, agentClient);
    emitAudit(deps.log, auditRecord({
      grev, action: step.action, call: result.call, idp: idpName, clientId: actedOn, agentClient: agentClient.metadata.name,
      actor: requestedByOf(grev).username, outcome: result.outcome,
      ...(result.grantsRevoked === undefined ? {} : { grantsRevoked: result.grantsRevoked }),
      ...(result.tokensRevoked === undefined ? {} : { tokensRevoked: result.tokensRevoked }),
      ...(result.outcome === 'Succeeded' || result.message === undefined ? {} : { message: result.message }),
    }));
    const type = result.outcome === 'Succeeded' ? 'Normal' : 'Warning';
    const reason = result.outcome === 'Succeeded' ? EVENT_REASON[step.action] : `${step.action}${result.outcome}`;
    const text = `${step.action} on AgentClient ${agentClient.metadata.name}: ${result.message ?? result.outcome}`;
    void deps.recorder.event(asKube(grev), type, reason, text);
    void deps.recorder.event(agentClient, type, reason, `GrantRevocation ${writer.key} (${grev.spec.reason}): ${result.message ?? result.outcome}`);
    writer.update((s) => recordResult(s, agentClient.metadata.name, actedOn, result));
    if (flushLast || index < steps.length - 1) await writer.flush();
  }
  return undefined;
}

/**
 * The client to act on when the AgentClient's status names none: the one the operator's
 * registration record holds (its status may lag behind the record), pending while a
 * registration is started there without an answer, none when it is not registered. A
 * registration a GrantRevocation deleted is not acted on again (the record may still name it).
 */
async function recordedClientId(deps: SyncDeps, agentClient: AgentClient): Promise<{ clientId: string | undefined } | { pending: string }> {
  if (registrationDeletions(agentClient, deps.caches.grantRevocations(agentClient.metadata.namespace)).length > 0) return { clientId: undefined };
  const recorded = await deps.actions.loadRecordedClient(agentClient);
  if (recorded.clientId !== undefined) return { clientId: recorded.clientId };
  if (recorded.registering) return { pending: `AgentClient ${agentClient.metadata.name} is being registered; waiting for its client_id` };
  return { clientId: undefined };
}

/**
 * Serialises status writes of one reconcile (targets run concurrently). Writes are merge patches
 * to /status without a resourceVersion precondition: the object was just read directly, the key
 * is never worked on twice at once, and only this controller writes this status.
 */
class StatusWriter {
  readonly key: string;
  #grev: GrantRevocation;
  #written: GrantRevocation;
  #chain: Promise<void> = Promise.resolve();
  readonly #deps: SyncDeps;

  constructor(deps: SyncDeps, grev: GrantRevocation) {
    this.#deps = deps;
    this.#grev = grev;
    this.#written = grev;
    this.key = `${grev.metadata.namespace}/${grev.metadata.name}`;
  }

  get grev(): GrantRevocation {
    return this.#grev;
  }

  update(fn: (status: GrantRevocationStatus) => GrantRevocationStatus): void {
    this.#grev = { ...this.#grev, status: fn(this.#grev.status ?? {}) };
  }

  flush(): Promise<void> {
    this.#chain = this.#chain.then(async () => {
      const target = this.#grev.status;
      const patched = await patchStatusIfChanged(this.#deps.client, GrantRevocations, asKube(this.#written), target, { optimistic: false });
      if (!patched) return;
      this.#written = { ...(patched as unknown as GrantRevocation), status: target ?? {} };
      this.#deps.versions.wrote(this.key, this.#written.metadata.uid, this.#written.metadata.resourceVersion);
    });
    return this.#chain;
  }
}
