/**
 * ConsentPolicy controller wiring. Primary: ConsentPolicies (cluster-scoped; our own status
 * writes are filtered out). Watches:
 * - AgentClients: a change of labels, spec, deletion, or of the ceiling fields of status
 *   (grantedScopes, deniedScopes, policies, clientId) re-counts the policies that select it now
 *   or that its status names, gathered over {@link AGENT_RECOUNT_WINDOW_MS} (a recount is O(N));
 * - Namespaces (cached as name + labels): a label change may change every policy's selection.
 *
 * The ceilings are applied by the AgentClient controller, woken per AgentClient by
 * {@link consentPolicyWatches} (fanout.ts); this controller validates and reports.
 */
import type { ConsentPolicy } from '../../api/v1alpha1/index.ts';
import { policySelects } from '../../policy/index.ts';
import type { Controller, WatchSpec } from '../../runtime/controller.ts';
import type { KubeObject } from '../../runtime/kube/types.ts';
import type { AgentClient } from '../agentclient/types.ts';
import type { ControllerDeps } from '../types.ts';
import { agentSpec, namespaceSpec, policyCaches } from './caches.ts';
import type { PolicyCaches } from './caches.ts';
import { labelsChanged, policySpecChanged } from './fanout.ts';
import { syncConsentPolicy } from './sync.ts';

export const CONSENT_POLICY_CONTROLLER = 'consentpolicy';
/** How long AgentClient changes are gathered before the policies they concern are recounted. */
export const AGENT_RECOUNT_WINDOW_MS = 1_000;

/** Names of the policies an AgentClient concerns: those selecting it (or unsure) and those its status names. */
export function policiesConcerning(agent: AgentClient, caches: PolicyCaches): string[] {
  const names = new Set(agent.status?.policies ?? []);
  const target = { labels: agent.metadata.labels, namespaceLabels: caches.namespaceLabels(agent.metadata.namespace) };
  for (const policy of caches.policies()) {
    const verdict = policySelects(policy, target);
    if (!verdict.ok || verdict.matches) names.add(policy.name);
  }
  return [...names];
}

function ceilingFieldsChanged(a: AgentClient, b: AgentClient): boolean {
  const pick = (x: AgentClient): string =>
    JSON.stringify([x.status?.grantedScopes, x.status?.deniedScopes, x.status?.policies, x.status?.clientId, x.metadata.generation, Boolean(x.metadata.deletionTimestamp)]);
  return pick(a) !== pick(b) || labelsChanged(a, b);
}

export function consentPolicyController(deps: ControllerDeps): Controller<ConsentPolicy> {
  const caches = policyCaches(deps.informers);
  const syncDeps = {
    client: deps.client,
    caches,
    providers: deps.providers,
    recorder: deps.recorder,
    clock: deps.clock,
    allowNoPolicy: deps.settings.allowNoPolicy,
  };
  const agentWatch: WatchSpec<AgentClient> = {
    source: agentSpec,
    map: (agent) => policiesConcerning(agent, caches),
    predicate: ceilingFieldsChanged,
    // A recount reads every AgentClient: during a burst (1,000 registering, or a narrowing
    // being applied) one recount per window, not one per AgentClient change.
    coalesceMs: AGENT_RECOUNT_WINDOW_MS,
  };
  const namespaceWatch: WatchSpec<KubeObject> = {
    source: namespaceSpec,
    map: () => caches.policies().map((p) => p.name),
    predicate: labelsChanged,
  };
  return {
    name: CONSENT_POLICY_CONTROLLER,
    primary: { type: caches.policyInformer.type, predicate: policySpecChanged },
    watches: [agentWatch, namespaceWatch],
    concurrency: 2,
    reconcile: async (name) => {
      await syncConsentPolicy(syncDeps, name);
    },
  };
}
