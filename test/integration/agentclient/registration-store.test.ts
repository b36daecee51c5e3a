/**
 * The registration store's memory of its own writes and reads, against the real API server: it
 * saves GETs, and never lets a stale record through a write (every write is conditional).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistrationStore, recordSecretName, renderRecordSecret } from '../../../src/controllers/agentclient/registration-store.ts';
import type { RegistrationRecord } from '../../../src/controllers/agentclient/registration-store.ts';
import { isAlreadyExists, isConflict } from '../../../src/runtime/kube/errors.ts';
import { Secrets } from '../../../src/runtime/kube/types.ts';
import type { SecretObject } from '../../../src/runtime/kube/types.ts';
import { createNamespace, realClient } from '../runtime/env.ts';

const client = realClient();
let ns: string;
let n = 0;

beforeAll(async () => {
  ns = await createNamespace(client, 'regstore');
});
afterAll(() => client.close());

const fresh = (): RegistrationRecord => {
  const uid = `uid-${++n}-${Date.now()}`;
  return { uid, namespace: 'team', name: `agent-${n}`, softwareId: `sw-${uid}`, intent: { op: 'register', at: '2026-01-01T00:00:00Z' } };
};

/** Someone else (another process, a human) rewrites the record. */
async function foreignWrite(record: RegistrationRecord, change: Partial<RegistrationRecord>): Promise<SecretObject> {
  const current = (await client.get<SecretObject>(Secrets, recordSecretName(record.uid), ns))!;
  return client.replace<SecretObject>(Secrets, renderRecordSecret({ ...record, ...change, resourceVersion: current.metadata?.resourceVersion }, ns));
}

describe('RegistrationStore memory', () => {
  it('returns its own last write without a GET, and reads again after a foreign write is observed', async () => {
    const store = new RegistrationStore(client, ns);
    const saved = await store.save(fresh());
    const updated = await store.save({ ...saved, clientId: 'c-1' });
    expect(await store.load(saved.uid)).toEqual(updated);
    expect(store.reads).toBe(0);
    // Our own versions coming back through the watch change nothing.
    store.observe((await client.get<SecretObject>(Secrets, recordSecretName(saved.uid), ns))!);
    expect(await store.load(saved.uid)).toEqual(updated);
    expect(store.reads).toBe(0);

    const theirs = await foreignWrite(updated, { clientId: 'c-foreign' });
    store.observe(theirs);
    expect((await store.load(saved.uid))?.clientId).toBe('c-foreign');
    expect(store.reads).toBe(1);
    // What it read is remembered too.
    await store.load(saved.uid);
    expect(store.reads).toBe(1);
  });

  it('a foreign write it has not observed yet makes its next write fail (409), and then it reads', async () => {
    const store = new RegistrationStore(client, ns);
    const saved = await store.save(fresh());
    await foreignWrite(saved, { clientId: 'c-foreign' });
    const stale = (await store.load(saved.uid))!;
    expect(stale.clientId).toBeUndefined();
    await expect(store.save({ ...stale, clientId: 'c-ours' })).rejects.toSatisfy(isConflict);
    expect((await store.load(saved.uid))?.clientId).toBe('c-foreign');
    expect(store.reads).toBe(1);
  });

  it('presumeAbsent skips the read; a record that exists after all fails the create, and the next load reads it', async () => {
    const store = new RegistrationStore(client, ns);
    const existing = await new RegistrationStore(client, ns).save({ ...fresh(), clientId: 'c-existing' });
    expect(await store.load(existing.uid, { presumeAbsent: true })).toBeNull();
    expect(store.reads).toBe(0);
    await expect(store.save({ ...existing, resourceVersion: undefined, clientId: undefined })).rejects.toSatisfy(isAlreadyExists);
    expect((await store.load(existing.uid, { presumeAbsent: true }))?.clientId).toBe('c-existing');
    expect(store.reads).toBe(1);
  });

  it('remembers its own deletion, forgets on a foreign re-creation, and stays bounded', async () => {
    const store = new RegistrationStore(client, ns, { maxRemembered: 2 });
    const saved = await store.save(fresh());
    await store.remove(saved.uid);
    store.observe({ metadata: { namespace: ns, labels: { 'agentidentity.dev/agentclient-uid': saved.uid } } }, true);
    expect(await store.load(saved.uid)).toBeNull();
    expect(store.reads).toBe(0);
    const recreated = await client.create<SecretObject>(Secrets, renderRecordSecret({ ...saved, resourceVersion: undefined }, ns));
    store.observe(recreated);
    expect((await store.load(saved.uid))?.uid).toBe(saved.uid);
    expect(store.reads).toBe(1);

    const [a, b] = [await store.save(fresh()), await store.save(fresh())];
    // Two newer entries pushed the first out: it is read again.
    await store.load(saved.uid);
    expect(store.reads).toBe(2);
    await store.load(b.uid);
    expect(store.reads).toBe(2);
    expect(a.uid).not.toBe(b.uid);
  });
});
