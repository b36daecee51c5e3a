/**
 * The GrantRevocation controller as the operator registers it (src/controllers/index.ts): its
 * dependencies taken from the shared {@link ControllerDeps}.
 */
import { RegistrationStore } from '../agentclient/registration-store.ts';
import type { ControllerDeps, ControllerFactory } from '../types.ts';
import { createGrantRevocationController } from './controller.ts';
import type { ProviderLookup } from './sync.ts';

/** The AgentClient controller's name in the manager (its priority lane is used for rotations). */
const AGENT_CLIENT_CONTROLLER = 'agentclient';

export interface FactoryOptions {
  /** Watch one namespace only (tests sharing an API server); all namespaces when absent. */
  namespace?: string;
}

/** A factory with options; {@link grantRevocationController} is the default one. */
export function grantRevocationControllerFactory(options: FactoryOptions = {}): ControllerFactory {
  return (deps) => build(deps, options);
}

export const grantRevocationController: ControllerFactory = grantRevocationControllerFactory();

function build(deps: ControllerDeps, options: FactoryOptions) {
  // Nothing here feeds the store the record Secrets' watch events (the AgentClient controller's
  // store gets them), so it must remember nothing: a remembered record would stay whatever it was
  // at the first read (an open register intent, a replaced handle). Every load is a direct GET;
  // this controller loads only for DeleteRegistration and for targets without status.clientId.
  const store = new RegistrationStore(deps.client, deps.settings.operatorNamespace, { maxRemembered: 0 });
  const providers: ProviderLookup = (name) => {
    const state = deps.providers.get(name);
    if (!state.ready) return { waiting: `${state.reason}: ${state.message}` };
    return { provider: { name, adapter: state.adapter, capabilities: state.discovered.capabilities } };
  };
  return createGrantRevocationController({
    client: deps.client,
    informers: deps.informers,
    recorder: deps.recorder,
    clock: deps.clock,
    metrics: deps.metrics,
    log: deps.log.child({ controller: 'grantrevocation' }),
    providers,
    subscribeProviders: (listener) => deps.providers.subscribe(listener),
    loadHandle: async (agentClient) => {
      const record = await store.load(agentClient.metadata.uid);
      if (!record?.clientId || !record.registrationClientUri || !record.registrationAccessToken) return null;
      return { clientId: record.clientId, registrationClientUri: record.registrationClientUri, registrationAccessToken: record.registrationAccessToken };
    },
    loadRecordedClient: async (agentClient) => {
      const record = await store.load(agentClient.metadata.uid);
      return { ...(record?.clientId ? { clientId: record.clientId } : {}), registering: !record?.clientId && record?.intent?.op === 'register' };
    },
    wakeAgentClient: (key) => {
      try {
        deps.enqueue(AGENT_CLIENT_CONTROLLER, key, { priority: true });
      } catch {
        // The operator runs without the AgentClient controller (some tests): nobody to wake.
      }
    },
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
  });
}
