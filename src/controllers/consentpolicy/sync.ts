/**
 * One ConsentPolicy sync: check it, count the AgentClients it selects, see whether each of them
 * already carries the ceiling the policy implies, and report (status written only when it
 * changed; an Event when Ready changes). The ceilings themselves are applied by the AgentClient
 * controller, which the fan-out wakes; this controller only reports.
 *
 * Ready (API.md): True when the policy is valid and applied to every registered AgentClient it
 * selects (each one's status shows the ceiling and policy list this evaluation expects); False
 * with InvalidSelector / InvalidDuration / InvalidScopePattern, or Applying while AgentClients
 * catch up.
 */
import type { ConsentPolicy, ConsentPolicyStatus } from '../../api/v1alpha1/index.ts';
import { policyInput, policySelects } from '../../policy/index.ts';
import type { Clock } from '../../runtime/clock.ts';
import { getCondition, setCondition } from '../../runtime/conditions.ts';
import type { EventRecorder } from '../../runtime/events.ts';
import type { KubeClient } from '../../runtime/kube/client.ts';
import type { Condition } from '../../runtime/kube/types.ts';
import { patchStatusIfChanged, statusEqual } from '../../runtime/status.ts';
import { agentView, ceilingStatusUpToDate, evaluateCeiling } from '../agentclient/ceiling.ts';
import type { AgentClient } from '../agentclient/types.ts';
import { ConsentPolicies } from './caches.ts';
import type { PolicyCaches } from './caches.ts';
import { checkPolicy } from './check.ts';

/** What the sync needs of the IdentityProvider registry: the `tokenLifetimes` capability. */
export interface CapabilityLookup {
  get(name: string): { discovered?: { capabilities: { tokenLifetimes: boolean } } | undefined } | undefined;
}

export interface PolicySyncDeps {
  client: KubeClient;
  caches: PolicyCaches;
  providers: CapabilityLookup;
  recorder: EventRecorder;
  clock: Clock;
  allowNoPolicy: boolean;
}

/** How the policy stands with the AgentClients it selects. */
export interface Application {
  selected: number;
  /** Selected, registered AgentClients whose status does not show the expected ceiling yet. */
  pending: string[];
}

/** Counts the selection and the AgentClients still to catch up. */
export function application(deps: PolicySyncDeps, policy: ConsentPolicy): Application {
  const name = policy.metadata?.name ?? '';
  const input = policyInput(policy);
  const all = deps.caches.policies();
  let selected = 0;
  const pending: string[] = [];
  const check = (agent: AgentClient): void => {
    if (!agent.status?.clientId) return; // nothing registered yet: it registers under the policy
    const evaluation = evaluateCeiling({
      agent: agentView(agent),
      namespaceLabels: deps.caches.namespaceLabels(agent.metadata.namespace),
      namespaceKnown: deps.caches.namespaceKnown(agent.metadata.namespace),
      policies: all,
      allowNoPolicy: deps.allowNoPolicy,
      tokenLifetimes: deps.providers.get(agent.spec.identityProviderRef.name)?.discovered?.capabilities.tokenLifetimes,
    });
    if (!ceilingStatusUpToDate(agentView(agent), evaluation)) pending.push(`${agent.metadata.namespace}/${agent.metadata.name}`);
  };
  const key = (a: AgentClient): string => `${a.metadata.namespace}/${a.metadata.name}`;
  const listing = new Set(deps.caches.agentsListing(name).map(key));
  for (const agent of deps.caches.agents()) {
    const verdict = policySelects(input, { labels: agent.metadata.labels, namespaceLabels: deps.caches.namespaceLabels(agent.metadata.namespace) });
    if (verdict.ok && verdict.matches) {
      selected++;
      check(agent);
    } else if (listing.has(key(agent))) {
      check(agent); // selected before the change: applied once released
    }
  }
  return { selected, pending: pending.sort() };
}

type CondInput = Pick<Condition, 'status' | 'reason' | 'message'>;

/** The Ready condition for a policy in this state. Pure. */
export function readiness(problem: ReturnType<typeof checkPolicy>, app: Application): CondInput {
  if (problem) return { status: 'False', reason: problem.reason, message: problem.message };
  if (app.pending.length > 0) {
    const sample = app.pending.slice(0, 5).join(', ');
    const more = app.pending.length > 5 ? ` and ${app.pending.length - 5} more` : '';
    return { status: 'False', reason: 'Applying', message: `${app.pending.length} AgentClient(s) do not carry the policy's ceiling yet: ${sample}${more}` };
  }
  return { status: 'True', reason: 'Applied', message: `valid; applied to the ${app.selected} AgentClient(s) it selects` };
}

/** Reconciles one ConsentPolicy by name. */
export async function syncConsentPolicy(deps: PolicySyncDeps, name: string): Promise<void> {
  const policy = deps.caches.policy(name);
  if (!policy?.spec || policy.metadata?.deletionTimestamp) return;
  const generation = policy.metadata?.generation;
  const problem = checkPolicy(policyInput(policy).spec);
  const app = application(deps, policy);
  const ready = readiness(problem, app);
  const now = new Date(deps.clock.now());
  const previous = getCondition(policy.status?.conditions, 'Ready');
  const conditions = setCondition(policy.status?.conditions, { type: 'Ready', ...ready, ...(generation !== undefined ? { observedGeneration: generation } : {}) }, now);
  const next: ConsentPolicyStatus = {
    ...(policy.status ?? {}),
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    conditions: conditions,
    selectedAgentClients: app.selected,
  };
  // lastEvaluationTime moves only with a real change, so steady state writes nothing.
  const { lastEvaluationTime: _old, ...rest } = policy.status ?? {};
  const { lastEvaluationTime: _new, ...nextRest } = next;
  void _old;
  void _new;
  if (statusEqual(rest, nextRest)) return;
  next.lastEvaluationTime = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  await patchStatusIfChanged(deps.client, ConsentPolicies, policy, next);
  if (previous?.status !== ready.status || previous.reason !== ready.reason) {
    if (problem) await deps.recorder.event(policy, 'Warning', problem.reason, problem.message);
    else if (ready.status === 'True') await deps.recorder.event(policy, 'Normal', 'Applied', ready.message);
  }
}
