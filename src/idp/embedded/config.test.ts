import { describe, expect, it } from 'vitest';
import { clientLifetime, extraMetadataProblem, resourceCeiling, scopesBeyondCeiling, widenScopeSet } from './config.ts';

describe('embedded IdP configuration helpers', () => {
  it('separates resource scopes from OpenID scopes in the ceiling', () => {
    expect(resourceCeiling('openid tickets.read offline_access tickets.write')).toEqual(['tickets.read', 'tickets.write']);
    expect(resourceCeiling(undefined)).toEqual([]);
  });

  it.each([
    ['tickets.read', 'tickets.read tickets.write', []],
    ['openid tickets.read', 'tickets.read', []],
    ['tickets.read admin', 'tickets.read', ['admin']],
    ['anything', undefined, ['anything']],
    [undefined, 'tickets.read', []],
  ])('requested %s within ceiling %s is beyond by %j', (requested, ceiling, beyond) => {
    expect(scopesBeyondCeiling(requested, ceiling)).toEqual(beyond);
  });

  it('reads positive integer lifetimes only', () => {
    expect(clientLifetime({ token_lifetimes: { access_token: 300 } }, 'access_token')).toBe(300);
    expect(clientLifetime({ token_lifetimes: { access_token: 300 } }, 'refresh_token')).toBeUndefined();
    expect(clientLifetime({ token_lifetimes: { access_token: -1 } }, 'access_token')).toBeUndefined();
    expect(clientLifetime({ token_lifetimes: { access_token: 1.5 } }, 'access_token')).toBeUndefined();
    expect(clientLifetime(undefined, 'access_token')).toBeUndefined();
  });

  it('widens has() to scope-tokens but keeps contents and Set.prototype.has', () => {
    const set = new Set(['openid']);
    widenScopeSet(set);
    expect(set.has('tickets.read')).toBe(true);
    expect(set.has('bad scope')).toBe(false);
    expect(set.has('a"b')).toBe(false);
    expect(Set.prototype.has.call(set, 'tickets.read')).toBe(false);
    expect([...set]).toEqual(['openid']);
  });
});

describe('extra client metadata validation', () => {
  it.each([
    ['software_id', 'ns/name/uid', undefined],
    ['software_id', '', 'must be a non-empty string'],
    ['agent_metadata', { owner: 'a' }, undefined],
    ['agent_metadata', { owner: 1 }, 'values must be strings'],
    ['agent_metadata', ['x'], 'must be an object'],
    ['token_lifetimes', { access_token: 60, refresh_token: 600 }, undefined],
    ['token_lifetimes', { access_token: 0 }, 'members must be positive integers'],
    ['token_lifetimes', { id_token: 5 }, 'has an unknown member id_token'],
    ['token_lifetimes', undefined, undefined],
  ])('%s %j -> %s', (key, value, problem) => {
    expect(extraMetadataProblem(key, value)).toBe(problem);
  });
});
