/**
 * Which AgentClients a ConsentPolicy or Namespace change affects. The AgentClient controller
 * registers {@link consentPolicyWatches}, so a policy change becomes one queue key per affected
 * AgentClient (deduplicated, rate-limited, retried with backoff like any other key) rather than
 * one long loop inside a reconcile.
 *
 * "Affected" is every AgentClient the policy selects after the change, every one it may select
 * (an invalid selector: those AgentClients hold their ceiling and must say so), and every one
 * whose `status.policies` names it (selected before the change; also covers a deleted policy).
 * The last set is read from status rather than remembered, so it survives a restart; the
 * AgentClients an invalid selector held are remembered from the policy's previous change.
 */
import type { ConsentPolicy } from '../../api/v1alpha1/index.ts';
import { policyInput, policySelects } from '../../policy/index.ts';
import type { WatchSpec } from '../../runtime/controller.ts';
import { keyOf } from '../../runtime/kube/keys.ts';
import type { KubeObject } from '../../runtime/kube/types.ts';
import type { AgentClient } from '../agentclient/types.ts';
import { namespaceSpec, policySpec } from './caches.ts';
import type { PolicyCaches } from './caches.ts';

const agentKey = (a: AgentClient): string => keyOf(a.metadata.namespace, a.metadata.name);

/** Keys of the AgentClients a policy (in the given state) affects; see the module comment. */
export function affectedAgentKeys(policy: ConsentPolicy, caches: PolicyCaches): string[] {
  const keys = new Set<string>();
  const name = policy.metadata?.name ?? '';
  if (policy.spec) {
    const input = policyInput(policy);
    for (const agent of caches.agents()) {
      const verdict = policySelects(input, { labels: agent.metadata.labels, namespaceLabels: caches.namespaceLabels(agent.metadata.namespace) });
      if (!verdict.ok || verdict.matches) keys.add(agentKey(agent));
    }
  }
  for (const agent of caches.agentsListing(name)) keys.add(agentKey(agent));
  return [...keys];
}

/** A policy's own status writes change neither its generation nor its deletion. */
export function policySpecChanged(a: KubeObject, b: KubeObject): boolean {
  return a.metadata?.generation !== b.metadata?.generation || Boolean(a.metadata?.deletionTimestamp) !== Boolean(b.metadata?.deletionTimestamp);
}

export function labelsChanged(a: KubeObject, b: KubeObject): boolean {
  return JSON.stringify(a.metadata?.labels ?? {}) !== JSON.stringify(b.metadata?.labels ?? {});
}

/** Watches for the AgentClient controller: ConsentPolicies and Namespaces mapped to AgentClient keys. */
// Watches are heterogeneous (as in Controller.watches); each is typed where it is written.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function consentPolicyWatches(caches: PolicyCaches): WatchSpec<any>[] {
  // What each policy affected at its previous change: an invalid selector's "may select" set is
  // recorded nowhere in status, and those AgentClients must be woken when it is fixed. Lost on
  // restart, when every AgentClient is reconciled anyway.
  const previous = new Map<string, string[]>();
  const policyWatch: WatchSpec<ConsentPolicy> = {
    source: policySpec,
    map: (policy) => {
      const name = policy.metadata?.name ?? '';
      const now = affectedAgentKeys(policy, caches);
      const before = previous.get(name) ?? [];
      if (caches.policy(name)) previous.set(name, now);
      else previous.delete(name);
      return [...new Set([...now, ...before])];
    },
    predicate: policySpecChanged,
  };
  const namespaceWatch: WatchSpec = {
    source: namespaceSpec,
    map: (ns) => caches.agents(ns.metadata?.name ?? '').map(agentKey),
    predicate: labelsChanged,
  };
  return [policyWatch, namespaceWatch];
}
