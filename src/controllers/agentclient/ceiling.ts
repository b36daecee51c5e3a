/**
 * An AgentClient's scope ceiling under the ConsentPolicies that select it, and what a change of
 * the registered ceiling means (DESIGN.md "The problem" 2-4, "ConsentPolicy"). Pure: the caller
 * gathers the inputs (policies and namespace labels from the caches, the IdP's capabilities, the
 * clock) and applies the result (registration metadata, status, GrantRevocation).
 *
 * Two steps, because the IdP is the authority on what is registered:
 * 1. {@link evaluateCeiling} before the registration is written: the ceiling to register
 *    (`granted`), the denied scopes, the lifetimes to project, the PolicyCompliant and
 *    TokenLifetimesProjected conditions;
 * 2. {@link registeredCeilingChange} once the IdP holds a ceiling that differs from the one the
 *    status reported: the decision (Initial, Delta, FullReconsent, PolicyNarrowed), its cause
 *    and the history entry. The grant revocation it needs is built by
 *    `consentpolicy/narrowing.ts`.
 */
import type { AgentClientStatusDeniedScopesItem } from '../../api/v1alpha1/index.ts';
import {
  compareScopes,
  decideCeilingChange,
  differenceScopes,
  effectiveCeiling,
  effectiveLifetimes,
  matchesAnyPattern,
  normalizeScopes,
  recordCeilingChange,
  selectPolicies,
} from '../../policy/index.ts';
import type { CeilingChange, CeilingHistoryEntry, EffectiveLifetimes, Labels, PolicyInput } from '../../policy/index.ts';
import { statusEqual } from '../../runtime/status.ts';
import type { AgentClient } from './types.ts';

/** One `status.deniedScopes` entry. */
export type DeniedScopeStatus = AgentClientStatusDeniedScopesItem;

/** PolicyCompliant reason while the AgentClient's Namespace is not in the cache (ceiling held). */
export const NAMESPACE_UNKNOWN = 'NamespaceUnknown';

/** Denial reason when the IdP cannot enforce task-scoped lifetimes (see {@link evaluateCeiling}). */
export const TASK_SCOPED_UNSUPPORTED = 'TaskScopedUnsupportedByIdP';

/** Condition type saying whether the policy's token lifetimes are in force at the IdP. */
export const LIFETIMES_CONDITION = 'TokenLifetimesProjected';

/** What the AgentClient carries that the evaluation reads (see {@link agentView}). */
export interface AgentView {
  namespace: string;
  name: string;
  uid: string;
  generation?: number;
  labels?: Record<string, string>;
  /** `spec.scopes`. */
  requested: readonly string[];
  status?: {
    grantedScopes?: string[];
    deniedScopes?: DeniedScopeStatus[];
    policies?: string[];
    ceilingHistory?: CeilingHistoryEntry[];
  };
}

/** The evaluation's view of an AgentClient object from the cache. */
export function agentView(agent: AgentClient): AgentView {
  const status = agent.status;
  return {
    namespace: agent.metadata.namespace,
    name: agent.metadata.name,
    uid: agent.metadata.uid,
    ...(agent.metadata.generation !== undefined ? { generation: agent.metadata.generation } : {}),
    ...(agent.metadata.labels ? { labels: agent.metadata.labels } : {}),
    requested: agent.spec.scopes ?? [],
    ...(status
      ? {
          status: {
            ...(status.grantedScopes ? { grantedScopes: status.grantedScopes } : {}),
            ...(status.deniedScopes ? { deniedScopes: status.deniedScopes } : {}),
            ...(status.policies ? { policies: status.policies } : {}),
            ...(status.ceilingHistory ? { ceilingHistory: status.ceilingHistory } : {}),
          },
        }
      : {}),
  };
}

export interface CeilingEvaluationInput {
  agent: AgentView;
  /** Labels of the AgentClient's namespace (undefined: no labels). */
  namespaceLabels: Labels;
  /**
   * Whether the namespace is in the cache. An uncached namespace is unknown, not label-less:
   * read as "no labels" a restrictive policy's `namespaceSelector` would stop matching (and
   * `NotIn`/`DoesNotExist` start to), so the intersection would run over fewer policies and
   * widen the ceiling. Unknown holds the current ceiling instead. Default true.
   */
  namespaceKnown?: boolean;
  /** Every ConsentPolicy in the cluster that is not being deleted. */
  policies: readonly PolicyInput[];
  /** Operator flag `--allow-no-policy`. */
  allowNoPolicy: boolean;
  /** The IdP's `tokenLifetimes` capability; undefined while the IdP is not discovered. */
  tokenLifetimes: boolean | undefined;
}

/** A condition to set, without type bookkeeping. */
export interface ConditionResult {
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

/**
 * RFC 7591 extension metadata projecting the policy's lifetimes (seconds). The embedded IdP reads
 * `token_lifetimes` for standing grants and `task_scoped` for tokens carrying a task-scoped scope.
 */
export interface LifetimeProjection {
  token_lifetimes: { access_token: number; refresh_token: number };
  /** Absent when no granted scope is task-scoped. */
  task_scoped?: { scopes: string[]; access_token: number; single_use_refresh: boolean; session_binding: boolean };
}

export interface CeilingEvaluation {
  /**
   * A matching-or-unknown policy has an invalid selector: the current ceiling is kept (neither
   * widened nor narrowed) and the fields below repeat the current status.
   */
  held: boolean;
  /** The ceiling to register at the IdP. */
  granted: string[];
  denied: DeniedScopeStatus[];
  /** Names of the selecting policies (`status.policies`). */
  policies: string[];
  /** The selecting policies themselves (input of the change decision). */
  matching: PolicyInput[];
  /** Granted scopes that are task-scoped. */
  taskScoped: string[];
  lifetimes: EffectiveLifetimes;
  projection: LifetimeProjection;
  policyCompliant: ConditionResult;
  lifetimesProjected: ConditionResult;
}

const seconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

function sameStrings(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return JSON.stringify(a ?? []) === JSON.stringify(b ?? []);
}

function listed(scopes: readonly string[]): string {
  return scopes.length === 0 ? '(none)' : scopes.join(' ');
}

/** Evaluates an AgentClient's ceiling; see the module comment. */
export function evaluateCeiling(input: CeilingEvaluationInput): CeilingEvaluation {
  const { agent } = input;
  const selection = selectPolicies(input.policies, { labels: agent.labels, namespaceLabels: input.namespaceLabels });
  const matching = selection.matching;
  const lifetimes = effectiveLifetimes(matching);
  if (input.namespaceKnown === false) {
    return held(agent, matching, lifetimes, NAMESPACE_UNKNOWN, `Namespace ${agent.namespace} is not in the operator's cache yet, so which ConsentPolicies select this AgentClient is unknown`);
  }
  if (selection.invalid.length > 0) {
    const which = selection.invalid.map((i) => `ConsentPolicy ${i.policy} (${i.error})`).join('; ');
    return held(agent, matching, lifetimes, 'PolicySelectorInvalid', `the selector is invalid: ${which}`);
  }
  const ceiling = effectiveCeiling({ requested: agent.requested, policies: matching, allowNoPolicy: input.allowNoPolicy });
  let granted = ceiling.granted;
  const denied: DeniedScopeStatus[] = ceiling.denied.map((d) => ({ scope: d.scope, reason: d.reason, ...(d.policy ? { policy: d.policy } : {}) }));
  let taskScoped = ceiling.taskScoped;
  // A task-scoped scope is never grantable under standing lifetimes: where the IdP cannot hold
  // per-client lifetimes (or is not known yet), it stays out of the ceiling.
  if (input.tokenLifetimes !== true && taskScoped.length > 0) {
    for (const scope of taskScoped) {
      const marking = matching.find((p) => matchesAnyPattern(scope, p.spec.taskScoped?.scopes ?? []))?.name;
      denied.push({ scope, reason: TASK_SCOPED_UNSUPPORTED, ...(marking ? { policy: marking } : {}) });
    }
    granted = differenceScopes(granted, taskScoped);
    taskScoped = [];
    denied.sort((a, b) => compareScopes(a.scope, b.scope));
  }
  return {
    held: false,
    granted,
    denied,
    policies: ceiling.policies,
    matching,
    taskScoped,
    lifetimes,
    projection: project(lifetimes, taskScoped),
    policyCompliant: compliance(matching, denied, input.allowNoPolicy, granted),
    lifetimesProjected: lifetimesCondition(input.tokenLifetimes, lifetimes, taskScoped),
  };
}

/**
 * The current ceiling kept, neither widened nor narrowed, while the policies that apply cannot be
 * known: nothing new is registered (an unregistered AgentClient has no ceiling to keep, so it is
 * not registered) and nothing is revoked.
 */
function held(agent: AgentView, matching: PolicyInput[], lifetimes: EffectiveLifetimes, reason: string, why: string): CeilingEvaluation {
  const current = agent.status?.grantedScopes ?? [];
  return {
    held: true,
    granted: normalizeScopes(current),
    denied: agent.status?.deniedScopes ?? [],
    policies: agent.status?.policies ?? [],
    matching,
    taskScoped: [],
    lifetimes,
    projection: project(lifetimes, []),
    policyCompliant: { status: 'Unknown', reason, message: `the ceiling ${listed(current)} is kept unchanged until this is resolved: ${why}` },
    lifetimesProjected: { status: 'Unknown', reason, message: 'lifetimes are kept unchanged until the applicable ConsentPolicies are known' },
  };
}

function project(lifetimes: EffectiveLifetimes, taskScoped: readonly string[]): LifetimeProjection {
  const out: LifetimeProjection = {
    token_lifetimes: {
      access_token: seconds(lifetimes.standing.accessTokenTTLMs),
      refresh_token: seconds(lifetimes.standing.refreshTokenTTLMs),
    },
  };
  if (taskScoped.length > 0) {
    out.task_scoped = {
      scopes: [...taskScoped],
      access_token: seconds(lifetimes.taskScoped.accessTokenTTLMs),
      single_use_refresh: lifetimes.taskScoped.singleUseRefresh,
      session_binding: lifetimes.taskScoped.sessionBinding,
    };
  }
  return out;
}

function compliance(matching: readonly PolicyInput[], denied: readonly DeniedScopeStatus[], allowNoPolicy: boolean, granted: readonly string[]): ConditionResult {
  const names = matching.map((p) => p.name).join(', ');
  if (matching.length === 0 && !allowNoPolicy) {
    return { status: 'False', reason: 'NoMatchingPolicy', message: 'no ConsentPolicy selects this AgentClient, so no scope is allowed' };
  }
  if (denied.length > 0) {
    const what = denied.map((d) => `${d.scope} (${d.reason}${d.policy ? ` by ${d.policy}` : ''})`).join(', ');
    return { status: 'False', reason: 'ScopesDenied', message: `ceiling ${listed(granted)}; denied: ${what}` };
  }
  if (matching.length === 0) {
    return { status: 'True', reason: 'NoPolicyAllowed', message: 'no ConsentPolicy selects this AgentClient; the operator allows the requested scopes (--allow-no-policy)' };
  }
  return { status: 'True', reason: 'Compliant', message: `every requested scope is allowed by ${names}` };
}

function lifetimesCondition(supported: boolean | undefined, lifetimes: EffectiveLifetimes, taskScoped: readonly string[]): ConditionResult {
  if (supported === undefined) return { status: 'Unknown', reason: 'IdentityProviderNotReady', message: 'the IdP capabilities are not known yet' };
  if (!supported) {
    return {
      status: 'False',
      reason: 'UnsupportedByIdP',
      message: "the IdP cannot set per-client token lifetimes: its own lifetimes apply, and task-scoped scopes are left out of the ceiling",
    };
  }
  const s = lifetimes.standing;
  const t = lifetimes.taskScoped;
  const task =
    taskScoped.length > 0
      ? `; task-scoped ${taskScoped.join(' ')}: access ${seconds(t.accessTokenTTLMs)}s, ${t.singleUseRefresh ? 'single-use' : 'reusable'} refresh${t.sessionBinding ? ', bound to the user session' : ''}`
      : '';
  const errors = lifetimes.errors.length > 0 ? `; ignored unparseable ${lifetimes.errors.map((e) => `${e.policy} ${e.field}`).join(', ')}` : '';
  return {
    status: 'True',
    reason: 'Projected',
    message: `standing access ${seconds(s.accessTokenTTLMs)}s, refresh ${seconds(s.refreshTokenTTLMs)}s${task}${errors}`,
  };
}

/** Whether the status already reports this evaluation's ceiling fields. */
export function ceilingStatusUpToDate(agent: AgentView, evaluation: CeilingEvaluation): boolean {
  const s = agent.status;
  return (
    sameStrings(normalizeScopes(s?.grantedScopes ?? []), evaluation.granted) &&
    sameStrings(s?.policies, evaluation.policies) &&
    // Key order differs once the API server has stored the object: compare canonically.
    statusEqual(s?.deniedScopes ?? [], evaluation.denied)
  );
}

/** Input of {@link registeredCeilingChange}. */
export interface RegisteredChangeInput {
  agent: AgentView;
  /** The ceiling the IdP now holds. */
  registered: readonly string[];
  evaluation: Pick<CeilingEvaluation, 'matching' | 'denied' | 'policies'>;
  /** RFC 3339 time of the decision. */
  time: string;
}

/** A decided change of the registered ceiling. */
export interface RegisteredChange {
  change: CeilingChange;
  /** `policy` when a ConsentPolicy caused it (a scope still requested was removed or newly allowed). */
  cause: 'spec' | 'policy';
  /** The policy recorded in history: the one that decided it, if any. */
  policy?: string;
  /** `status.ceilingHistory` with the decision appended (unchanged for `None`). */
  history: CeilingHistoryEntry[];
}

/**
 * Decides what the IdP's new ceiling means relative to `status.grantedScopes` (the ceiling
 * users last consented under). The cause is read per scope: a removed scope the spec still
 * requests was removed by a policy; an added scope the status listed as denied was allowed by a
 * policy. A policy cause wins when both apply, because the platform team's change is the one
 * users did not ask for.
 */
export function registeredCeilingChange(input: RegisteredChangeInput): RegisteredChange {
  const { agent, evaluation } = input;
  const previous = agent.status?.grantedScopes;
  const next = normalizeScopes(input.registered);
  const requested = new Set(agent.requested);
  const wasDenied = new Set((agent.status?.deniedScopes ?? []).map((d) => d.scope));
  const probe = decideCeilingChange({ previous, next, policies: evaluation.matching, cause: 'spec' });
  const byPolicy = probe.removed.some((s) => requested.has(s)) || probe.added.some((s) => wasDenied.has(s));
  const cause = byPolicy ? 'policy' : 'spec';
  const change = byPolicy ? decideCeilingChange({ previous, next, policies: evaluation.matching, cause }) : probe;
  let policy: string | undefined = change.policy;
  if (policy === undefined && byPolicy) {
    const denier = evaluation.denied.find((d) => change.removed.includes(d.scope) && d.policy)?.policy;
    const released = (agent.status?.policies ?? []).find((p) => !evaluation.policies.includes(p));
    policy = denier ?? released ?? evaluation.policies[0];
  }
  const history = recordCeilingChange(agent.status?.ceilingHistory, change, {
    time: input.time,
    ...(policy !== undefined ? { policy } : {}),
    ...(agent.generation !== undefined ? { generation: agent.generation } : {}),
  });
  return { change, cause, ...(policy !== undefined ? { policy } : {}), history };
}
