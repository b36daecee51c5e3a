import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.ts';
import { WorkQueue } from './queue.ts';
import type { Lane, RunResult } from './queue.ts';

/** A handler whose runs stay open until the test releases them. */
function gate() {
  const running = new Map<string, { resolve: (r?: RunResult) => void; reject: (e: Error) => void }>();
  const log: { key: string; lane: Lane; failures: number }[] = [];
  let maxParallel = 0;
  const handler = (key: string, ctx: { lane: Lane; failures: number }) =>
    new Promise<RunResult>((resolve, reject) => {
      if (running.has(key)) throw new Error(`key ${key} ran twice at once`);
      log.push({ key, lane: ctx.lane, failures: ctx.failures });
      running.set(key, {
        resolve: (r) => {
          running.delete(key);
          resolve(r);
        },
        reject: (e: Error) => {
          running.delete(key);
          reject(e);
        },
      });
      maxParallel = Math.max(maxParallel, running.size);
    });
  return {
    handler,
    running,
    log,
    get maxParallel() {
      return maxParallel;
    },
    finish: async (key: string, r?: RunResult) => {
      running.get(key)!.resolve(r);
      await flush();
    },
    fail: async (key: string, e: Error = new Error('boom')) => {
      running.get(key)!.reject(e);
      await flush();
    },
  };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

describe('WorkQueue', () => {
  it('dedupes a key added many times while it waits', async () => {
    const g = gate();
    const q = new WorkQueue({ concurrency: 1, clock: new ManualClock() });
    for (let i = 0; i < 5; i++) q.add('a');
    q.add('b');
    q.add('a');
    expect(q.depth()).toMatchObject({ normal: 2 });
    q.start(g.handler);
    await g.finish('a');
    await g.finish('b');
    expect(g.log.map((l) => l.key)).toEqual(['a', 'b']);
  });

  it('never runs one key twice at once, and reruns it once if added while running', async () => {
    const g = gate();
    const q = new WorkQueue({ concurrency: 4, clock: new ManualClock() });
    q.start(g.handler);
    q.add('a');
    await flush();
    q.add('a');
    q.add('a');
    await flush();
    expect(g.running.size).toBe(1);
    await g.finish('a');
    expect(g.running.has('a')).toBe(true);
    await g.finish('a');
    expect(g.log).toHaveLength(2);
    await q.idle();
  });

  it('bounds concurrency', async () => {
    const g = gate();
    const q = new WorkQueue({ concurrency: 3, priorityReserve: 0, clock: new ManualClock() });
    q.start(g.handler);
    for (let i = 0; i < 10; i++) q.add(`k${i}`);
    await flush();
    expect(g.running.size).toBe(3);
    while (g.running.size > 0) await g.finish([...g.running.keys()][0]!);
    expect(g.log).toHaveLength(10);
    expect(g.maxParallel).toBe(3);
  });

  it('serves the priority lane first and pre-empts a saturated normal lane with reserved workers', async () => {
    const g = gate();
    const q = new WorkQueue({ concurrency: 2, priorityReserve: 1, clock: new ManualClock() });
    q.start(g.handler);
    for (let i = 0; i < 100; i++) q.add(`n${i}`);
    await flush();
    expect([...g.running.keys()]).toEqual(['n0', 'n1']);
    q.add('revoke', { priority: true });
    await flush();
    // Started at once although both normal workers are busy.
    expect(g.running.has('revoke')).toBe(true);
    expect(g.log.at(-1)).toMatchObject({ key: 'revoke', lane: 'priority' });
    // A second priority key waits for a slot, then goes ahead of 98 waiting normal keys.
    q.add('revoke2', { priority: true });
    await flush();
    expect(g.running.has('revoke2')).toBe(false);
    await g.finish('n0');
    expect(g.running.has('revoke2')).toBe(true);
    expect(g.running.has('n2')).toBe(false);
  });

  it('promotes a waiting normal key to the priority lane', async () => {
    const g = gate();
    const q = new WorkQueue({ concurrency: 1, priorityReserve: 0, clock: new ManualClock() });
    q.add('a');
    q.add('b');
    q.add('b', { priority: true });
    expect(q.depth()).toMatchObject({ normal: 1, priority: 1 });
    q.start(g.handler);
    await flush();
    expect(g.log[0]).toMatchObject({ key: 'b', lane: 'priority' });
  });

  it('backs off a failing key exponentially and forgets on success', async () => {
    const clock = new ManualClock();
    const g = gate();
    const delays: number[] = [];
    const q = new WorkQueue({ concurrency: 1, clock, random: () => 0.999, onError: (_k, _e, d) => delays.push(d) });
    q.start(g.handler);
    q.add('a');
    for (let i = 0; i < 6; i++) {
      await flush();
      await g.fail('a');
      clock.advance(delays.at(-1)!);
    }
    expect(delays).toEqual([4, 9, 19, 39, 79, 159].map((d) => Math.max(5, d)));
    await flush();
    expect(g.log.at(-1)!.failures).toBe(6);
    await g.finish('a');
    expect(q.failures('a')).toBe(0);
  });

  it('honours retryAfterSeconds on the error', async () => {
    const clock = new ManualClock();
    const g = gate();
    const delays: number[] = [];
    const q = new WorkQueue({ concurrency: 1, clock, onError: (_k, _e, d) => delays.push(d) });
    q.start(g.handler);
    q.add('a');
    await flush();
    await g.fail('a', Object.assign(new Error('429'), { retryAfterSeconds: 7 }));
    expect(delays[0]).toBe(7000);
  });

  it('requeues after requeueAfter, and an earlier add wins over a later schedule', async () => {
    const clock = new ManualClock();
    const g = gate();
    const q = new WorkQueue({ concurrency: 1, clock });
    q.start(g.handler);
    q.add('a');
    await flush();
    await g.finish('a', { requeueAfter: 60_000 });
    expect(q.depth().delayed).toBe(1);
    clock.advance(59_999);
    await flush();
    expect(g.running.size).toBe(0);
    clock.advance(1);
    await flush();
    expect(g.running.has('a')).toBe(true);
    await g.finish('a', { requeueAfter: 60_000 });
    q.addAfter('a', 1000);
    expect(clock.pendingTimers).toEqual([1000]);
  });

  it('a failure scheduled in the priority lane retries in the priority lane', async () => {
    const clock = new ManualClock();
    const g = gate();
    const q = new WorkQueue({ concurrency: 1, clock, random: () => 0 });
    q.start(g.handler);
    q.add('r', { priority: true });
    await flush();
    await g.fail('r');
    clock.advance(5);
    await flush();
    expect(g.log.at(-1)).toMatchObject({ key: 'r', lane: 'priority', failures: 1 });
  });

  it('shutdown lets running work finish, drops waiting work, and reports a missed deadline', async () => {
    const clock = new ManualClock();
    const g = gate();
    const q = new WorkQueue({ concurrency: 1, priorityReserve: 0, clock });
    q.start(g.handler);
    q.add('a');
    q.add('b');
    await flush();
    const done = q.shutdown(1000);
    await g.finish('a');
    await expect(done).resolves.toEqual({ drained: true });
    expect(g.log.map((l) => l.key)).toEqual(['a']);
    q.add('c');
    expect(q.depth()).toMatchObject({ normal: 0, priority: 0 });

    const q2 = new WorkQueue({ concurrency: 1, clock });
    q2.start(g.handler);
    q2.add('slow');
    await flush();
    const late = q2.shutdown(1000);
    clock.advance(1000);
    await expect(late).resolves.toEqual({ drained: false });
  });
});

describe('WorkQueue retries', () => {
  it('keeps the backoff when the key is re-added while the failing run is still going', async () => {
    const clock = new ManualClock();
    const g = gate();
    const delays: number[] = [];
    const q = new WorkQueue({ concurrency: 1, clock, random: () => 0.999, backoff: { baseMs: 1000, maxMs: 60_000 }, onError: (_k, _e, d) => delays.push(d) });
    q.start(g.handler);
    q.add('a');
    await flush();
    // E.g. the run's own status write comes back as a watch event before the run fails.
    q.add('a');
    await g.fail('a');
    expect(g.running.has('a')).toBe(false);
    expect(q.depth()).toMatchObject({ normal: 0, delayed: 1 });
    clock.advance(delays[0]! - 1);
    await flush();
    expect(g.log).toHaveLength(1);
    clock.advance(1);
    await flush();
    expect(g.log).toHaveLength(2);
  });

  it('a priority re-add during a failing run retries after the backoff in the priority lane', async () => {
    const clock = new ManualClock();
    const g = gate();
    const q = new WorkQueue({ concurrency: 1, clock, random: () => 0.999, backoff: { baseMs: 1000, maxMs: 60_000 } });
    q.start(g.handler);
    q.add('a');
    await flush();
    q.add('a', { priority: true });
    await g.fail('a');
    expect(g.log).toHaveLength(1);
    clock.advance(1000);
    await flush();
    expect(g.log.at(-1)).toMatchObject({ key: 'a', lane: 'priority', failures: 1 });
  });

  it('a re-add during a successful run still runs at once', async () => {
    const g = gate();
    const q = new WorkQueue({ concurrency: 1, clock: new ManualClock() });
    q.start(g.handler);
    q.add('a');
    await flush();
    q.add('a');
    await g.finish('a', { requeueAfter: 60_000 });
    expect(g.running.has('a')).toBe(true);
  });

  it('spreads normal-lane retries of many failing keys with the overall bucket, but not first attempts or the priority lane', async () => {
    const clock = new ManualClock();
    const g = gate();
    const delays = new Map<string, number>();
    const q = new WorkQueue({
      concurrency: 100,
      priorityReserve: 10,
      clock,
      random: () => 0,
      retryRateLimit: { qps: 10, burst: 5 },
      onError: (k, _e, d) => delays.set(k, d),
    });
    q.start(g.handler);
    for (let i = 0; i < 20; i++) q.add(`k${i}`);
    await flush();
    // First attempts are not limited.
    expect(g.running.size).toBe(20);
    for (let i = 0; i < 20; i++) await g.fail(`k${i}`);
    const sorted = [...delays.values()].sort((a, b) => a - b);
    // Five retries from the burst after their own backoff (5 ms), then one every 100 ms.
    expect(sorted.slice(0, 5)).toEqual([5, 5, 5, 5, 5]);
    expect(sorted.slice(5)).toEqual(Array.from({ length: 15 }, (_, i) => (i + 1) * 100));
    // The priority lane does not wait for the spent bucket.
    q.add('revoke', { priority: true });
    await flush();
    await g.fail('revoke');
    expect(delays.get('revoke')).toBe(5);
  });
});
