/**
 * The GrantRevocation a ceiling change requires (DESIGN.md "Blast radius"): when a ceiling
 * narrows, the grants holding the removed scopes are revoked; on full re-consent every grant of
 * the client is. The operator does it by creating a GrantRevocation rather than calling the IdP
 * itself, so the revocation is visible, audited and retried exactly like one an on-call engineer
 * applies, and it goes through the revocation priority lane.
 *
 * Idempotence: the name is derived from the change itself (agent uid, decision, ceiling before
 * and after, and the time of the newest history entry, which only moves once the change is
 * recorded), so a sync interrupted between the IdP update and the status write creates the same
 * object again and gets 409 AlreadyExists: already done. A later, identical change (narrow,
 * widen, narrow again) has a different newest history entry and so a new name.
 */
import { createHash } from 'node:crypto';
import { API_VERSION, AGENT_CLIENT, CONSENT_POLICY, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../../api/v1alpha1/index.ts';
import type { KubeClient } from '../../runtime/kube/client.ts';
import { isAlreadyExists } from '../../runtime/kube/errors.ts';
import type { OwnerReference, ResourceType } from '../../runtime/kube/types.ts';
import type { RegisteredChange } from '../agentclient/ceiling.ts';
import { GrantRevocations, REQUESTED_BY_ANNOTATION } from '../grantrevocation/types.ts';
import type { GrantRevocation } from '../grantrevocation/types.ts';

/** Labels on operator-created GrantRevocations (select them with `-l agentidentity.dev/decision`). */
export const AGENTCLIENT_LABEL = 'agentidentity.dev/agentclient';
export const CONSENTPOLICY_LABEL = 'agentidentity.dev/consentpolicy';
export const DECISION_LABEL = 'agentidentity.dev/decision';

/** Kubernetes object names are DNS subdomains of at most 253 characters. */
const MAX_NAME = 253;

/** The AgentClient a revocation is for. */
export interface RevocationSubject {
  namespace: string;
  name: string;
  uid: string;
}

/** Input of {@link planCeilingRevocation}. */
export interface CeilingRevocationInput {
  agent: RevocationSubject;
  /** The decided change (from `registeredCeilingChange`). */
  decided: RegisteredChange;
  /** `status.grantedScopes` before the change (the ceiling users consented under). */
  previous: readonly string[] | undefined;
  /** The ceiling the IdP holds now. */
  registered: readonly string[];
  /** Time of the newest `status.ceilingHistory` entry before the change. */
  lastHistoryTime: string | undefined;
  /** The ConsentPolicy that caused it (policy-caused changes): becomes the owner. */
  policy?: { name: string; uid: string };
  /** The operator's Kubernetes user name, stamped as requester when known. */
  requester?: string;
}

/** Whether a change needs grants revoked: full re-consent, or any scope removed. */
export function needsRevocation(decided: RegisteredChange): boolean {
  return decided.change.revokeExistingGrants || decided.change.revokeScopes.length > 0;
}

/** `<agent>-<kind>-<10 hex of the parts>`, the agent name cut so the whole fits 253 characters. */
function derivedName(agentName: string, kind: string, parts: unknown): string {
  const digest = createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 10);
  const suffix = `-${kind}-${digest}`;
  return `${agentName.slice(0, MAX_NAME - suffix.length).replace(/[-.]+$/, '')}${suffix}`;
}

/** A RevokeGrants GrantRevocation made by the operator, with the labels and owner every such one carries. */
function operatorRevocation(input: {
  agent: RevocationSubject;
  name: string;
  decision: string;
  /** Owner when set (a cluster-scoped owner of a namespaced object is allowed); else the AgentClient. */
  ownerPolicy?: { name: string; uid: string };
  /** The deciding ConsentPolicy's name, for the label. */
  policyLabel?: string;
  requester?: string;
  scopes?: string[];
  reason: string;
}): GrantRevocation {
  const { agent, ownerPolicy, policyLabel } = input;
  const owner: OwnerReference = ownerPolicy
      ? { apiVersion: API_VERSION, kind: CONSENT_POLICY.kind, name: ownerPolicy.name, uid: ownerPolicy.uid }
      : { apiVersion: API_VERSION, kind: AGENT_CLIENT.kind, name: agent.name, uid: agent.uid };
  const labels: Record<string, string> = {
    [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
    [DECISION_LABEL]: input.decision,
    ...(agent.name.length <= 63 ? { [AGENTCLIENT_LABEL]: agent.name } : {}),
    ...(policyLabel && policyLabel.length <= 63 ? { [CONSENTPOLICY_LABEL]: policyLabel } : {}),
  };
  return {
    apiVersion: API_VERSION,
    kind: 'GrantRevocation',
    metadata: {
      name: input.name,
      namespace: agent.namespace,
      labels,
      ...(input.requester ? { annotations: { [REQUESTED_BY_ANNOTATION]: input.requester } } : {}),
      ownerReferences: [owner],
    } as GrantRevocation['metadata'],
    spec: {
      target: { agentClientName: agent.name },
      actions: ['RevokeGrants'],
      ...(input.scopes ? { scopes: input.scopes } : {}),
      reason: input.reason.slice(0, 1024),
    },
  };
}

/** `<agent>-<narrowed|reconsent>-<10 hex>`, at most 253 characters. */
export function revocationName(input: CeilingRevocationInput): string {
  const full = input.decided.change.revokeExistingGrants && input.decided.change.decision !== 'PolicyNarrowed';
  return derivedName(input.agent.name, full ? 'reconsent' : 'narrowed', [
    input.agent.uid,
    input.decided.change.decision,
    [...(input.previous ?? [])].sort(),
    [...input.registered].sort(),
    input.lastHistoryTime ?? '',
  ]);
}

/**
 * The GrantRevocation for a ceiling change, or undefined when none is needed. Owned by the
 * ConsentPolicy when a policy caused the change (a cluster-scoped owner of a namespaced object is
 * allowed), else by the AgentClient, so it is garbage-collected with whatever made it.
 */
export function planCeilingRevocation(input: CeilingRevocationInput): GrantRevocation | undefined {
  const { agent, decided } = input;
  if (!needsRevocation(decided)) return undefined;
  const { change } = decided;
  const full = change.revokeExistingGrants;
  // A narrowing to nothing revokes every grant but stays a narrowing (nothing-allowed.ts).
  const narrowed = change.decision === 'PolicyNarrowed' || !full;
  const decision = narrowed ? 'PolicyNarrowed' : 'FullReconsent';
  const who = `${agent.namespace}/${agent.name}`;
  const by = decided.policy ? `ConsentPolicy ${decided.policy}` : 'its spec';
  const narrowedBy = decided.cause === 'policy' ? by : 'its spec';
  const reason = !narrowed
    ? `FullReconsent: ${change.message} (${by}); every existing grant of ${who} is revoked so users consent from scratch`
    : full
    ? `PolicyNarrowed: no scope of ${who} is allowed any more (${narrowedBy}; removed ${change.removed.join(' ')}); every grant is revoked`
    : `PolicyNarrowed: the ceiling of ${who} was narrowed by ${narrowedBy}; grants holding ${change.revokeScopes.join(' ')} are revoked`;
  return operatorRevocation({
    agent,
    name: revocationName(input),
    decision,
    ...(decided.cause === 'policy' && input.policy ? { ownerPolicy: input.policy } : {}),
    ...(decided.policy ? { policyLabel: decided.policy } : {}),
    ...(input.requester ? { requester: input.requester } : {}),
    ...(full ? {} : { scopes: [...change.revokeScopes] }),
    reason,
  });
}

/**
 * Creates the GrantRevocation unless it exists. Resolves `created` or `exists` (409: an earlier,
 * interrupted attempt already created it); other errors are thrown for the caller's backoff.
 */
export async function ensureRevocation(client: KubeClient, grev: GrantRevocation): Promise<'created' | 'exists'> {
  try {
    await client.create(GrantRevocations, grev as never);
    return 'created';
  } catch (error) {
    if (isAlreadyExists(error)) return 'exists';
    throw error;
  }
}

const SelfSubjectReviews: ResourceType = {
  group: 'authentication.k8s.io',
  version: 'v1',
  plural: 'selfsubjectreviews',
  kind: 'SelfSubjectReview',
  namespaced: false,
};

/**
 * The operator's own Kubernetes user name (e.g. `system:serviceaccount:<ns>:<sa>`), from a
 * SelfSubjectReview (authentication.k8s.io/v1, GA since Kubernetes 1.28; every authenticated
 * user may create one). Resolves undefined when the API server cannot say: the admission stamp,
 * if installed, records the requester anyway, and nothing is ever guessed.
 */
export async function resolveOperatorIdentity(client: KubeClient): Promise<string | undefined> {
  try {
    const review = await client.create<{ apiVersion: string; kind: string; status?: { userInfo?: { username?: string } } }>(SelfSubjectReviews, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'SelfSubjectReview',
    });
    const name = review.status?.userInfo?.username;
    return typeof name === 'string' && name.length > 0 ? name : undefined;
  } catch {
    return undefined;
  }
}

/** Input of {@link planReclassifiedRevocation}. */
export interface ReclassifiedRevocationInput {
  agent: RevocationSubject;
  /** Granted scopes that were standing and are now task-scoped at the IdP. */
  scopes: readonly string[];
  /** `status.taskScopedScopes` before the change (part of the name: a later reclassification gets a new one). */
  previousTaskScoped: readonly string[];
  /** The ConsentPolicy marking them task-scoped: becomes the owner. */
  policy?: { name: string; uid: string };
  requester?: string;
}

/**
 * The GrantRevocation for granted scopes a policy reclassified as task-scoped (DESIGN.md "The
 * problem" 4). The IdP now holds them under task-scoped rules, but a refresh token issued while
 * they were standing still carries them, and a refresh may keep every scope its token holds: such
 * chains would keep minting the scope under standing lifetimes. Revoking the grants holding them
 * ends those chains; users consent again and get task-scoped tokens. Called only once the IdP
 * holds the new `task_scoped` metadata (same order as a narrowing).
 */
export function planReclassifiedRevocation(input: ReclassifiedRevocationInput): GrantRevocation {
  const { agent } = input;
  const scopes = [...input.scopes].sort();
  const by = input.policy ? `ConsentPolicy ${input.policy.name}` : 'a ConsentPolicy';
  return operatorRevocation({
    agent,
    name: derivedName(agent.name, 'reclassified', [agent.uid, 'TaskScopedReclassified', scopes, [...input.previousTaskScoped].sort()]),
    decision: 'TaskScopedReclassified',
    ...(input.policy ? { ownerPolicy: input.policy, policyLabel: input.policy.name } : {}),
    ...(input.requester ? { requester: input.requester } : {}),
    scopes,
    reason: `TaskScopedReclassified: ${by} made ${scopes.join(' ')} of ${agent.namespace}/${agent.name} task-scoped; grants holding them under standing lifetimes are revoked`,
  });
}
