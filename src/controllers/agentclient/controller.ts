/**
 * AgentClient controller wiring: what wakes a key, and the reconcile entry point.
 *
 * Watches:
 * - AgentClients (spec, labels, annotations, finalizers, deletion; not our own status writes);
 * - Secrets labelled managed-by=agent-identity-operator: agent Secrets map to their owning
 *   AgentClient (a deleted one is recreated at once), registration records in the operator
 *   namespace map through their `agentidentity.dev/agentclient` annotation;
 * - the provider registry: a change of an IdentityProvider's readiness, adapter or endpoints
 *   wakes every AgentClient that references it;
 * - ConsentPolicies and Namespaces (consentpolicy/fanout.ts): a policy change wakes every
 *   AgentClient it selects before or after the change; a namespace label change wakes the
 *   AgentClients in it.
 */
import type { Logger } from 'pino';
import { AGENT_CLIENT, GROUP, VERSION } from '../../api/v1alpha1/index.ts';
import { realClock } from '../../runtime/clock.ts';
import type { Clock } from '../../runtime/clock.ts';
import { specOrMetadataChanged } from '../../runtime/controller.ts';
import type { Controller, ExternalSource, InformerSpec, WatchSpec } from '../../runtime/controller.ts';
import type { EventRecorder } from '../../runtime/events.ts';
import type { InformerFactory } from '../../runtime/informers.ts';
import type { KubeClient } from '../../runtime/kube/client.ts';
import { keyOf } from '../../runtime/kube/keys.ts';
import { Secrets } from '../../runtime/kube/types.ts';
import type { KubeObject, ResourceType, SecretObject } from '../../runtime/kube/types.ts';
import { AGENTCLIENT_REF_ANNOTATION, RegistrationStore, STORE_COMPONENT_LABEL, STORE_COMPONENT_VALUE } from './registration-store.ts';
import { compact } from '../../runtime/informer/transform.ts';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, agentSecretName } from './secret.ts';
import type { Memory, ProviderLookup, SyncHooks } from './state.ts';
import type { ControllerDeps } from '../types.ts';
import { syncAgentClient } from './sync.ts';
import { policyCaches } from '../consentpolicy/caches.ts';
import { consentPolicyWatches } from '../consentpolicy/fanout.ts';
import { resolveOperatorIdentity } from '../consentpolicy/narrowing.ts';
import type { PolicyDeps } from './policy.ts';
import type { AgentClient } from './types.ts';
import { revocationHolds } from '../grantrevocation/holds.ts';
import type { IdentityProvider } from '../../api/v1alpha1/index.ts';
import { IdentityProviders } from '../identityprovider/controller.ts';
import { DEFAULT_REQUEST_TIMEOUT_MS } from './state.ts';

export const AgentClients: ResourceType = { group: GROUP, version: VERSION, plural: AGENT_CLIENT.plural, kind: AGENT_CLIENT.kind, namespaced: true };

/** Default period of the RFC 7592 read that catches drift made at the IdP. */
export const DEFAULT_REGISTRATION_RESYNC_MS = 10 * 60_000;
const BY_PROVIDER = 'identityProviderRef';
/** The provider registry's reasons for a name it holds no entry for (identityprovider/providers.ts). */
const NOT_IN_REGISTRY = 'NotFound';
const NOT_YET_DISCOVERED = 'Pending';
/** A safety net only: the registry wakes an AgentClient waiting on a Pending provider. */
const PENDING_PROVIDER_RECHECK_MS = 30_000;

export interface AgentClientControllerOptions {
  client: KubeClient;
  informers: InformerFactory;
  providers: ProviderLookup & { subscribe(listener: (name: string) => void): () => void };
  recorder: EventRecorder;
  log: Logger;
  /** Where registration records (`agc-<uid>`) live. */
  operatorNamespace: string;
  /** Names this cluster in every software_id (operator flag; default "default"). */
  clusterName?: string;
  registrationResyncMs?: number;
  clock?: Clock;
  random?: () => number;
  concurrency?: number;
  hooks?: SyncHooks;
  /**
   * Only AgentClients matching this label selector (default: all). Lets several operator
   * instances share one API server, as the integration tests do.
   */
  selector?: string;
  /**
   * ConsentPolicy: with no matching policy, allow the requested scopes (operator flag
   * `--allow-no-policy`). Default false: an AgentClient no policy selects is allowed nothing.
   */
  allowNoPolicy?: boolean;
  /**
   * The operator reconciles only the IdentityProviders matching this label selector (operator flag
   * `--identity-provider-selector`). An AgentClient whose IdentityProvider exists but is not among
   * them belongs to the operator that selects it: left alone, and not looked at again until
   * something about it or its IdentityProvider changes.
   */
  identityProviderSelector?: string;
}

/**
 * Operator-owned Secrets: agent Secrets (compared with what the record says, so kept whole) and
 * registration records, which are only ever read directly (registration-store.ts): for those the
 * cache keeps the metadata the watch maps from, not the credentials.
 */
function ownedSecretsSpec(operatorNamespace: string): InformerSpec<SecretObject> {
  return {
    type: Secrets,
    labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`,
    transform: (secret) => {
      const slim = compact(secret);
      const meta = slim.metadata;
      if (meta?.namespace !== operatorNamespace || meta.labels?.[STORE_COMPONENT_LABEL] !== STORE_COMPONENT_VALUE) return slim;
      const { data: _data, ...rest } = slim;
      void _data;
      return rest;
    },
  };
}

interface AgentClientView {
  spec?: { identityProviderRef?: { name?: string } };
}

const view = (obj: KubeObject): AgentClientView => obj as AgentClientView;

/** Checks the fields a sync relies on; the API server always sets them on stored objects. */
function asAgentClient(obj: KubeObject | undefined): AgentClient | undefined {
  const meta = obj?.metadata;
  if (!obj || !meta?.name || !meta.namespace || !meta.uid || !(obj as { spec?: unknown }).spec) return undefined;
  return obj as AgentClient;
}

export function createAgentClientController(options: AgentClientControllerOptions): Controller {
  const clusterName = options.clusterName ?? 'default';
  if (clusterName.includes('/') || clusterName.length === 0) throw new Error('cluster name must be non-empty and contain no "/"');
  const primary: InformerSpec = { type: AgentClients, ...(options.selector ? { labelSelector: options.selector } : {}) };
  const agents = options.informers.get(primary);
  agents.addIndexer(BY_PROVIDER, (obj) => {
    const ref = view(obj).spec?.identityProviderRef?.name;
    return ref ? [ref] : [];
  });
  const ownedSecrets = ownedSecretsSpec(options.operatorNamespace);
  const secrets = options.informers.get(ownedSecrets);
  const store = new RegistrationStore(options.client, options.operatorNamespace);
  // Record Secrets changed or deleted by anyone but this process invalidate what the store
  // remembers of its own writes (registration-store.ts).
  secrets.addHandler({
    add: (secret) => store.observe(secret),
    update: (_old, secret) => store.observe(secret),
    delete: (secret) => store.observe(secret, true),
  });
  // Shared with the IdentityProvider controller: whether an IdentityProvider exists at all, and
  // its request timeout.
  const identityProviders = options.informers.get<IdentityProvider>({ type: IdentityProviders });
  const identityProvider = (name: string): { requestTimeoutMs: number } | undefined => {
    const idp = identityProviders.get(name);
    return idp ? { requestTimeoutMs: (idp.spec?.requestTimeoutSeconds ?? DEFAULT_REQUEST_TIMEOUT_MS / 1000) * 1000 } : undefined;
  };
  const memories = new Map<string, Memory>();
  // ConsentPolicy: policies and namespace labels from the shared caches; policy and namespace
  // changes fan out to this queue, one key per affected AgentClient (consentpolicy/fanout.ts).
  const policyCacheViews = policyCaches(options.informers, primary as unknown as InformerSpec<AgentClient>);
  let requester: Promise<string | undefined> | undefined;
  const policy: PolicyDeps = {
    caches: policyCacheViews,
    allowNoPolicy: options.allowNoPolicy ?? false,
    requester: () => (requester ??= resolveOperatorIdentity(options.client)),
  };
  // GrantRevocation holds (suspension, deleted registration) and the watch that wakes their
  // targets in the priority lane: grantrevocation/holds.ts.
  const revocations = revocationHolds(options.informers, agents);
  const deps = {
    holds: revocations.holds,
    identityProvider,
    client: options.client,
    agentClients: AgentClients,
    store,
    providers: options.providers,
    recorder: options.recorder,
    log: options.log,
    clock: options.clock ?? realClock,
    clusterName,
    resyncPeriodMs: options.registrationResyncMs ?? DEFAULT_REGISTRATION_RESYNC_MS,
    random: options.random ?? Math.random,
    ...(options.hooks ? { hooks: options.hooks } : {}),
    policy,
  };

  const secretWatch: WatchSpec<SecretObject> = {
    source: ownedSecrets,
    map(secret) {
      const meta = secret.metadata ?? {};
      if (meta.namespace === options.operatorNamespace) {
        const ref = meta.annotations?.[AGENTCLIENT_REF_ANNOTATION];
        if (ref) return [ref];
      }
      return (meta.ownerReferences ?? []).filter((ref) => ref.kind === AGENT_CLIENT.kind).map((ref) => keyOf(meta.namespace, ref.name));
    },
  };
  // The provider registry (filled by the IdentityProvider controller) is what a sync reads, so
  // its changes (ready, adapter rebuilt, endpoints) are what wake the AgentClients behind it.
  const providerSource: ExternalSource = {
    subscribe: (enqueue) =>
      options.providers.subscribe((name) => {
        for (const agent of agents.byIndex(BY_PROVIDER, name)) enqueue(keyOf(agent.metadata?.namespace, agent.metadata?.name ?? ''));
      }),
  };

  return {
    name: 'agentclient',
    primary: { ...primary, predicate: specOrMetadataChanged },
    watches: [secretWatch, ...consentPolicyWatches(policyCacheViews), revocations.watch],
    sources: [providerSource],
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
    async reconcile(key, ctx) {
      const agent = asAgentClient(agents.getByKey(key));
      if (!agent) {
        const gone = memories.get(key);
        if (gone) store.forget(gone.uid);
        memories.delete(key);
        return undefined;
      }
      let memory = memories.get(key);
      if (!memory || memory.uid !== agent.metadata.uid) {
        if (memory) store.forget(memory.uid);
        memory = { uid: agent.metadata.uid };
        memories.set(key, memory);
      }
      // The IdentityProvider exists but this process has not discovered it yet (just started):
      // reporting now would flip Ready agents to IdentityProviderNotReady for a moment, and
      // seeding from an undiscovered provider would force an IdP read per agent. Nothing is
      // read or written; the registry wakes this key once the entry appears. (`NotFound` with a
      // cached IdentityProvider: a registry that cannot tell, e.g. without its presence check.)
      const providerName = agent.spec.identityProviderRef.name;
      const providerReason = options.providers.get(providerName)?.reason;
      const unregisteredButCached = providerReason === NOT_IN_REGISTRY && identityProvider(providerName) !== undefined;
      // With a selector, that is another operator's IdentityProvider (sharding). Should it come to
      // match our selector, the registry's entry for it wakes this key (providerSource); rechecking
      // on a timer would cost a reconcile per foreign AgentClient every 30 s.
      if (unregisteredButCached && options.identityProviderSelector) return undefined;
      if (providerReason === NOT_YET_DISCOVERED || unregisteredButCached) return { requeueAfter: PENDING_PROVIDER_RECHECK_MS };
      const cached = secrets.get(agentSecretName(agent), agent.metadata.namespace);
      return syncAgentClient({ ...deps, log: ctx.log }, agent, memory, cached, ctx.signal);
    },
  };
}

/** The factory registered in src/controllers/index.ts. */
export function agentClientController(deps: ControllerDeps): Controller {
  return createAgentClientController({
    client: deps.client,
    informers: deps.informers,
    providers: deps.providers,
    recorder: deps.recorder,
    log: deps.log,
    clock: deps.clock,
    operatorNamespace: deps.settings.operatorNamespace,
    clusterName: deps.settings.clusterName,
    allowNoPolicy: deps.settings.allowNoPolicy,
    registrationResyncMs: deps.settings.registrationResyncMs,
    ...(deps.settings.identityProviderSelector ? { identityProviderSelector: deps.settings.identityProviderSelector } : {}),
  });
}
