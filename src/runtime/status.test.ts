import { describe, expect, it } from 'vitest';
import type { KubeClient } from './kube/client.ts';
import { ApiError } from './kube/errors.ts';
import type { KubeObject, ResourceType } from './kube/types.ts';
import { patchStatusIfChanged, StatusMemo } from './status.ts';

type Obj = KubeObject & { status?: Record<string, unknown> };

const Things: ResourceType = { group: 'example.com', version: 'v1', plural: 'things', kind: 'Thing', namespaced: false };

/** RFC 7386 applied to a plain object (null removes). */
function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

/**
 * One object on a "server" that honours the resourceVersion precondition of a merge patch, like
 * the API server; only `patch` is used by patchStatusIfChanged.
 */
function oneObjectServer(initial: Obj) {
  let current: Obj = structuredClone(initial);
  let rv = Number(initial.metadata?.resourceVersion ?? '1');
  const patches: unknown[] = [];
  const unused = (): never => {
    throw new Error('not used by patchStatusIfChanged');
  };
  const client: KubeClient = {
    get: unused,
    list: unused,
    create: unused,
    replace: unused,
    delete: unused,
    watch: unused,
    async patch<T extends KubeObject>(_type: ResourceType, _name: string, _ns: string | undefined, _pt: unknown, body: unknown): Promise<T> {
      patches.push(body);
      const b = body as { status: unknown; metadata?: { resourceVersion?: string } };
      const precondition = b.metadata?.resourceVersion;
      if (precondition !== undefined && precondition !== current.metadata?.resourceVersion) {
        throw new ApiError(409, 'Conflict', 'the object has been modified');
      }
      const status = applyMergePatch(current.status ?? {}, b.status) as Record<string, unknown>;
      if (JSON.stringify(status) !== JSON.stringify(current.status ?? {})) rv++;
      current = { ...current, status, metadata: { ...current.metadata, resourceVersion: String(rv) } };
      return structuredClone(current) as T;
    },
  };
  return { client, patches, current: () => structuredClone(current) };
}

const thing = (status: Record<string, unknown>, rv = '5'): Obj => ({ metadata: { name: 't', uid: 'uid-1', resourceVersion: rv }, status });

describe('patchStatusIfChanged with a stale cache', () => {
  it('restores a value the cache still shows after this process wrote another one (non-optimistic write)', async () => {
    const server = oneObjectServer(thing({ ready: true }));
    const memo = new StatusMemo();
    const cached = thing({ ready: true });
    await patchStatusIfChanged(server.client, Things, cached, { ready: false }, { memo, optimistic: false });
    expect(server.current().status).toEqual({ ready: false });
    // The cache still shows ready: true; the run wants ready: true back.
    await patchStatusIfChanged(server.client, Things, cached, { ready: true }, { memo, optimistic: false });
    expect(server.current().status).toEqual({ ready: true });
  });

  it('forces a 409 with the stale resourceVersion, then writes once the cache caught up, then stays quiet', async () => {
    const server = oneObjectServer(thing({ ready: true }));
    const memo = new StatusMemo();
    const cached = thing({ ready: true });
    await patchStatusIfChanged(server.client, Things, cached, { ready: false }, { memo });
    await expect(patchStatusIfChanged(server.client, Things, cached, { ready: true }, { memo })).rejects.toMatchObject({ status: 409 });
    const caughtUp = server.current();
    expect(await patchStatusIfChanged(server.client, Things, caughtUp, { ready: true }, { memo })).toBeDefined();
    expect(server.current().status).toEqual({ ready: true });
    expect(memo.size).toBe(1);
    const patches = server.patches.length;
    expect(await patchStatusIfChanged(server.client, Things, server.current(), { ready: true }, { memo })).toBeUndefined();
    expect(server.patches).toHaveLength(patches);
    // The cache shows our last write: the entry is no longer needed.
    expect(memo.size).toBe(0);
  });

  it('skips when the cache equals the desired status and shows our last write, or our last write was the same', async () => {
    const server = oneObjectServer(thing({ ready: true }));
    const memo = new StatusMemo();
    const written = (await patchStatusIfChanged(server.client, Things, thing({ ready: true }), { ready: false }, { memo }))!;
    // A later version (someone else's spec edit) showing what we wrote: nothing to do.
    const later = { ...written, metadata: { ...written.metadata, resourceVersion: '99' } };
    expect(await patchStatusIfChanged(server.client, Things, later, { ready: false }, { memo })).toBeUndefined();
    expect(await patchStatusIfChanged(server.client, Things, written, { ready: false }, { memo })).toBeUndefined();
    expect(server.patches).toHaveLength(1);
  });

  it('keeps the memo bounded, oldest entry out first', () => {
    const memo = new StatusMemo(2);
    const entry = { resourceVersion: '1', statusDeflated: '', digest: 'x' };
    memo.remember('a', entry);
    memo.remember('b', entry);
    memo.remember('a', entry);
    memo.remember('c', entry);
    expect(memo.size).toBe(2);
    expect(memo.get('b')).toBeUndefined();
    expect(memo.get('a')).toBeDefined();
    expect(memo.get('c')).toBeDefined();
  });
});
