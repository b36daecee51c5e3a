import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createBackgroundEventRecorder } from './event-queue.ts';
import type { KubeClient } from './kube/client.ts';
import { ApiError } from './kube/errors.ts';
import type { KubeObject } from './kube/types.ts';

const log = pino({ level: 'silent' });

interface Call {
  verb: 'create' | 'patch';
  name: string;
  namespace: string | undefined;
  body: Record<string, unknown>;
  release(error?: Error): void;
}

/** A KubeClient whose Event writes wait until the test releases them. */
function gatedClient() {
  const calls: Call[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const gate = <T,>(verb: Call['verb'], name: string, namespace: string | undefined, body: Record<string, unknown>) =>
    new Promise<T>((resolve, reject) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      calls.push({
        verb,
        name,
        namespace,
        body,
        release(error) {
          inFlight--;
          if (error) reject(error);
          else resolve(body as T);
        },
      });
    });
  const unused = () => Promise.reject(new Error('not used'));
  const client: KubeClient = {
    get: unused,
    list: unused,
    replace: unused,
    delete: unused,
    watch: unused,
    create: <T extends KubeObject>(_type: unknown, obj: T) => gate<T>('create', obj.metadata?.name ?? '', obj.metadata?.namespace, obj as unknown as Record<string, unknown>),
    patch: <T extends KubeObject>(_type: unknown, name: string, namespace: string | undefined, _patchType: unknown, body: unknown) =>
      gate<T>('patch', name, namespace, body as Record<string, unknown>),
  };
  return { client, calls, maxInFlight: () => maxInFlight };
}

const agent = (name: string): KubeObject => ({ apiVersion: 'agentidentity.dev/v1alpha1', kind: 'AgentClient', metadata: { name, namespace: 'ns', uid: `uid-${name}` } });
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('background Event recorder', () => {
  it('returns before the API server answers; flush waits for the write', async () => {
    const { client, calls } = gatedClient();
    const recorder = createBackgroundEventRecorder(client, log, { component: 'test' });
    await recorder.event(agent('a'), 'Normal', 'Registered', 'registered at the IdP');
    expect(calls).toHaveLength(1);
    expect(recorder.backlog).toBe(1);
    let flushed = false;
    const flushing = recorder.flush().then((ok) => (flushed = ok));
    await tick();
    expect(flushed).toBe(false);
    calls[0]!.release();
    await flushing;
    expect(flushed).toBe(true);
    expect(calls[0]!.body).toMatchObject({ reason: 'Registered', count: 1, involvedObject: { kind: 'AgentClient', name: 'a', uid: 'uid-a' } });
  });

  it('folds repeats waiting in the queue into one write, and sends a repeat during a write as a count bump after it', async () => {
    const { client, calls } = gatedClient();
    const recorder = createBackgroundEventRecorder(client, log, { component: 'test', concurrency: 1 });
    await recorder.event(agent('busy'), 'Normal', 'Other', 'x'); // occupies the only sender
    for (let i = 0; i < 5; i++) await recorder.event(agent('a'), 'Warning', 'Failed', 'boom');
    calls[0]!.release();
    await tick();
    expect(calls).toHaveLength(2);
    expect(calls[1]).toMatchObject({ verb: 'create', body: { reason: 'Failed', count: 5 } });
    await recorder.event(agent('a'), 'Warning', 'Failed', 'boom'); // while its create is in flight
    await tick();
    expect(calls).toHaveLength(2);
    calls[1]!.release();
    await tick();
    expect(calls[2]).toMatchObject({ verb: 'patch', name: calls[1]!.name, body: { count: 6 } });
    calls[2]!.release();
    expect(await recorder.flush()).toBe(true);
  });

  it('keeps at most `concurrency` writes in flight', async () => {
    const { client, calls, maxInFlight } = gatedClient();
    const recorder = createBackgroundEventRecorder(client, log, { component: 'test', concurrency: 3 });
    for (let i = 0; i < 10; i++) await recorder.event(agent(`n${i}`), 'Normal', 'Registered', 'ok');
    for (let released = 0; released < 10; released++) {
      await tick();
      calls[released]!.release();
    }
    expect(await recorder.flush()).toBe(true);
    expect(calls).toHaveLength(10);
    expect(maxInFlight()).toBe(3);
  });

  it('drops and counts occurrences when the queue is full, and accepts again once it drains', async () => {
    const { client, calls } = gatedClient();
    let droppedMetric = 0;
    const recorder = createBackgroundEventRecorder(client, log, { component: 'test', concurrency: 1, maxPending: 2, onDropped: () => droppedMetric++ });
    for (let i = 0; i < 6; i++) await recorder.event(agent(`d${i}`), 'Normal', 'Registered', 'ok');
    // One being written, two queued, three dropped.
    expect(recorder.dropped).toBe(3);
    expect(droppedMetric).toBe(3);
    // A repeat of a queued occurrence is not new: folded, not dropped.
    await recorder.event(agent('d1'), 'Normal', 'Registered', 'ok');
    expect(recorder.dropped).toBe(3);
    for (let i = 0; i < 3; i++) {
      calls[i]!.release();
      await tick();
    }
    expect(await recorder.flush()).toBe(true);
    expect(calls.map((c) => (c.body['involvedObject'] as { name: string }).name)).toEqual(['d0', 'd1', 'd2']);
    expect(calls[1]!.body['count']).toBe(2);
    await recorder.event(agent('later'), 'Normal', 'Registered', 'ok');
    expect(calls).toHaveLength(4);
  });

  it('a failed write is logged and does not stop the queue; Events of cluster-scoped objects go to default', async () => {
    const { client, calls } = gatedClient();
    const recorder = createBackgroundEventRecorder(client, log, { component: 'test', concurrency: 1 });
    await recorder.event(agent('x'), 'Warning', 'Failed', 'boom');
    await recorder.event({ apiVersion: 'agentidentity.dev/v1alpha1', kind: 'IdentityProvider', metadata: { name: 'dev', uid: 'u' } }, 'Normal', 'Discovered', 'ok');
    calls[0]!.release(new ApiError(500, 'InternalError', 'etcd hiccup'));
    await tick();
    expect(calls[1]).toMatchObject({ namespace: 'default', body: { involvedObject: { kind: 'IdentityProvider', name: 'dev', namespace: undefined } } });
    calls[1]!.release();
    expect(await recorder.flush()).toBe(true);
  });

  it('flush gives up at its deadline', async () => {
    const { client } = gatedClient();
    const recorder = createBackgroundEventRecorder(client, log, { component: 'test' });
    await recorder.event(agent('stuck'), 'Normal', 'Registered', 'ok');
    expect(await recorder.flush(20)).toBe(false);
    expect(recorder.backlog).toBe(1);
  });

  it('scrubs credentials before queueing', async () => {
    const { client, calls } = gatedClient();
    const recorder = createBackgroundEventRecorder(client, log, { component: 'test' });
    await recorder.event(agent('s'), 'Warning', 'Failed', 'sent Authorization: Bearer abc.def-123 and client_secret=hunter2');
    expect(JSON.stringify(calls[0]!.body)).not.toMatch(/abc\.def-123|hunter2/);
  });
});
