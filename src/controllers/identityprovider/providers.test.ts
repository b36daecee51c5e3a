import { describe, expect, it } from 'vitest';
import type { IdpAdapter } from '../../idp/adapter.ts';
import { ProviderRegistry } from './providers.ts';
import type { ProviderPresence } from './providers.ts';

const failed = { ready: false as const, adapter: undefined, discovered: undefined, reason: 'DiscoveryFailed' as const, message: 'down', issuer: 'https://idp' };

describe('ProviderRegistry', () => {
  it('without a presence check, a name it holds no entry for is NotFound (as before)', () => {
    expect(new ProviderRegistry().get('dev')).toMatchObject({ ready: false, reason: 'NotFound' });
  });

  it('an IdentityProvider that exists (or a cache still syncing) but is not reconciled yet is Pending, a missing one NotFound', () => {
    const registry = new ProviderRegistry();
    let presence: ReturnType<ProviderPresence> = 'unknown';
    registry.setPresence(() => presence);
    expect(registry.get('dev')).toMatchObject({ ready: false, reason: 'Pending', adapter: undefined });
    presence = 'present';
    expect(registry.get('dev').reason).toBe('Pending');
    presence = 'absent';
    expect(registry.get('dev').reason).toBe('NotFound');
  });

  it('an entry wins over presence, and setting or deleting one notifies subscribers', () => {
    const registry = new ProviderRegistry();
    registry.setPresence(() => 'present');
    const heard: string[] = [];
    registry.subscribe((name) => heard.push(name));
    registry.set('dev', { state: failed, fingerprint: undefined, discoveredAt: undefined });
    expect(registry.get('dev').reason).toBe('DiscoveryFailed');
    registry.set('dev', { state: failed, fingerprint: undefined, discoveredAt: undefined });
    const adapter = {} as IdpAdapter;
    registry.set('dev', { state: { ...failed, adapter }, fingerprint: undefined, discoveredAt: undefined });
    registry.delete('dev');
    expect(registry.get('dev').reason).toBe('Pending');
    expect(heard).toEqual(['dev', 'dev', 'dev']);
  });
});
