/**
 * IdentityProvider controller wiring: IdentityProviders (cluster-scoped) are the primary kind;
 * Secrets in the operator namespace (user-created, so not selectable by a label of ours) are
 * watched and mapped to the IdentityProviders that reference them. Operator-owned Secrets (one
 * per AgentClient) are left out by label so they never reach this cache.
 */
import { IDENTITY_PROVIDER, GROUP, VERSION, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../../api/v1alpha1/index.ts';
import type { IdentityProvider } from '../../api/v1alpha1/index.ts';
import type { Controller, WatchSpec } from '../../runtime/controller.ts';
import { Secrets } from '../../runtime/kube/types.ts';
import type { ResourceType, SecretObject } from '../../runtime/kube/types.ts';
import type { ControllerDeps } from '../types.ts';
import { referencedSecrets } from './credentials.ts';
import { syncIdentityProvider } from './sync.ts';

export const IDENTITY_PROVIDER_CONTROLLER = 'identityprovider';

export const IdentityProviders: ResourceType = {
  group: GROUP,
  version: VERSION,
  plural: IDENTITY_PROVIDER.plural,
  kind: IDENTITY_PROVIDER.kind,
  namespaced: false,
};

/** Secrets an IdentityProvider may reference: the operator namespace, minus our own. */
export function credentialSecretsSpec(namespace: string) {
  return { type: Secrets, namespace, labelSelector: `${MANAGED_BY_LABEL}!=${MANAGED_BY_VALUE}` };
}

const BY_SECRET = 'secret';

export function identityProviderController(deps: ControllerDeps): Controller<IdentityProvider> {
  const namespace = deps.settings.operatorNamespace;
  const selector = deps.settings.identityProviderSelector;
  const idpSpec = { type: IdentityProviders, ...(selector ? { labelSelector: selector } : {}) };
  const idps = deps.informers.get<IdentityProvider>(idpSpec);
  idps.addIndexer(BY_SECRET, referencedSecrets);
  const secrets = deps.informers.get<SecretObject>(credentialSecretsSpec(namespace));
  deps.providers.setPresence((name) => {
    if (!idps.hasSynced()) return 'unknown';
    const idp = idps.get(name);
    // One being deleted is gone for every reader: its entry is dropped on its next reconcile.
    return idp && !idp.metadata?.deletionTimestamp ? 'present' : 'absent';
  });

  const secretWatch: WatchSpec<SecretObject> = {
    source: credentialSecretsSpec(namespace),
    map: (secret) => idps.byIndex(BY_SECRET, secret.metadata?.name ?? '').map((idp) => idp.metadata?.name ?? ''),
    // Only data matters; label or annotation edits on a Secret do not change credentials.
    predicate: (a, b) => JSON.stringify(a.data ?? {}) !== JSON.stringify(b.data ?? {}),
  };

  return {
    name: IDENTITY_PROVIDER_CONTROLLER,
    primary: {
      ...idpSpec,
      // Our own status writes come back as updates; only spec or deletion changes matter.
      predicate: (a, b) => a.metadata?.generation !== b.metadata?.generation || !!b.metadata?.deletionTimestamp,
    },
    watches: [secretWatch],
    concurrency: 2,
    reconcile: (name, ctx) =>
      syncIdentityProvider(
        {
          client: deps.client,
          type: IdentityProviders,
          getIdentityProvider: (n) => idps.get(n),
          secrets: (n) => secrets.get(n, namespace),
          operatorNamespace: namespace,
          providers: deps.providers,
          createAdapter: deps.createAdapter,
          recorder: deps.recorder,
          clock: deps.clock,
          rediscoveryPeriodMs: deps.settings.idpRediscoveryPeriodMs,
          onIdpCall: deps.onIdpCall,
        },
        name,
        ctx.log,
        ctx.signal,
      ),
  };
}
