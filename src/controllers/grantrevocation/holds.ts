/**
 * What the AgentClient controller wires in to honour GrantRevocation holds: a view of the holds on
 * one AgentClient (from the GrantRevocation cache) and a watch that wakes, in the priority lane,
 * every AgentClient a GrantRevocation targets whenever that GrantRevocation changes (created,
 * results recorded, deletion started, gone).
 */
import type { WatchSpec } from '../../runtime/controller.ts';
import type { InformerFactory } from '../../runtime/informers.ts';
import type { Informer } from '../../runtime/informer/informer.ts';
import type { KubeObject } from '../../runtime/kube/types.ts';
import type { AgentClient } from '../agentclient/types.ts';
import { specSelects, statusRecords } from './plan.ts';
import { activeSuspensions, registrationDeletions } from './suspension.ts';
import type { Hold } from './suspension.ts';
import { GrantRevocations } from './types.ts';
import type { GrantRevocation } from './types.ts';

export interface RevocationHolds {
  /** Suspensions: no Secret, client kept disabled, `Suspended=True`. */
  suspendedBy: Hold[];
  /** Registration deletions: not registered again, `Registered=False` reason `DeletedByRevocation`. */
  deletedBy: Hold[];
}

export interface HoldsView {
  holds: (agentClient: AgentClient) => RevocationHolds;
  watch: WatchSpec<KubeObject>;
}

/** `agents` is the AgentClient controller's own informer (its keys are what the watch yields). */
export function revocationHolds(informers: InformerFactory, agents: Informer<KubeObject>): HoldsView {
  const grevs = informers.get({ type: GrantRevocations });
  const inNamespace = (ns: string): GrantRevocation[] => grevs.list(ns) as unknown as GrantRevocation[];
  return {
    holds: (agentClient) => {
      const list = inNamespace(agentClient.metadata.namespace);
      return { suspendedBy: activeSuspensions(agentClient, list), deletedBy: registrationDeletions(agentClient, list) };
    },
    watch: {
      source: { type: GrantRevocations },
      map(obj) {
        const grev = obj as unknown as GrantRevocation;
        if (!grev.spec.actions.some((a) => a === 'Suspend' || a === 'DeleteRegistration')) return [];
        return (agents.list(grev.metadata.namespace) as unknown as AgentClient[])
          .filter((a) => specSelects(grev, a) || statusRecords(grev, a.metadata.name))
          .map((a) => `${a.metadata.namespace}/${a.metadata.name}`);
      },
      priority: () => true,
    },
  };
}
