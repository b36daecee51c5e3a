import { describe, expect, it } from 'vitest';
import type { GrantRevocationSpec } from '../api.ts';
import { revocationName, sameSpec } from './revoke.ts';

describe('revocationName', () => {
  it('is <agent>-<yyyymmddhhmmss> in UTC', () => {
    expect(revocationName('coder', Date.parse('2025-06-10T09:08:07.654Z'))).toBe('coder-20250610090807');
  });
  it('stays a valid object name for the longest agent names', () => {
    const name = revocationName(`${'a'.repeat(236)}-bb`, 0);
    expect(name.length).toBeLessThanOrEqual(253);
    expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(name.endsWith('-19700101000000')).toBe(true);
  });
});

describe('sameSpec', () => {
  const spec: GrantRevocationSpec = {
    target: { agentClientName: 'coder' },
    actions: ['RevokeGrants', 'Suspend'],
    scopes: ['a', 'b'],
    reason: 'leak',
  };
  it('compares sets as sets', () => {
    expect(sameSpec(spec, { ...spec, actions: ['Suspend', 'RevokeGrants'], scopes: ['b', 'a'] })).toBe(true);
  });
  it('tells different requests apart', () => {
    expect(sameSpec(spec, { ...spec, reason: 'other' })).toBe(false);
    expect(sameSpec(spec, { ...spec, subject: 'bob' })).toBe(false);
    expect(sameSpec(spec, { ...spec, actions: ['RevokeGrants'] })).toBe(false);
    expect(sameSpec(spec, { ...spec, target: { agentClientName: 'other' } })).toBe(false);
  });
});
