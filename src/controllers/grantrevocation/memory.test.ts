import { describe, expect, it } from 'vitest';
import { SuspensionMemory, WrittenVersions } from './memory.ts';
import { agent } from './testdata.ts';

describe('SuspensionMemory', () => {
  it('asks for a new assertion when generation, client_id or uid changes', () => {
    const m = new SuspensionMemory();
    const a = agent('coding-agent', 'c1');
    expect(m.asserted('ns/g', a)).toBe(false);
    m.remember('ns/g', a);
    expect(m.asserted('ns/g', a)).toBe(true);
    expect(m.asserted('ns/other', a)).toBe(false);
    expect(m.asserted('ns/g', { ...a, metadata: { ...a.metadata, generation: 2 } })).toBe(false);
    expect(m.asserted('ns/g', { ...a, status: { ...a.status, observedGeneration: 2 } })).toBe(false);
    expect(m.asserted('ns/g', agent('coding-agent', 'c2'))).toBe(false);
    expect(m.asserted('ns/g', { ...a, metadata: { ...a.metadata, uid: 'recreated' } })).toBe(false);
    m.forget('ns/g');
    expect(m.asserted('ns/g', a)).toBe(false);
  });
});

describe('WrittenVersions', () => {
  it('trusts the cache only when it shows our last write (or nothing was ever written)', () => {
    const v = new WrittenVersions();
    expect(v.fresh('ns/g', 'u1', '10', false)).toBe(true);
    expect(v.fresh('ns/g', 'u1', '10', true)).toBe(false);
    v.wrote('ns/g', 'u1', '12');
    expect(v.fresh('ns/g', 'u1', '10', true)).toBe(false);
    expect(v.fresh('ns/g', 'u1', '12', true)).toBe(true);
    // Same name, new object: our writes to the old one say nothing about it.
    expect(v.fresh('ns/g', 'u2', '12', false)).toBe(true);
    v.forget('ns/g');
    expect(v.fresh('ns/g', 'u1', '12', true)).toBe(false);
  });
});
