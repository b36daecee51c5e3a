import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.ts';
import type { KubeClient, WatchEvent, WatchOptions } from '../kube/client.ts';
import { ConfigMaps } from '../kube/types.ts';
import type { KubeList, KubeObject } from '../kube/types.ts';
import { Informer } from './informer.ts';

const log = pino({ level: 'silent' });

type Script = (options: WatchOptions, onEvent: (event: WatchEvent) => void, clock: ManualClock) => Promise<void>;

/** Resolves when `signal` aborts: a watch whose connection went silent. */
const stall: Script = (options) =>
  new Promise((resolve) => {
    if (options.signal?.aborted) return resolve();
    options.signal?.addEventListener('abort', () => resolve(), { once: true });
  });

/** The server ends the stream at once (after a macrotask, so a hot loop cannot starve the test). */
const closeAtOnce: Script = () => new Promise((resolve) => setImmediate(resolve));

const errorEvent: Script = async (_options, onEvent) => {
  onEvent({ type: 'ERROR', object: { code: 500, message: 'etcd unavailable' } as KubeObject });
  await closeAtOnce(_options, onEvent, undefined as never);
};

/**
 * A KubeClient that lists one ConfigMap and runs `scripts` for successive watches (the last one
 * repeats); records every watch's options.
 */
function fakeClient(clock: ManualClock, scripts: Script[]) {
  const watches: WatchOptions[] = [];
  const unused = (): never => {
    throw new Error('not used by the informer');
  };
  const client: KubeClient = {
    async list<T extends KubeObject>(): Promise<KubeList<T>> {
      return { metadata: { resourceVersion: '5' }, items: [{ metadata: { name: 'a', namespace: 'ns', resourceVersion: '5' } } as T] };
    },
    async watch<T extends KubeObject>(_type: unknown, options: WatchOptions, onEvent: (event: WatchEvent<T>) => void): Promise<void> {
      watches.push(options);
      const script = scripts[Math.min(watches.length - 1, scripts.length - 1)]!;
      await script(options, onEvent as (event: WatchEvent) => void, clock);
    },
    get: unused,
    create: unused,
    replace: unused,
    patch: unused,
    delete: unused,
  };
  return { client, watches };
}

const flush = async (times = 5) => {
  for (let i = 0; i < times; i++) await new Promise<void>((r) => setImmediate(r));
};

/** `random` 0 gives a 10 s server timeout and 200 ms backoffs; near 1, backoffs at their ceiling. */
function informer(client: KubeClient, clock: ManualClock, random = () => 0) {
  return new Informer(client, log, {
    type: ConfigMaps,
    clock,
    random,
    watchTimeoutSeconds: 10,
    watchStallMarginMs: 1_000,
  });
}

describe('Informer watch deadlines and failures', () => {
  it('aborts a watch that stays silent past the server timeout plus a margin, and resumes from its version', async () => {
    const clock = new ManualClock();
    const fake = fakeClient(clock, [stall, stall]);
    const inf = informer(fake.client, clock);
    inf.start();
    await inf.waitForSync();
    await flush();
    expect(fake.watches).toHaveLength(1);
    expect(fake.watches[0]).toMatchObject({ resourceVersion: '5', allowWatchBookmarks: true, timeoutSeconds: 10 });
    clock.advance(10_999);
    await flush();
    expect(fake.watches).toHaveLength(1);
    clock.advance(1);
    await flush();
    expect(fake.watches[0]!.signal?.aborted).toBe(true);
    expect(inf.stats.stalledWatches).toBe(1);
    // A stall is a failure: the re-watch waits out a backoff.
    clock.advance(1_000);
    await flush();
    expect(fake.watches).toHaveLength(2);
    expect(fake.watches[1]).toMatchObject({ resourceVersion: '5' });
    expect(inf.stats.lists).toBe(1);
    const stopping = inf.stop();
    await flush();
    await stopping;
  });

  it('keeps a watch alive while bookmarks arrive, and resumes from the last bookmark', async () => {
    const clock = new ManualClock();
    const bookmarks: Script = async (options, onEvent, c) => {
      // A bookmark every 8 s for 24 s: never 11 s of silence, then the server closes the stream.
      for (let i = 1; i <= 3; i++) {
        await new Promise<void>((r) => c.setTimer(r, 8_000));
        if (options.signal?.aborted) return;
        onEvent({ type: 'BOOKMARK', object: { metadata: { resourceVersion: String(10 + i) } } });
      }
    };
    const fake = fakeClient(clock, [bookmarks, stall]);
    const inf = informer(fake.client, clock);
    inf.start();
    await inf.waitForSync();
    for (let t = 0; t < 26_000; t += 500) {
      clock.advance(500);
      await flush(2);
    }
    await flush();
    expect(inf.stats.stalledWatches).toBe(0);
    expect(fake.watches).toHaveLength(2);
    expect(fake.watches[1]).toMatchObject({ resourceVersion: '13' });
    const stopping = inf.stop();
    await flush();
    await stopping;
  });

  it('backs off when watches close at once without any event instead of re-watching in a hot loop', async () => {
    const clock = new ManualClock();
    const fake = fakeClient(clock, [closeAtOnce]);
    const inf = informer(fake.client, clock, () => 0.999);
    inf.start();
    await inf.waitForSync();
    await flush(50);
    expect(fake.watches.length).toBeLessThanOrEqual(2);
    // Ten seconds of retries with exponential backoff (200 ms base): a handful, not thousands.
    for (let t = 0; t < 10_000; t += 100) {
      clock.advance(100);
      await flush(2);
    }
    expect(fake.watches.length).toBeLessThan(12);
    const stopping = inf.stop();
    await flush();
    await stopping;
  });

  it('treats a non-410 ERROR event as a failure with backoff', async () => {
    const clock = new ManualClock();
    const fake = fakeClient(clock, [errorEvent]);
    const inf = informer(fake.client, clock);
    inf.start();
    await inf.waitForSync();
    await flush(50);
    expect(fake.watches).toHaveLength(1);
    expect(clock.pendingTimers.some((ms) => ms >= 200)).toBe(true);
    expect(inf.stats.lists).toBe(1);
    const stopping = inf.stop();
    await flush();
    await stopping;
  });
});
