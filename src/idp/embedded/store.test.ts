import { describe, expect, it } from 'vitest';
import { IndexedStore, grantScopes } from './store.ts';

function seeded(now: { t: number }) {
  const store = new IndexedStore({ now: () => now.t });
  const a = (m: string) => store.adapterFactory(m);
  return { store, a };
}

describe('IndexedStore', () => {
  it('revokes a client grants and every token derived from them, leaving other clients alone', async () => {
    const now = { t: 1_000_000 };
    const { store, a } = seeded(now);
    await a('Grant').upsert('g1', { clientId: 'c1', accountId: 'alice', resources: { 'https://rs': 'read write' } }, 3600);
    await a('Grant').upsert('g2', { clientId: 'c1', accountId: 'bob', openid: { scope: 'openid' }, resources: { 'https://rs': 'read' } }, 3600);
    await a('Grant').upsert('g3', { clientId: 'c2', accountId: 'alice', resources: { 'https://rs': 'write' } }, 3600);
    await a('AccessToken').upsert('at1', { clientId: 'c1', grantId: 'g1' }, 60);
    await a('RefreshToken').upsert('rt1', { clientId: 'c1', grantId: 'g1' }, 600);
    await a('AuthorizationCode').upsert('ac2', { clientId: 'c1', grantId: 'g2' }, 60);
    await a('AccessToken').upsert('at3', { clientId: 'c2', grantId: 'g3' }, 60);
    await a('ClientCredentials').upsert('cc1', { clientId: 'c1', scope: 'read' }, 60);

    expect(store.revokeGrants({ clientId: 'c1', subject: 'alice' })).toEqual({ grantsRevoked: 1, tokensRevoked: 2 });
    expect(await a('RefreshToken').find('rt1')).toBeUndefined();
    expect(await a('AuthorizationCode').find('ac2')).toBeDefined();

    expect(store.revokeGrants({ clientId: 'c1', scopes: ['write'] })).toEqual({ grantsRevoked: 0, tokensRevoked: 0 });
    expect(store.revokeGrants({ clientId: 'c1', scopes: ['read'] })).toEqual({ grantsRevoked: 1, tokensRevoked: 2 });
    expect(await a('ClientCredentials').find('cc1')).toBeUndefined();
    expect(await a('AccessToken').find('at3')).toBeDefined();
    expect(store.grantsOf('c2', 'alice').map((g) => g.id)).toEqual(['g3']);
  });

  it('does not count expired tokens and forgets expired records', async () => {
    const now = { t: 0 };
    const { store, a } = seeded(now);
    await a('Grant').upsert('g1', { clientId: 'c1', accountId: 'alice' }, 3600);
    await a('AccessToken').upsert('at1', { clientId: 'c1', grantId: 'g1' }, 10);
    await a('RefreshToken').upsert('rt1', { clientId: 'c1', grantId: 'g1' }, 100);
    now.t = 50_000;
    expect(await a('AccessToken').find('at1')).toBeUndefined();
    expect(store.countTokens('c1')).toBe(1);
    expect(store.revokeGrants({ clientId: 'c1' })).toEqual({ grantsRevoked: 1, tokensRevoked: 1 });
    expect(store.size).toBe(0);
  });

  it('hides a disabled client from lookups the server marks as hidden, and forgets the flag on delete', async () => {
    const { store, a } = seeded({ t: 0 });
    await a('Client').upsert('c1', { client_id: 'c1', software_id: 's' });
    store.setDisabled('c1', true);
    let hide = true;
    store.hideDisabled = () => hide;
    expect(await a('Client').find('c1')).toBeUndefined();
    hide = false;
    expect(await a('Client').find('c1')).toEqual({ client_id: 'c1', software_id: 's' });
    // An RFC 7592 update re-saves the client: a suspension must survive it.
    await a('Client').upsert('c1', { client_id: 'c1', software_id: 's', scope: 'x' });
    expect(store.isDisabled('c1')).toBe(true);
    await a('Client').destroy('c1');
    expect(store.isDisabled('c1')).toBe(false);
  });

  it('revokes a deleted client\'s grants and tokens with it', async () => {
    const { store, a } = seeded({ t: 0 });
    await a('Client').upsert('c1', { client_id: 'c1' });
    await a('Grant').upsert('g1', { clientId: 'c1', accountId: 'alice' }, 3600);
    await a('RefreshToken').upsert('rt1', { clientId: 'c1', grantId: 'g1' }, 600);
    await a('ClientCredentials').upsert('cc1', { clientId: 'c1' }, 60);
    await a('Client').upsert('c1', { client_id: 'c1', scope: 'x' }); // an update does not cascade
    expect(await a('RefreshToken').find('rt1')).toBeDefined();
    await a('Client').destroy('c1');
    expect(await a('RefreshToken').find('rt1')).toBeUndefined();
    expect(await a('ClientCredentials').find('cc1')).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('destroys only the registration access tokens of the given client', async () => {
    const { store, a } = seeded({ t: 0 });
    await a('RegistrationAccessToken').upsert('r1', { clientId: 'c1' });
    await a('RegistrationAccessToken').upsert('r2', { clientId: 'c2' });
    expect(store.destroyRegistrationTokens('c1')).toBe(1);
    expect(await a('RegistrationAccessToken').find('r2')).toBeDefined();
  });

  it('indexes sessions by uid and keeps revokeByGrantId per model', async () => {
    const { a } = seeded({ t: 0 });
    await a('Session').upsert('s1', { uid: 'u1' }, 60);
    expect(await a('Session').findByUid('u1')).toEqual({ uid: 'u1' });
    await a('AccessToken').upsert('at', { grantId: 'g' }, 60);
    await a('RefreshToken').upsert('rt', { grantId: 'g' }, 60);
    await a('AccessToken').revokeByGrantId('g');
    expect(await a('AccessToken').find('at')).toBeUndefined();
    expect(await a('RefreshToken').find('rt')).toBeDefined();
  });

  it('collects OpenID and resource scopes of a grant', () => {
    expect([...grantScopes({ openid: { scope: 'openid email' }, resources: { a: 'x y', b: 'z' } })].sort())
      .toEqual(['email', 'openid', 'x', 'y', 'z']);
  });
});
