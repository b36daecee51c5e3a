/**
 * ConsentPolicy in the AgentClient sync: the glue between the pure evaluation (`ceiling.ts`), the
 * shared caches, the registration metadata and the status. Kept out of sync/apply/report so those
 * carry only a few marked calls.
 *
 * Order of a ceiling change (DESIGN.md "Blast radius"):
 * 1. the registration at the IdP is updated to the new ceiling (RFC 7592 PUT, planned like any
 *    drift);
 * 2. then the GrantRevocation is created (narrowing: grants holding the removed scopes; full
 *    re-consent: every grant). PUT first, because once the IdP holds the narrower ceiling no new
 *    grant or token beyond it can be issued, so the revocation that follows sweeps everything;
 *    revoking first would leave a window in which a user could consent, or an agent refresh, to
 *    the old ceiling again;
 * 3. then status records the decision (grantedScopes, ceilingHistory). Until status is written,
 *    every retry sees the same (previous, registered) pair and creates the same GrantRevocation
 *    name, which then already exists: a crash anywhere repeats nothing twice.
 */
import type { ClientMetadata, IdpCapabilities } from '../../idp/adapter.ts';
import { matchesAnyPattern, normalizeScopes } from '../../policy/index.ts';
import type { Condition } from '../../runtime/kube/types.ts';
import type { KubeClient } from '../../runtime/kube/client.ts';
import type { PolicyCaches } from '../consentpolicy/caches.ts';
import { ensureRevocation, needsRevocation, planCeilingRevocation, planReclassifiedRevocation } from '../consentpolicy/narrowing.ts';
import { agentView, evaluateCeiling, LIFETIMES_CONDITION, registeredCeilingChange } from './ceiling.ts';
import type { CeilingEvaluation, RegisteredChange } from './ceiling.ts';
import { allowsNothing, ceilingKeptRecorded, nothingAllowedCondition, policyCompliantSince } from './nothing-allowed.ts';
import type { ClientAccess } from './nothing-allowed.ts';
import type { AgentClient, AgentClientStatus } from './types.ts';
import { CEILING_NOT_ENFORCEABLE, notEnforceableCondition } from './enforcement.ts';
import { statusEqual } from '../../runtime/status.ts';

/** What the AgentClient controller needs for ConsentPolicy evaluation. */
export interface PolicyDeps {
  caches: PolicyCaches;
  /** Operator flag `--allow-no-policy`. */
  allowNoPolicy: boolean;
  /** The operator's Kubernetes user name for GrantRevocations it creates (memoized lookup). */
  requester(): Promise<string | undefined>;
}

/** Evaluates the ceiling of an AgentClient from the caches and the IdP's capabilities. */
export function evaluateAgent(deps: PolicyDeps, agent: AgentClient, capabilities: IdpCapabilities | undefined): CeilingEvaluation {
  return evaluateCeiling({
    agent: agentView(agent),
    namespaceLabels: deps.caches.namespaceLabels(agent.metadata.namespace),
    namespaceKnown: deps.caches.namespaceKnown(agent.metadata.namespace),
    policies: deps.caches.policies(),
    allowNoPolicy: deps.allowNoPolicy,
    tokenLifetimes: capabilities?.tokenLifetimes,
  });
}

/**
 * Registration metadata the policy decides: the ceiling, and where the IdP can hold them
 * (`tokenLifetimes`), the standing lifetimes and the task-scoped rules. Where it cannot, both
 * are left out (the TokenLifetimesProjected condition says so; task-scoped scopes are then not
 * in the ceiling at all).
 */
export function policyMetadata(
  evaluation: CeilingEvaluation,
  capabilities: IdpCapabilities | undefined,
  registeredScope?: string,
): Pick<ClientMetadata, 'token_lifetimes'> & { ceiling: string[]; task_scoped?: unknown } {
  const out: Pick<ClientMetadata, 'token_lifetimes'> & { ceiling: string[]; task_scoped?: unknown } = { ceiling: registrableCeiling(evaluation, registeredScope) };
  if (capabilities?.tokenLifetimes) {
    out.token_lifetimes = evaluation.projection.token_lifetimes;
    if (evaluation.projection.task_scoped) out.task_scoped = evaluation.projection.task_scoped;
  }
  return out;
}

/**
 * The ceiling to register. RFC 7591 cannot express an empty ceiling (an absent `scope` means the
 * IdP's default, and oidc-provider stores an empty one as absent), so when a policy allows nothing
 * a registered client keeps its last ceiling at the IdP and is disabled there instead, or says why
 * it cannot be (nothing-allowed.ts); an unregistered one is not registered at all (plan.ts
 * NoScopesAllowed).
 */
export function registrableCeiling(evaluation: CeilingEvaluation, registeredScope: string | undefined): string[] {
  if (evaluation.granted.length > 0 || !registeredScope) return evaluation.granted;
  return normalizeScopes(registeredScope.split(' ').filter(Boolean));
}

/** Identifies the registration fields the policy decides, to notice when they change. */
export function policyFingerprint(evaluation: CeilingEvaluation, capabilities: IdpCapabilities | undefined): string {
  return JSON.stringify(policyMetadata(evaluation, capabilities));
}

/** Whether the registration's scope differs from the evaluated ceiling (a policy change to push). */
export function ceilingStale(evaluation: CeilingEvaluation, registeredScope: string | undefined): boolean {
  return registeredScope !== undefined && evaluation.granted.length > 0 && normalizeScopes(registeredScope.split(' ').filter(Boolean)).join(' ') !== evaluation.granted.join(' ');
}

/** A decided change and whether its GrantRevocation exists. */
export interface AppliedChange {
  decided: RegisteredChange;
  registered: string[];
  /** Granted scopes the IdP holds as task-scoped, once it is known to hold the evaluation (`status.taskScopedScopes`). */
  taskScoped?: string[];
}

/**
 * Step 2 above: decides what the registered ceiling means relative to the status and creates
 * the GrantRevocation it needs (create-if-absent). Throws (for backoff) when it cannot be
 * created, before status is written, so the decision is retried rather than lost.
 */
export async function applyCeilingChange(
  client: KubeClient,
  deps: PolicyDeps,
  agent: AgentClient,
  evaluation: CeilingEvaluation,
  registered: readonly string[],
  now: Date,
  access: ClientAccess = { disabled: false, disableSupported: undefined },
  projected = false,
): Promise<AppliedChange> {
  const view = agentView(agent);
  const time = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  // A client disabled because nothing is allowed has an empty effective ceiling, whatever scope
  // its registration still carries (nothing-allowed.ts).
  const effective = access.disabled ? [] : registered;
  // Empty before and after (a disabled client): nothing to decide, not an Initial of nothing.
  const base =
    effective.length === 0 && (agent.status?.grantedScopes ?? []).length === 0
      ? unchanged(agent)
      : registeredCeilingChange({ agent: view, registered: effective, evaluation, time });
  const decided = notEnforceable(agent, evaluation, access, everyGrant(agent, evaluation, access, base, effective));
  // The ceiling-kept cases record no history: the time it began tells two such episodes apart,
  // and a narrowing the IdP cannot take is told apart by the ceiling the policies allow.
  const kept = base.change.decision === 'None' && decided !== base;
  const keptCeiling = access.unenforceable?.kind === 'narrowed' ? evaluation.granted : [];
  if (needsRevocation(decided)) {
    const owner = decided.policy !== undefined ? deps.caches.policy(decided.policy) : undefined;
    const live = owner?.metadata?.uid && !owner.metadata.deletionTimestamp ? { name: decided.policy ?? '', uid: owner.metadata.uid } : undefined;
    const requester = await deps.requester();
    const grev = planCeilingRevocation({
      agent: view,
      decided,
      previous: agent.status?.grantedScopes,
      registered: kept ? keptCeiling : effective,
      lastHistoryTime: `${agent.status?.ceilingHistory?.at(-1)?.time ?? ''}${kept ? policyCompliantSince(agent) : ''}`,
      ...(live ? { policy: live } : {}),
      ...(requester ? { requester } : {}),
    });
    if (grev) await ensureRevocation(client, grev);
  }
  if (!projected || evaluation.held) return { decided, registered: normalizeScopes(effective) };
  await revokeReclassified(client, deps, agent, evaluation, reclassifiedScopes(agent, evaluation, decided));
  return { decided, registered: normalizeScopes(effective), taskScoped: [...evaluation.taskScoped] };
}

/** Creates the TaskScopedReclassified GrantRevocation (create-if-absent), owned by the marking policy. */
async function revokeReclassified(client: KubeClient, deps: PolicyDeps, agent: AgentClient, evaluation: CeilingEvaluation, reclassified: string[]): Promise<void> {
  if (reclassified.length === 0) return;
  const marking = evaluation.matching.find((p) => reclassified.some((s) => matchesAnyPattern(s, p.spec.taskScoped?.scopes ?? [])));
  const owner = marking ? deps.caches.policy(marking.name) : undefined;
  const requester = await deps.requester();
  const grev = planReclassifiedRevocation({
    agent: agentView(agent),
    scopes: reclassified,
    previousTaskScoped: agent.status?.taskScopedScopes ?? [],
    ...(marking && owner?.metadata?.uid && !owner.metadata.deletionTimestamp ? { policy: { name: marking.name, uid: owner.metadata.uid } } : {}),
    ...(requester ? { requester } : {}),
  });
  await ensureRevocation(client, grev);
}

/**
 * Granted scopes a policy made task-scoped since status last recorded the task-scoped set (the
 * IdP holds the new set: `projected`). Unknown before the first record (an AgentClient from before
 * the field existed): recorded, nothing revoked. A decision already revoking them revokes them.
 */
export function reclassifiedScopes(agent: AgentClient, evaluation: CeilingEvaluation, decided: RegisteredChange): string[] {
  const before = agent.status?.taskScopedScopes;
  if (before === undefined || decided.change.revokeExistingGrants) return [];
  const granted = new Set(agent.status?.grantedScopes ?? []);
  return evaluation.taskScoped.filter((s) => granted.has(s) && !before.includes(s) && !decided.change.revokeScopes.includes(s));
}

function unchanged(agent: AgentClient): RegisteredChange {
  return {
    change: { decision: 'None', added: [], removed: [], crossed: [], revokeExistingGrants: false, revokeScopes: [], message: 'ceiling unchanged' },
    cause: 'spec',
    history: [...(agent.status?.ceilingHistory ?? [])],
  };
}

/**
 * Nothing allowed is a narrowing of everything: every grant is revoked, not only those holding the
 * removed scopes. Disabled client: the decided PolicyNarrowed (all scopes removed) revokes all.
 * IdP keeping its ceiling (no `disableClient`): no ceiling change to record, but the grants are
 * revoked once, until status says so (PolicyCompliant NothingAllowedCeilingKept).
 */
function everyGrant(agent: AgentClient, evaluation: CeilingEvaluation, access: ClientAccess, decided: RegisteredChange, effective: readonly string[]): RegisteredChange {
  if (!allowsNothing(evaluation)) return decided;
  const message = 'no ConsentPolicy allows any requested scope: every grant is revoked';
  if (decided.change.decision === 'PolicyNarrowed') return { ...decided, change: { ...decided.change, revokeExistingGrants: true, message } };
  if (access.disabled || access.disableSupported !== false || decided.change.decision !== 'None' || ceilingKeptRecorded(agent) || effective.length === 0) return decided;
  const removed = normalizeScopes(effective);
  const policy = evaluation.denied.find((d) => d.policy)?.policy ?? (agent.status?.policies ?? []).find((p) => !evaluation.policies.includes(p));
  return {
    ...decided,
    cause: 'policy',
    ...(policy !== undefined ? { policy } : {}),
    change: { decision: 'PolicyNarrowed', added: [], removed, crossed: [], revokeExistingGrants: true, revokeScopes: removed, message },
  };
}

/**
 * A narrowing the registration cannot take (enforcement.ts): no ceiling change to record (the IdP
 * holds what it held), but the grants holding the removed scopes are revoked once, until status
 * says so (PolicyCompliant CeilingNotEnforceable with the same denied scopes: a further narrowing
 * revokes again).
 */
function notEnforceable(agent: AgentClient, evaluation: CeilingEvaluation, access: ClientAccess, decided: RegisteredChange): RegisteredChange {
  const u = access.unenforceable;
  if (u?.kind !== 'narrowed' || decided.change.decision !== 'None') return decided;
  const condition = agent.status?.conditions?.find((c) => c.type === 'PolicyCompliant');
  if (condition?.reason === CEILING_NOT_ENFORCEABLE && statusEqual(agent.status?.deniedScopes ?? [], evaluation.denied)) return decided;
  const policy = evaluation.denied.find((d) => u.removed.includes(d.scope) && d.policy)?.policy ?? (agent.status?.policies ?? []).find((p) => !evaluation.policies.includes(p));
  const message = `the policies allow ${evaluation.granted.join(' ')}, but the registration cannot be updated: grants holding ${u.removed.join(' ')} are revoked`;
  return {
    ...decided,
    cause: 'policy',
    ...(policy !== undefined ? { policy } : {}),
    change: { decision: 'PolicyNarrowed', added: [], removed: [...u.removed], crossed: [], revokeExistingGrants: false, revokeScopes: [...u.removed], message },
  };
}

/**
 * Step 3: the status fields of the ceiling. grantedScopes is what the IdP holds; deniedScopes and
 * policies follow the evaluation once the IdP holds its ceiling (so the three always describe
 * one decision); the history gets the decided entry.
 */
export function ceilingStatus(agent: AgentClient, evaluation: CeilingEvaluation, applied: AppliedChange | undefined, access?: ClientAccess): Partial<AgentClientStatus> {
  const evaluated = {
    deniedScopes: evaluation.denied.length > 0 ? evaluation.denied : undefined,
    policies: evaluation.policies.length > 0 ? evaluation.policies : undefined,
  };
  if (!applied) return evaluation.held ? {} : evaluated;
  // A narrowing the IdP cannot take is enforced by the operator instead (grants revoked, Secret
  // withheld): denied scopes say what the policies forbid.
  const inForce = applied.registered.join(' ') === evaluation.granted.join(' ') || evaluation.granted.length === 0 || access?.unenforceable !== undefined;
  const out: Partial<AgentClientStatus> = {
    grantedScopes: applied.registered,
    ...(applied.taskScoped ? { taskScopedScopes: applied.taskScoped } : {}),
    ceilingHistory: applied.decided.history.length > 0 ? applied.decided.history : undefined,
  };
  if (inForce && !evaluation.held) {
    Object.assign(out, evaluated);
  } else {
    out.deniedScopes = agent.status?.deniedScopes;
    out.policies = agent.status?.policies;
  }
  return out;
}

/** The PolicyCompliant and TokenLifetimesProjected conditions. */
export function policyConditions(
  evaluation: CeilingEvaluation,
  applied: AppliedChange | undefined,
  access: ClientAccess = { disabled: false, disableSupported: undefined },
): { type: string; status: Condition['status']; reason: string; message: string }[] {
  const pending = applied !== undefined && applied.registered.join(' ') !== evaluation.granted.join(' ') && !evaluation.held;
  // A registered client that nothing is allowed to (or that is being re-enabled): nothing-allowed.ts.
  const nothing = applied !== undefined ? nothingAllowedCondition(evaluation, applied.registered, access) : undefined;
  const compliant = nothing
    ? nothing
    : access.unenforceable?.kind === 'narrowed'
    ? notEnforceableCondition(evaluation, access.unenforceable)
    : pending
    ? { status: 'Unknown' as const, reason: 'CeilingPending', message: `the IdP still holds ${applied.registered.join(' ') || '(none)'}; registering ${evaluation.granted.join(' ') || '(none)'}` }
    : evaluation.policyCompliant;
  return [
    { type: 'PolicyCompliant', ...compliant },
    { type: LIFETIMES_CONDITION, ...evaluation.lifetimesProjected },
  ];
}
