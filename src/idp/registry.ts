/**
 * Adapter registry: one factory per IdentityProvider `spec.type`. `oidc` and `embedded` are
 * built in; later adapters (keycloak, hydra, okta, ...) register themselves here.
 */
import type { IdpAdapter, IdpAdapterConfig, IdpAdapterFactory } from './adapter.ts';
import { createEmbeddedAdapter } from './embedded/adapter.ts';
import { IdpError } from './errors.ts';
import { createOidcAdapter } from './oidc/adapter.ts';

const factories = new Map<string, IdpAdapterFactory>([
  ['oidc', createOidcAdapter],
  ['embedded', createEmbeddedAdapter],
]);

/** Adds (or replaces) the factory for an IdentityProvider type. */
export function registerAdapterType(type: string, factory: IdpAdapterFactory): void {
  factories.set(type, factory);
}

/** Builds the adapter for a type; an unknown type is IdpError 'Unsupported'. */
export function createAdapter(type: string, config: IdpAdapterConfig): IdpAdapter {
  const factory = factories.get(type);
  if (!factory) {
    throw new IdpError('Unsupported', `no IdP adapter for type ${JSON.stringify(type)} (known: ${[...factories.keys()].join(', ')})`);
  }
  return factory(config);
}

/** Registered types, for messages and validation. */
export function adapterTypes(): string[] {
  return [...factories.keys()];
}
