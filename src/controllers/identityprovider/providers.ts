/**
 * Ready IdP adapters by IdentityProvider name: the IdentityProvider controller fills it, the
 * other controllers read it (`providers.get(name)`) instead of building adapters or running
 * discovery themselves, so each IdP is discovered once per change, not once per AgentClient.
 * Subscribers hear about every change of an entry (to wake the AgentClients that wait on it).
 */
import type { DiscoveredProvider, IdpAdapter } from '../../idp/adapter.ts';

export type ProviderReason =
  | 'Discovered'
  | 'DiscoveryFailed'
  | 'CredentialsMissing'
  | 'InvalidIssuer'
  | 'Unsupported'
  /** No IdentityProvider of that name (or not reconciled yet). */
  | 'NotFound';

/** What a controller sees for one IdentityProvider. */
export type ProviderState =
  | { ready: true; adapter: IdpAdapter; discovered: DiscoveredProvider; reason: 'Discovered'; message: string; issuer: string }
  | {
      ready: false;
      /** The last adapter that worked, if any (e.g. to delete registrations while rediscovery fails). */
      adapter: IdpAdapter | undefined;
      discovered: DiscoveredProvider | undefined;
      reason: ProviderReason;
      message: string;
      issuer: string | undefined;
    };

/** The controller's bookkeeping for an entry (fingerprint of the config the adapter was built from). */
export interface ProviderEntry {
  state: ProviderState;
  fingerprint: string | undefined;
  discoveredAt: number | undefined;
}

export interface ProviderLookup {
  get(name: string): ProviderState;
  subscribe(listener: (name: string) => void): () => void;
}

const notFound = (name: string): ProviderState => ({
  ready: false,
  adapter: undefined,
  discovered: undefined,
  reason: 'NotFound',
  message: `IdentityProvider ${name} not found or not yet reconciled`,
  issuer: undefined,
});

export class ProviderRegistry implements ProviderLookup {
  readonly #entries = new Map<string, ProviderEntry>();
  readonly #listeners = new Set<(name: string) => void>();

  get(name: string): ProviderState {
    return this.#entries.get(name)?.state ?? notFound(name);
  }

  /** For the IdentityProvider controller. */
  entry(name: string): ProviderEntry | undefined {
    return this.#entries.get(name);
  }

  names(): string[] {
    return [...this.#entries.keys()];
  }

  set(name: string, entry: ProviderEntry): void {
    const previous = this.#entries.get(name);
    this.#entries.set(name, entry);
    if (!previous || changed(previous, entry)) this.#notify(name);
  }

  delete(name: string): void {
    if (this.#entries.delete(name)) this.#notify(name);
  }

  subscribe(listener: (name: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #notify(name: string): void {
    for (const listener of this.#listeners) listener(name);
  }
}

function changed(a: ProviderEntry, b: ProviderEntry): boolean {
  return (
    a.fingerprint !== b.fingerprint ||
    a.state.ready !== b.state.ready ||
    a.state.reason !== b.state.reason ||
    a.state.adapter !== b.state.adapter ||
    JSON.stringify(a.state.discovered) !== JSON.stringify(b.state.discovered)
  );
}
