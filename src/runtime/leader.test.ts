import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.ts';
import type { KubeClient } from './kube/client.ts';
import { ApiError } from './kube/errors.ts';
import type { KubeObject } from './kube/types.ts';
import { LeaderElector } from './leader.ts';
import type { LeaseObject } from './leader.ts';

const log = pino({ level: 'silent' });

/**
 * One Lease on a fake API server whose every call takes `delayMs` of the manual clock (the
 * request lands when the answer comes back). Counts writes so a late attempt can be seen writing.
 */
function slowLeaseServer(clock: ManualClock) {
  let lease: LeaseObject | undefined;
  let rv = 0;
  const server = { delayMs: 0, writes: 0, lease: () => lease };
  const later = <T>(fn: () => T): Promise<T> =>
    new Promise((resolve, reject) => {
      clock.setTimer(() => {
        try {
          resolve(fn());
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      }, server.delayMs);
    });
  const unused = (): never => {
    throw new Error('not used by the elector');
  };
  const write = <T extends KubeObject>(obj: T, create: boolean): T => {
    if (create && lease) throw new ApiError(409, 'AlreadyExists', 'exists');
    if (!create && obj.metadata?.resourceVersion !== lease?.metadata?.resourceVersion) throw new ApiError(409, 'Conflict', 'modified');
    server.writes++;
    lease = structuredClone({ ...obj, metadata: { ...obj.metadata, resourceVersion: String(++rv) } });
    return structuredClone(lease) as T;
  };
  const client: KubeClient = {
    get: <T extends KubeObject>() => later(() => (lease ? (structuredClone(lease) as T) : null)),
    create: <T extends KubeObject>(_type: unknown, obj: T) => later(() => write(obj, true)),
    replace: <T extends KubeObject>(_type: unknown, obj: T) => later(() => write(obj, false)),
    list: unused,
    patch: unused,
    delete: unused,
    watch: unused,
  };
  return Object.assign(server, { client });
}

const flush = () => new Promise<void>((r) => setImmediate(r));

/** Advance the manual clock in small steps, letting promise callbacks run between them. */
async function run(clock: ManualClock, ms: number, step = 100): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    await flush();
  }
}

/** A graceful stop releases the lease through the (manual-clock) server. */
async function stop(clock: ManualClock, elector: LeaderElector): Promise<void> {
  const stopping = elector.stop();
  await run(clock, 5_000);
  await stopping;
}

const options = { namespace: 'ns', name: 'lease', identity: 'a', leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

describe('LeaderElector against a slow API server', () => {
  it('steps down at lastRenew + renewDeadline when renewals hang, before the lease expires for others', async () => {
    const clock = new ManualClock();
    const server = slowLeaseServer(clock);
    const elector = new LeaderElector(server.client, log, options, clock);
    let stoppedAt: number | undefined;
    elector.run({ onStartedLeading: () => undefined, onStoppedLeading: () => (stoppedAt = clock.now()) });
    await run(clock, 1_000);
    expect(elector.isLeader()).toBe(true);
    const renewTimes = (): string | undefined => server.lease()?.spec?.renewTime;
    await run(clock, 4_000);
    const lastRenewWritten = Date.parse(renewTimes()!);

    // The API server now takes 25 s per call (the observed incident).
    server.delayMs = 25_000;
    await run(clock, 30_000);
    expect(stoppedAt).toBeDefined();
    // Others take over leaseDuration after they saw the last renewal; we must be gone before.
    expect(stoppedAt!).toBeLessThanOrEqual(lastRenewWritten + options.renewDeadlineMs);
    expect(stoppedAt!).toBeLessThan(lastRenewWritten + options.leaseDurationMs);
    expect(elector.isLeader()).toBe(false);
    // The hung renewal's read came back after the deadline: it wrote no late renewTime.
    await run(clock, 30_000, 1_000);
    expect(Date.parse(renewTimes()!)).toBe(lastRenewWritten);
  });

  it('never counts a slow answer as a fresh renewal: the term runs from when the attempt started', async () => {
    const clock = new ManualClock();
    const server = slowLeaseServer(clock);
    const elector = new LeaderElector(server.client, log, options, clock);
    let stoppedAt: number | undefined;
    elector.run({ onStartedLeading: () => undefined, onStoppedLeading: () => (stoppedAt = clock.now()) });
    await run(clock, 1_000);
    expect(elector.isLeader()).toBe(true);
    // A renewal (get + replace) taking 3 s every 2 s + 3 s: each lands within 10 s of the last start.
    server.delayMs = 1_500;
    await run(clock, 60_000);
    expect(stoppedAt).toBeUndefined();
    expect(elector.isLeader()).toBe(true);
    // 4.5 s each: the next one completes 2 + 4.5 + 4.5 = 11 s after the last one started, which is
    // past the term the others granted from that renewTime. Counting from completions would keep
    // leading forever.
    server.delayMs = 2_250;
    await run(clock, 60_000);
    expect(stoppedAt).toBeDefined();
    const lastRenewTime = Date.parse(server.lease()!.spec!.renewTime!);
    expect(stoppedAt! - lastRenewTime).toBeLessThanOrEqual(options.renewDeadlineMs);
  });

  it('gives up a candidate attempt at the deadline and tries again', async () => {
    const clock = new ManualClock();
    const server = slowLeaseServer(clock);
    server.delayMs = 25_000;
    const elector = new LeaderElector(server.client, log, options, clock);
    let started = 0;
    elector.run({ onStartedLeading: () => started++, onStoppedLeading: () => undefined });
    await run(clock, 12_000);
    expect(elector.isLeader()).toBe(false);
    expect(server.writes).toBe(0);
    server.delayMs = 0;
    await run(clock, 40_000);
    expect(elector.isLeader()).toBe(true);
    expect(started).toBe(1);
    await stop(clock, elector);
  });
});
