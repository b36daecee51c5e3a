/**
 * Pure status rendering for a GrantRevocation: per-target results, the `Ready` condition, and the
 * `phase` printer column derived from that condition (never the other way round, so a crash can
 * never leave a phase that the conditions do not support).
 *
 * Phase rules (docs/operations/incident-response.md):
 * - Pending: nothing has been evaluated yet (no Ready condition).
 * - InProgress: steps remain, the IdP / IdentityProvider is unavailable and a retry is pending, or
 *   the target matches no AgentClient yet (TargetNotFound, retried).
 * - Completed: every requested action succeeded on every target (a held `Suspend` included).
 * - Failed: the target is invalid, or some requested action could not be done (the IdP
 *   lacks the capability, or refused permanently). Results that did succeed are still listed;
 *   Completed is never reported for work that was not done.
 */
import { REQUESTED_BY_ANNOTATION, REQUESTED_BY_GROUPS_ANNOTATION, REQUESTED_BY_UID_ANNOTATION, UNKNOWN_REQUESTER } from './types.ts';
import type { ActionResult, Condition, GrantRevocation, GrantRevocationStatus, Phase, RequestedBy, TargetStatus } from './types.ts';
import type { ResolutionProblem, Tally } from './plan.ts';

export type ReadyReason =
  | 'Completed'
  | 'InProgress'
  | 'IdpUnavailable'
  | 'IdentityProviderNotReady'
  | 'AwaitingAgentClient'
  | 'Lifting'
  | 'TargetNotFound'
  | 'InvalidTarget'
  | 'Unsupported'
  | 'ActionFailed';

/**
 * Ready=False reasons that mean the revocation stopped short (phase Failed). TargetNotFound is not
 * one: the AgentClient may simply not be in the cache yet, or be applied after the revocation
 * (one `kubectl apply -f` of a folder); it is retried with backoff and the AgentClient's arrival
 * wakes it at once.
 */
const FAILED_REASONS: ReadonlySet<string> = new Set(['InvalidTarget', 'Unsupported', 'ActionFailed']);

export interface ReadyState {
  status: 'True' | 'False' | 'Unknown';
  reason: ReadyReason;
  message: string;
}

/** Why this round could not finish (a retry is scheduled by the caller). */
export interface Waiting {
  reason: 'IdpUnavailable' | 'IdentityProviderNotReady' | 'AwaitingAgentClient' | 'Lifting';
  message: string;
}

export interface ReadyInput {
  problem?: ResolutionProblem;
  tally: Tally;
  /** Steps not yet done after this round. */
  remaining: number;
  waiting?: Waiting;
  holdsSuspension: boolean;
}

/** The Ready condition for a round's outcome. Terminal failures win over waiting. */
export function readyState(input: ReadyInput): ReadyState {
  const { tally: t } = input;
  if (input.problem) return { status: 'False', reason: input.problem.reason, message: input.problem.message };
  const done = `${t.succeeded} of ${t.requested} actions succeeded`;
  if (input.remaining === 0 && t.unsupported > 0) {
    return { status: 'False', reason: 'Unsupported', message: `${done}; ${t.unsupported} not supported by the identity provider (see status.targets)` };
  }
  if (input.remaining === 0 && t.failed > 0) {
    return { status: 'False', reason: 'ActionFailed', message: `${done}; ${t.failed} failed permanently (see status.targets)` };
  }
  if (input.waiting) {
    const then = input.waiting.reason === 'AwaitingAgentClient' ? '' : '; retrying';
    return { status: 'False', reason: input.waiting.reason, message: `${done}; ${input.waiting.message}${then}` };
  }
  if (input.remaining > 0) return { status: 'False', reason: 'InProgress', message: `${done}; ${input.remaining} remaining` };
  const held = input.holdsSuspension ? '; suspension held until this GrantRevocation is deleted' : '';
  return { status: 'True', reason: 'Completed', message: `${done}${held}` };
}

/** The phase column, derived from the Ready condition alone. */
export function phaseOf(conditions: readonly Condition[] | undefined): Phase {
  const ready = conditions?.find((c) => c.type === 'Ready');
  if (!ready || ready.status === 'Unknown') return 'Pending';
  if (ready.status === 'True') return 'Completed';
  return FAILED_REASONS.has(ready.reason) ? 'Failed' : 'InProgress';
}

/** metav1.Condition upsert: lastTransitionTime moves only when `status` changes. */
export function setCondition(conditions: readonly Condition[] | undefined, next: Omit<Condition, 'lastTransitionTime'>, now: string): Condition[] {
  const out = [...(conditions ?? [])];
  const i = out.findIndex((c) => c.type === next.type);
  const previous = i >= 0 ? out[i] : undefined;
  const lastTransitionTime = previous && previous.status === next.status ? previous.lastTransitionTime : now;
  const condition: Condition = { ...next, lastTransitionTime };
  if (i >= 0) out[i] = condition;
  else out.push(condition);
  return out;
}

/** Status with `result` recorded for `agentClient` (replacing that action's previous result). */
export function recordResult(status: GrantRevocationStatus | undefined, agentClient: string, clientId: string | undefined, result: ActionResult): GrantRevocationStatus {
  const targets: TargetStatus[] = [...(status?.targets ?? [])];
  const i = targets.findIndex((t) => t.agentClient === agentClient);
  const previous = i >= 0 ? targets[i] : undefined;
  const results = (previous?.results ?? []).filter((r) => r.action !== result.action);
  results.push(result);
  const target: TargetStatus = { agentClient, ...(clientId === undefined ? {} : { clientId }), results };
  if (i >= 0) targets[i] = target;
  else targets.push(target);
  targets.sort((a, b) => (a.agentClient < b.agentClient ? -1 : a.agentClient > b.agentClient ? 1 : 0));
  return { ...status, targets };
}

export interface SummaryInput {
  grev: GrantRevocation;
  ready: ReadyState;
  now: string;
}

/**
 * The status after a round: Ready condition, derived phase, start time (first round) and
 * completion time (set when the phase first turns terminal, cleared if work appears again, for
 * instance a new AgentClient matching a selector).
 */
export function summarize(status: GrantRevocationStatus | undefined, input: SummaryInput): GrantRevocationStatus {
  const generation = input.grev.metadata.generation;
  const conditions = setCondition(status?.conditions, {
    type: 'Ready',
    status: input.ready.status,
    reason: input.ready.reason,
    message: input.ready.message,
    ...(generation === undefined ? {} : { observedGeneration: generation }),
  }, input.now);
  const phase = phaseOf(conditions);
  const terminal = phase === 'Completed' || phase === 'Failed';
  // Complete says "finished acting" (like a Job's): True for both Completed and Failed, so
  // `kubectl wait --for=condition=Complete` returns either way and Ready tells which.
  const complete = setCondition(conditions, {
    type: 'Complete',
    status: terminal ? 'True' : 'False',
    reason: input.ready.reason,
    message: terminal ? input.ready.message : 'actions remain',
    ...(generation === undefined ? {} : { observedGeneration: generation }),
  }, input.now);
  const wasTerminal = status?.phase === 'Completed' || status?.phase === 'Failed';
  const out: GrantRevocationStatus = {
    ...status,
    conditions: complete,
    phase,
    startTime: status?.startTime ?? input.now,
    ...(generation === undefined ? {} : { observedGeneration: generation }),
  };
  if (terminal) out.completionTime = wasTerminal && status?.completionTime ? status.completionTime : input.now;
  else delete out.completionTime;
  return out;
}

/**
 * Who requested the revocation, from the annotations the admission policies in
 * config/admission/ stamp (and forbid forging). Without them the requester is unknown: managedFields
 * manager names say which tool wrote the object, not which user, so they are never used.
 */
export function requestedByOf(grev: GrantRevocation): RequestedBy {
  const annotations = grev.metadata.annotations ?? {};
  const username = annotations[REQUESTED_BY_ANNOTATION];
  if (username === undefined || username === '') return { username: UNKNOWN_REQUESTER };
  const uid = annotations[REQUESTED_BY_UID_ANNOTATION];
  const groups = (annotations[REQUESTED_BY_GROUPS_ANNOTATION] ?? '').split(',').map((g) => g.trim()).filter(Boolean);
  return { username, ...(uid ? { uid } : {}), ...(groups.length ? { groups } : {}) };
}
