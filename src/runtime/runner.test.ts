import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.ts';
import type { Controller } from './controller.ts';
import type { InformerHandler } from './informer/informer.ts';
import type { InformerFactory } from './informers.ts';
import type { KubeObject } from './kube/types.ts';
import { createMetrics } from './metrics.ts';
import { ControllerRunner } from './runner.ts';

const primaryType = { group: 'example.dev', version: 'v1', plural: 'parents', kind: 'Parent', namespaced: false };
const childType = { group: 'example.dev', version: 'v1', plural: 'children', kind: 'Child', namespaced: false };

/** Informers reduced to what the runner uses: handlers per kind, fed by the test. */
function fakeInformers() {
  const handlers = new Map<string, InformerHandler<KubeObject>[]>();
  const factory = {
    get: (spec: { type: { plural: string } }) => ({
      addHandler: (h: InformerHandler<KubeObject>) => {
        handlers.set(spec.type.plural, [...(handlers.get(spec.type.plural) ?? []), h]);
        return () => undefined;
      },
      keys: () => [],
    }),
  } as unknown as InformerFactory;
  const update = (plural: string, name: string, rv: string) => {
    const obj = { metadata: { name, resourceVersion: rv } };
    for (const h of handlers.get(plural) ?? []) h.update?.(obj, obj);
  };
  return { factory, update };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

function runner(coalesceMs: number | undefined) {
  const clock = new ManualClock();
  const informers = fakeInformers();
  const runs: string[] = [];
  const controller: Controller = {
    name: 'parents',
    primary: { type: primaryType },
    watches: [{ source: { type: childType }, map: () => ['parent-a'], ...(coalesceMs !== undefined ? { coalesceMs } : {}) }],
    reconcile: async (key) => {
      runs.push(key);
    },
  };
  const r = new ControllerRunner(controller, { informers: informers.factory, log: pino({ level: 'silent' }), metrics: createMetrics(), clock, concurrency: 2 });
  r.startWorkers();
  return { clock, informers, runs, runner: r };
}

describe('ControllerRunner watches', () => {
  it('queues mapped keys at once by default', async () => {
    const t = runner(undefined);
    t.informers.update('children', 'c1', '1');
    await flush();
    expect(t.runs).toEqual(['parent-a']);
  });

  it('coalesces a burst of watched changes into one run after the window', async () => {
    const t = runner(2000);
    for (let i = 0; i < 50; i++) {
      t.informers.update('children', `c${i}`, String(i));
      t.clock.advance(10);
    }
    await flush();
    expect(t.runs).toEqual([]);
    t.clock.advance(2000);
    await flush();
    expect(t.runs).toEqual(['parent-a']);
    // A change after that run gets its own (coalesced) run: nothing is lost.
    t.informers.update('children', 'late', '99');
    t.clock.advance(2000);
    await flush();
    expect(t.runs).toEqual(['parent-a', 'parent-a']);
  });

  it('a primary event runs at once, even with a coalesced run pending', async () => {
    const t = runner(2000);
    t.informers.update('children', 'c1', '1');
    t.informers.update('parents', 'parent-a', '7');
    await flush();
    expect(t.runs).toEqual(['parent-a']);
    t.clock.advance(5000);
    await flush();
    expect(t.runs).toEqual(['parent-a']);
  });
});
