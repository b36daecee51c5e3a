import { describe, expect, it } from 'vitest';
import { IndexedStore, type StoreSnapshot } from './store.ts';

describe('IndexedStore snapshot/restore', () => {
  it('carries records, indexes, expiry and disabled clients through JSON into a new store', async () => {
    const now = { t: 1_000_000 };
    const before = new IndexedStore({ now: () => now.t });
    const a = (m: string) => before.adapterFactory(m);
    await a('Client').upsert('c1', { client_id: 'c1', scope: 'read' });
    await a('Client').upsert('c2', { client_id: 'c2' });
    await a('RegistrationAccessToken').upsert('rat1', { clientId: 'c1' }, undefined);
    await a('Grant').upsert('g1', { clientId: 'c1', accountId: 'alice', resources: { 'https://rs': 'read' } }, 3600);
    await a('RefreshToken').upsert('rt1', { clientId: 'c1', grantId: 'g1' }, 600);
    await a('AccessToken').upsert('at1', { clientId: 'c1', grantId: 'g1' }, 10);
    before.setDisabled('c2', true);

    const snapshot = JSON.parse(JSON.stringify(before.snapshot())) as StoreSnapshot;
    expect(snapshot.records.find((r) => r.id === 'c1')?.expiresAt).toBeNull();

    now.t += 20_000; // at1 (10 s) has expired meanwhile; rt1 (600 s) has not
    const after = new IndexedStore({ now: () => now.t });
    after.restore(snapshot);
    const b = (m: string) => after.adapterFactory(m);
    expect(after.clients().map((c) => c['client_id'])).toContain('c1');
    expect(await b('RegistrationAccessToken').find('rat1')).toBeDefined();
    expect(await b('AccessToken').find('at1')).toBeUndefined();
    expect(after.isDisabled('c2')).toBe(true);
    // Remaining lifetime is kept, not restarted: rt1 still dies 600 s after it was issued.
    expect(after.snapshot().records.find((r) => r.id === 'rt1')?.expiresAt).toBe(1_000_000 + 600_000);
    // The by-client and by-grant indexes were rebuilt: revocation finds the grant and its token.
    expect(after.revokeGrants({ clientId: 'c1', subject: 'alice' })).toEqual({ grantsRevoked: 1, tokensRevoked: 1 });
    expect(await b('RefreshToken').find('rt1')).toBeUndefined();
  });
});
