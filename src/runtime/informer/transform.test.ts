import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../kube/types.ts';
import { compact, internStrings } from './transform.ts';

const parsed = (): KubeObject & Record<string, unknown> =>
  JSON.parse(
    JSON.stringify({
      metadata: {
        name: 'a',
        namespace: 'team',
        labels: { tier: 'gold' },
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"spec":{}}', keep: 'me' },
        managedFields: [{ manager: 'kubectl' }],
      },
      spec: { scopes: ['reports:read', 'reports:read'], nested: [[{ deep: 'x' }], null, 3, true] },
      status: { conditions: [{ type: 'Ready', status: 'False', reason: 'IdentityProviderNotReady', message: 'm'.repeat(600) }] },
    }),
  ) as KubeObject & Record<string, unknown>;

describe('compact', () => {
  it('drops managedFields and the last-applied annotation, and keeps every other value as it was', () => {
    const original = parsed();
    const expected = structuredClone(original);
    delete expected.metadata?.managedFields;
    delete expected.metadata?.annotations?.['kubectl.kubernetes.io/last-applied-configuration'];
    expect(compact(original)).toEqual(expected);
  });

  it('interning leaves values, array slots, nulls, numbers and long strings as they were', () => {
    const value = parsed();
    const before = structuredClone(value);
    internStrings(value);
    internStrings(value);
    expect(value).toEqual(before);
  });

  it('keeps working past the size of its table (it starts afresh, never grows without bound)', () => {
    const many = Array.from({ length: 40_000 }, (_, i) => `value-${i}`);
    internStrings(many);
    expect(many[39_999]).toBe('value-39999');
    expect(new Set(many).size).toBe(40_000);
  });
});
