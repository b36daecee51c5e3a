import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { IdentityProvider } from '../../api/v1alpha1/index.ts';
import type { DiscoveredProvider, IdpAdapter } from '../../idp/adapter.ts';
import { ManualClock } from '../../runtime/clock.ts';
import type { KubeClient } from '../../runtime/kube/client.ts';
import type { KubeObject } from '../../runtime/kube/types.ts';
import { IdentityProviders } from './controller.ts';
import { ProviderRegistry } from './providers.ts';
import { syncIdentityProvider } from './sync.ts';
import type { SyncDeps } from './sync.ts';

const log = pino({ level: 'silent' });
const hour = 3600_000;

/**
 * An adapter that, like the oidc adapter, remembers per instance what a registration showed
 * (here: no RFC 7592 management) and lets that colour its own later discover() results.
 */
class RememberingAdapter {
  managementSeen: boolean | undefined;
  async discover(): Promise<DiscoveredProvider> {
    return {
      issuer: 'https://idp.example.com',
      tokenEndpoint: 'https://idp.example.com/token',
      registrationEndpoint: 'https://idp.example.com/reg',
      capabilities: {
        registration: true,
        management: this.managementSeen !== false,
        revokeClientGrants: false,
        revokeSubjectGrants: false,
        tokenLifetimes: false,
        multipleSecrets: false,
        jwks: false,
        disableClient: false,
      },
    };
  }
}

/** The IdentityProvider "in the cache": status patches are applied to it, like a watch would. */
function world() {
  let idp: IdentityProvider = {
    apiVersion: 'agentidentity.dev/v1alpha1',
    kind: 'IdentityProvider',
    metadata: { name: 'dev', uid: 'u1', generation: 1, resourceVersion: '1' },
    spec: { type: 'oidc', issuer: 'https://idp.example.com' },
  };
  let rv = 1;
  let writes = 0;
  const unused = (): never => {
    throw new Error('not used');
  };
  const client: KubeClient = {
    async patch<T extends KubeObject>(_t: unknown, _n: string, _ns: string | undefined, _p: unknown, body: unknown): Promise<T> {
      writes++;
      const status = { ...(idp.status ?? {}), ...(body as { status: object }).status };
      idp = { ...idp, status, metadata: { ...idp.metadata, resourceVersion: String(++rv) } };
      return idp as unknown as T;
    },
    get: unused,
    list: unused,
    create: unused,
    replace: unused,
    delete: unused,
    watch: unused,
  };
  const clock = new ManualClock();
  const adapters: RememberingAdapter[] = [];
  const providers = new ProviderRegistry();
  const deps: SyncDeps = {
    client,
    type: IdentityProviders,
    getIdentityProvider: () => idp,
    secrets: () => undefined,
    operatorNamespace: 'ns',
    providers,
    createAdapter: () => {
      const a = new RememberingAdapter();
      adapters.push(a);
      return a as unknown as IdpAdapter;
    },
    recorder: { event: async () => undefined },
    clock,
    rediscoveryPeriodMs: hour,
  };
  return { deps, clock, adapters, providers, idp: () => idp, writes: () => writes };
}

describe('syncIdentityProvider rediscovery', () => {
  it('reports capabilities from metadata alone and keeps the adapter others hold when nothing changed', async () => {
    const w = world();
    await syncIdentityProvider(w.deps, 'dev', log, new AbortController().signal);
    expect(w.idp().status?.capabilities?.management).toBe(true);
    const held = w.providers.get('dev').adapter as unknown as RememberingAdapter;
    // An AgentClient registered through it and saw no registration_client_uri.
    held.managementSeen = false;
    let wakeUps = 0;
    w.providers.subscribe(() => wakeUps++);
    const writes = w.writes();

    w.clock.advance(hour);
    await syncIdentityProvider(w.deps, 'dev', log, new AbortController().signal);
    // A fresh adapter discovered; status unchanged (no flap, no write, lastDiscoveryTime kept).
    expect(w.adapters).toHaveLength(2);
    expect(w.idp().status?.capabilities?.management).toBe(true);
    expect(w.writes()).toBe(writes);
    // The registry still holds the adapter that learnt something, and nobody was woken.
    expect(w.providers.get('dev').adapter).toBe(held);
    expect(wakeUps).toBe(0);
  });
});
