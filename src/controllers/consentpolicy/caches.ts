/**
 * The caches ConsentPolicy evaluation reads, shared by the ConsentPolicy and AgentClient
 * controllers (the informer factory gives both the same informer for the same spec): every
 * ConsentPolicy, every Namespace stripped to name and labels (selectors read nothing else, and a
 * large cluster has many namespaces), and the AgentClients indexed by the policies their status
 * lists, so a policy change can reach the AgentClients it selected before the change.
 */
import { AGENT_CLIENT, CONSENT_POLICY, GROUP, VERSION } from '../../api/v1alpha1/index.ts';
import type { ConsentPolicy } from '../../api/v1alpha1/index.ts';
import { policyInput } from '../../policy/index.ts';
import type { Labels, PolicyInput } from '../../policy/index.ts';
import type { InformerSpec } from '../../runtime/controller.ts';
import type { Informer } from '../../runtime/informer/informer.ts';
import type { InformerFactory } from '../../runtime/informers.ts';
import { Namespaces } from '../../runtime/kube/types.ts';
import type { KubeObject, ResourceType } from '../../runtime/kube/types.ts';
import type { AgentClient } from '../agentclient/types.ts';

// Declared here rather than imported from the AgentClient controller, which imports this module.
const AgentClients: ResourceType = { group: GROUP, version: VERSION, plural: AGENT_CLIENT.plural, kind: AGENT_CLIENT.kind, namespaced: true };
export const ConsentPolicies: ResourceType = { group: GROUP, version: VERSION, plural: CONSENT_POLICY.plural, kind: CONSENT_POLICY.kind, namespaced: false };

/** AgentClient index: the ConsentPolicies named in `status.policies`. */
export const BY_POLICY = 'consentPolicy';

/** Keeps what selectors and the informer need: name, labels, resourceVersion. */
export function stripNamespace(ns: KubeObject): KubeObject {
  const m = ns.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      ...(m.name !== undefined ? { name: m.name } : {}),
      ...(m.uid !== undefined ? { uid: m.uid } : {}),
      ...(m.resourceVersion !== undefined ? { resourceVersion: m.resourceVersion } : {}),
      ...(m.labels !== undefined ? { labels: m.labels } : {}),
    },
  };
}

export const namespaceSpec: InformerSpec = { type: Namespaces, transform: stripNamespace };
export const policySpec: InformerSpec<ConsentPolicy> = { type: ConsentPolicies };
/** The same spec as the AgentClient controller's primary informer, so the cache is shared. */
export const agentSpec: InformerSpec<AgentClient> = { type: AgentClients };

/** Read-only views over the shared caches. */
export interface PolicyCaches {
  readonly policyInformer: Informer<ConsentPolicy>;
  readonly agentInformer: Informer<AgentClient>;
  /** Every ConsentPolicy not being deleted, as the engine takes them. */
  policies(): PolicyInput[];
  policy(name: string): ConsentPolicy | undefined;
  namespaceLabels(name: string): Labels;
  /** Whether the Namespace is in the cache: an uncached one is unknown, not label-less (ceiling.ts). */
  namespaceKnown(name: string): boolean;
  agents(namespace?: string): AgentClient[];
  /** AgentClients whose `status.policies` names the policy. */
  agentsListing(policy: string): AgentClient[];
}

function isDeleting(obj: KubeObject): boolean {
  return obj.metadata?.deletionTimestamp !== undefined && obj.metadata.deletionTimestamp !== null;
}

/**
 * Registers (once) the informers and the index, and returns views over them. `agents` is the
 * AgentClient informer to use (the AgentClient controller passes its own primary spec, which may
 * carry a label selector).
 */
export function policyCaches(informers: InformerFactory, agents: InformerSpec<AgentClient> = agentSpec): PolicyCaches {
  const policyInformer = informers.get(policySpec);
  const namespaces = informers.get(namespaceSpec);
  const agentInformer = informers.get(agents);
  agentInformer.addIndexer(BY_POLICY, (obj) => (obj).status?.policies ?? []);
  return {
    policyInformer,
    agentInformer,
    policies: () => policyInformer.list().filter((p) => !isDeleting(p) && p.spec !== undefined).map(policyInput),
    policy: (name) => policyInformer.get(name),
    namespaceLabels: (name) => namespaces.get(name)?.metadata?.labels,
    namespaceKnown: (name) => namespaces.get(name) !== undefined,
    agents: (namespace) => agentInformer.list(namespace),
    agentsListing: (policy) => agentInformer.byIndex(BY_POLICY, policy),
  };
}
