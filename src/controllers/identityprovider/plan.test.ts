import { describe, expect, it } from 'vitest';
import type { IdentityProvider } from '../../api/v1alpha1/index.ts';
import type { DiscoveredProvider } from '../../idp/adapter.ts';
import { IdpError } from '../../idp/errors.ts';
import {
  checkDiscoveredIssuer,
  classifyDiscoveryError,
  desiredStatus,
  fingerprint,
  planDiscovery,
  readyTransition,
  validateIssuer,
} from './plan.ts';
import type { ProviderEntry } from './providers.ts';

const idp = (over: Partial<IdentityProvider['spec']> = {}, status?: IdentityProvider['status']): IdentityProvider => ({
  apiVersion: 'agentidentity.dev/v1alpha1',
  kind: 'IdentityProvider',
  metadata: { name: 'dev', generation: 3 },
  spec: { type: 'oidc', issuer: 'https://idp.example.com', ...over },
  ...(status ? { status } : {}),
});

const discovered: DiscoveredProvider = {
  issuer: 'https://idp.example.com',
  tokenEndpoint: 'https://idp.example.com/token',
  registrationEndpoint: 'https://idp.example.com/reg',
  scopesSupported: ['b', 'a'],
  capabilities: {
    registration: true,
    management: true,
    revokeClientGrants: false,
    revokeSubjectGrants: false,
    tokenLifetimes: false,
    multipleSecrets: false,
    jwks: true,
    disableClient: false,
  },
};

const ready = (fp: string, at: number): ProviderEntry => ({
  state: { ready: true, adapter: {} as never, discovered, reason: 'Discovered', message: 'm', issuer: discovered.issuer },
  fingerprint: fp,
  discoveredAt: at,
});

describe('validateIssuer', () => {
  it.each([
    ['https://idp.example.com', undefined],
    ['https://idp.example.com/realms/a', undefined],
    ['http://127.0.0.1:4444', undefined],
    ['http://localhost:4444/x', undefined],
    ['http://[::1]:4444', undefined],
    ['http://idp.example.com', /https/],
    ['https://idp.example.com?x=1', /query or fragment/],
    ['https://idp.example.com#f', /query or fragment/],
    ['https://u:p@idp.example.com', /user info/],
    ['not a url', /not a URL/],
  ])('%s', (issuer, expected) => {
    const result = validateIssuer(issuer);
    if (expected === undefined) expect(result).toBeUndefined();
    else expect(result).toMatch(expected);
  });
});

describe('planDiscovery', () => {
  const hour = 3600_000;
  it('discovers when nothing is cached, the config changed, or the entry is not ready', () => {
    expect(planDiscovery(undefined, 'a', 0, hour)).toEqual({ action: 'discover' });
    expect(planDiscovery(ready('a', 0), 'b', 1, hour)).toEqual({ action: 'discover' });
    const failed: ProviderEntry = { ...ready('a', 0), state: { ...ready('a', 0).state, ready: false, reason: 'DiscoveryFailed' } as never };
    expect(planDiscovery(failed, 'a', 1, hour)).toEqual({ action: 'discover' });
  });

  it('reuses an unchanged, recent discovery and schedules the next one', () => {
    expect(planDiscovery(ready('a', 1000), 'a', 1000 + 60_000, hour)).toEqual({ action: 'reuse', requeueAfter: hour - 60_000 });
    expect(planDiscovery(ready('a', 1000), 'a', 1000 + hour, hour)).toEqual({ action: 'discover' });
  });
});

describe('fingerprint', () => {
  it('changes with a secret value without containing it', () => {
    const a = fingerprint(idp(), { issuer: 'x', initialAccessToken: 'secret-one' });
    const b = fingerprint(idp(), { issuer: 'x', initialAccessToken: 'secret-two' });
    expect(a).not.toBe(b);
    expect(a).not.toContain('secret');
    expect(fingerprint(idp(), { issuer: 'x', initialAccessToken: 'secret-one' })).toBe(a);
  });
});

describe('classifyDiscoveryError', () => {
  it('keeps transient errors transient with their Retry-After, and maps Unsupported', () => {
    expect(classifyDiscoveryError(new IdpError('RateLimited', 'slow down', { retryAfterSeconds: 9 }))).toMatchObject({
      reason: 'DiscoveryFailed',
      transient: true,
      retryAfterSeconds: 9,
    });
    expect(classifyDiscoveryError(new IdpError('InvalidResponse', 'bad json'))).toMatchObject({ reason: 'DiscoveryFailed', transient: false });
    expect(classifyDiscoveryError(new IdpError('Unsupported', 'no adapter'))).toMatchObject({ reason: 'Unsupported', transient: false });
    expect(classifyDiscoveryError(new Error('secret-in-here')).message).not.toContain('secret');
  });

  it('rejects a discovery document for another issuer (RFC 8414 section 3.3)', () => {
    expect(checkDiscoveredIssuer(idp(), discovered)).toBeUndefined();
    expect(checkDiscoveredIssuer(idp(), { ...discovered, issuer: 'https://evil.example.com' })).toMatchObject({ reason: 'InvalidIssuer' });
  });
});

describe('desiredStatus and readyTransition', () => {
  const t0 = new Date('2025-01-01T00:00:00Z');
  const t1 = new Date('2025-01-01T00:05:00Z');

  it('reports endpoints, sorted scopes, capabilities and Ready=True on discovery', () => {
    const s = desiredStatus(idp(), { reason: 'Discovered', discovered, discoveredAt: t0.getTime(), message: 'ok' }, t0);
    expect(s).toMatchObject({
      observedGeneration: 3,
      lastDiscoveryTime: '2025-01-01T00:00:00Z',
      endpoints: { issuer: discovered.issuer, tokenEndpoint: discovered.tokenEndpoint, registrationEndpoint: discovered.registrationEndpoint },
      scopesSupported: ['a', 'b'],
      capabilities: discovered.capabilities,
      conditions: [{ type: 'Ready', status: 'True', reason: 'Discovered', observedGeneration: 3 }],
    });
  });

  it('keeps the last endpoints on failure, marks Ready=False, and produces one Event per transition', () => {
    const okStatus = desiredStatus(idp(), { reason: 'Discovered', discovered, discoveredAt: t0.getTime(), message: 'ok' }, t0);
    const failed = desiredStatus(idp({}, okStatus), { reason: 'DiscoveryFailed', message: 'Unreachable: refused', transient: true }, t1);
    expect(failed.endpoints).toEqual(okStatus.endpoints);
    expect(failed.conditions?.[0]).toMatchObject({ status: 'False', reason: 'DiscoveryFailed', lastTransitionTime: '2025-01-01T00:05:00Z' });
    expect(readyTransition(okStatus, failed)).toEqual({ type: 'Warning', reason: 'DiscoveryFailed', message: 'Unreachable: refused' });
    const again = desiredStatus(idp({}, failed), { reason: 'DiscoveryFailed', message: 'Unreachable: refused', transient: true }, t1);
    expect(readyTransition(failed, again)).toBeUndefined();
    expect(readyTransition(undefined, okStatus)).toMatchObject({ type: 'Normal', reason: 'Discovered' });
  });

  it('keeps lastDiscoveryTime when a later discovery finds the same results, and moves it when they change', () => {
    const first = desiredStatus(idp(), { reason: 'Discovered', discovered, discoveredAt: t0.getTime(), message: 'ok' }, t0);
    const hourLater = desiredStatus(idp({}, first), { reason: 'Discovered', discovered, discoveredAt: t1.getTime(), message: 'ok' }, t1);
    expect(hourLater).toEqual(first);
    const changed = { ...discovered, scopesSupported: ['a', 'b', 'c'] };
    const after = desiredStatus(idp({}, first), { reason: 'Discovered', discovered: changed, discoveredAt: t1.getTime(), message: 'ok' }, t1);
    expect(after.lastDiscoveryTime).toBe('2025-01-01T00:05:00Z');
  });

  it('sets kstatus Reconciling while a transient failure is retried and Stalled for failures that wait for a person', () => {
    const types = (s: ReturnType<typeof desiredStatus>) => Object.fromEntries((s.conditions ?? []).map((c) => [c.type, `${c.status}/${c.reason}`]));
    const retrying = desiredStatus(idp(), { reason: 'DiscoveryFailed', message: 'Unreachable', transient: true }, t0);
    expect(types(retrying)).toEqual({ Ready: 'False/DiscoveryFailed', Reconciling: 'True/DiscoveryFailed' });
    for (const reason of ['InvalidIssuer', 'CredentialsMissing', 'Unsupported', 'DiscoveryFailed'] as const) {
      const stalled = desiredStatus(idp({}, retrying), { reason, message: 'm', transient: false }, t1);
      expect(types(stalled)).toEqual({ Ready: `False/${reason}`, Stalled: `True/${reason}` });
    }
    const recovered = desiredStatus(idp({}, retrying), { reason: 'Discovered', discovered, discoveredAt: t1.getTime(), message: 'ok' }, t1);
    expect(types(recovered)).toEqual({ Ready: 'True/Discovered' });
  });
});
