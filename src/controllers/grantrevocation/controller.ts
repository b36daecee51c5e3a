/**
 * The GrantRevocation controller: wiring and watches. Every key goes to the work queue's
 * priority lane (primary objects and everything mapped to them), so a revocation starts at once
 * even while a large AgentClient backlog is being worked.
 *
 * Watches:
 * - GrantRevocations (primary);
 * - AgentClients: a change of generation, labels, client_id, handled rotation request or deletion
 *   re-plans the revocations that target it (new selector matches; a held suspension re-asserted after a GitOps re-apply);
 * - the IdentityProvider registry: any change of an IdP wakes the revocations still waiting or
 *   lifting, so an IdP that comes back is used at once rather than after the backoff.
 */
import type { Logger } from 'pino';
import type { Controller } from '../../runtime/controller.ts';
import type { EventRecorder } from '../../runtime/events.ts';
import type { InformerFactory } from '../../runtime/informers.ts';
import type { KubeClient } from '../../runtime/kube/client.ts';
import type { KubeObject } from '../../runtime/kube/types.ts';
import type { Clock } from '../../runtime/clock.ts';
import type { Metrics } from '../../runtime/metrics.ts';
import type { AgentClient } from '../agentclient/types.ts';
import type { LoadHandle, LoadRecordedClient } from './actions.ts';
import { SuspensionMemory, WrittenVersions } from './memory.ts';
import { specSelects, statusRecords } from './plan.ts';
import { syncGrantRevocation } from './sync.ts';
import type { Caches, ProviderLookup } from './sync.ts';
import { AgentClients, GrantRevocations } from './types.ts';
import type { GrantRevocation } from './types.ts';

export const CONTROLLER_NAME = 'grantrevocation';
/** Index of the AgentClient informer: `status.clientId` -> AgentClients. */
export const CLIENT_ID_INDEX = 'clientId';

export interface GrantRevocationControllerOptions {
  client: KubeClient;
  informers: InformerFactory;
  recorder: EventRecorder;
  clock: Clock;
  metrics?: Pick<Metrics, 'revocationLatency'>;
  /** Audit records go here (one per IdP action). */
  log: Logger;
  providers: ProviderLookup;
  /** Hear about every change of an IdentityProvider's adapter (the registry's subscribe). */
  subscribeProviders?: (listener: (name: string) => void) => () => void;
  loadHandle: LoadHandle;
  /** The client the registration record holds (read directly, never from a cache). */
  loadRecordedClient: LoadRecordedClient;
  /** Put an AgentClient key (`ns/name`) in the AgentClient controller's priority lane. */
  wakeAgentClient: (key: string) => void;
  /** Watch one namespace only (tests); all when absent. */
  namespace?: string;
}

const clientIdOf = (ac: AgentClient): string[] => (ac.status?.clientId ? [ac.status.clientId] : []);

function agentClientChanged(a: AgentClient, b: AgentClient): boolean {
  return (
    a.metadata.generation !== b.metadata.generation ||
    a.status?.observedGeneration !== b.status?.observedGeneration ||
    a.metadata.uid !== b.metadata.uid ||
    a.status?.clientId !== b.status?.clientId ||
    a.status?.credentials?.lastRotationRequest !== b.status?.credentials?.lastRotationRequest ||
    Boolean(a.metadata.deletionTimestamp) !== Boolean(b.metadata.deletionTimestamp) ||
    JSON.stringify(a.metadata.labels ?? {}) !== JSON.stringify(b.metadata.labels ?? {})
  );
}

export function createGrantRevocationController(options: GrantRevocationControllerOptions): Controller<KubeObject> {
  const scope = options.namespace === undefined ? {} : { namespace: options.namespace };
  const grevInformer = options.informers.get({ type: GrantRevocations, ...scope });
  const agentInformer = options.informers.get({ type: AgentClients, ...scope });
  agentInformer.addIndexer(CLIENT_ID_INDEX, (obj) => clientIdOf(obj as unknown as AgentClient));
  const grevs = (ns: string): GrantRevocation[] => grevInformer.list(ns) as unknown as GrantRevocation[];
  const caches: Caches = {
    grantRevocation: (key) => grevInformer.getByKey(key) as unknown as GrantRevocation | undefined,
    grantRevocations: grevs,
    agentClients: (ns) => agentInformer.list(ns) as unknown as AgentClient[],
    agentClientsByClientId: (id) => agentInformer.byIndex(CLIENT_ID_INDEX, id) as unknown as AgentClient[],
  };
  const memory = new SuspensionMemory();
  const deps = {
    client: options.client,
    caches,
    providers: options.providers,
    actions: { client: options.client, loadHandle: options.loadHandle, loadRecordedClient: options.loadRecordedClient, wakeAgentClient: options.wakeAgentClient },
    recorder: options.recorder,
    log: options.log,
    clock: options.clock,
    memory,
    versions: new WrittenVersions(),
    ...(options.metrics ? { observeLatency: (s: number) => options.metrics?.revocationLatency.observe(s) } : {}),
  };
  const keyOf = (g: GrantRevocation): string => `${g.metadata.namespace}/${g.metadata.name}`;
  const always = (): boolean => true;

  return {
    name: CONTROLLER_NAME,
    primary: { type: GrantRevocations, ...scope, priority: always },
    watches: [
      {
        source: { type: AgentClients, ...scope },
        map: (obj: KubeObject) => {
          const ac = obj as unknown as AgentClient;
          return grevs(ac.metadata.namespace).filter((g) => specSelects(g, ac) || statusRecords(g, ac.metadata.name)).map(keyOf);
        },
        predicate: (a: KubeObject, b: KubeObject) => agentClientChanged(a as unknown as AgentClient, b as unknown as AgentClient),
        priority: always,
      },
    ],
    sources: options.subscribeProviders
      ? [{
          subscribe: (enqueue) =>
            options.subscribeProviders!(() => {
              for (const g of grevInformer.list() as unknown as GrantRevocation[]) {
                if (g.metadata.deletionTimestamp || (g.status?.phase !== 'Completed' && g.status?.phase !== 'Failed')) enqueue(keyOf(g), { priority: true });
              }
            }),
        }]
      : [],
    reconcile: (key, ctx) => syncGrantRevocation(deps, key, ctx.signal),
  };
}
