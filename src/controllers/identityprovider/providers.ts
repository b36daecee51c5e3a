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
  /** No IdentityProvider of that name. */
  | 'NotFound'
  /**
   * The IdentityProvider exists (or the cache is still syncing) but this process has not
   * reconciled it yet: right after a start, or between its creation and its first reconcile.
   * Transient by construction; readers wait (write nothing) and are woken when the entry is set.
   */
  | 'Pending';

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

/** Whether an IdentityProvider object exists, as the IdentityProvider controller's cache sees it. */
export type ProviderPresence = (name: string) => 'present' | 'absent' | 'unknown';

const notFound = (name: string): ProviderState => ({
  ready: false,
  adapter: undefined,
  discovered: undefined,
  reason: 'NotFound',
  message: `IdentityProvider ${name} not found or not yet reconciled`,
  issuer: undefined,
});

const pending = (name: string): ProviderState => ({
  ready: false,
  adapter: undefined,
  discovered: undefined,
  reason: 'Pending',
  message: `IdentityProvider ${name} not yet discovered by this operator process`,
  issuer: undefined,
});

export class ProviderRegistry implements ProviderLookup {
  readonly #entries = new Map<string, ProviderEntry>();
  readonly #listeners = new Set<(name: string) => void>();
  #presence: ProviderPresence | undefined;

  /**
   * An IdentityProvider this process has not reconciled yet is `Pending`, not `NotFound`: after a
   * restart the AgentClient workers start together with the IdentityProvider workers, and an
   * agent reconciled first would otherwise report Ready=False and flip back a moment later (two
   * status writes per agent for nothing). Seeding from the IdentityProvider's own Ready status
   * was the alternative, rejected: an agent needs this process's adapter (credentials resolved,
   * endpoints discovered) to do anything, and a Ready=True written by an earlier process may be
   * stale. The presence check keeps a missing IdentityProvider reported as `NotFound` at once.
   * Without it (no IdentityProvider controller in this process) a missing entry is `NotFound`.
   */
  setPresence(presence: ProviderPresence): void {
    this.#presence = presence;
  }

  get(name: string): ProviderState {
    const entry = this.#entries.get(name);
    if (entry) return entry.state;
    const presence = this.#presence?.(name) ?? 'absent';
    return presence === 'absent' ? notFound(name) : pending(name);
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
