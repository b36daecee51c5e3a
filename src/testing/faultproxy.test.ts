import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matching, startFaultProxy } from './faultproxy.ts';
import type { FaultProxy } from './faultproxy.ts';

const upstream = createServer((req, res) => {
  res.setHeader('content-type', 'text/plain');
  res.end(`${req.method} ${req.url} host=${req.headers.host}`);
});
let proxy: FaultProxy;

beforeAll(async () => {
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  proxy = await startFaultProxy({ target: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` });
});
afterAll(async () => {
  await proxy.close();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

describe('fault proxy', () => {
  it('passes through, keeping the Host header, and counts', async () => {
    proxy.reset();
    proxy.resetCount();
    const res = await fetch(`${proxy.url}/a?x=1`);
    expect(await res.text()).toBe(`GET /a?x=1 host=${new URL(proxy.url).host}`);
    expect(proxy.requestCount()).toBe(1);
    expect(proxy.requests()).toEqual([{ method: 'GET', path: '/a' }]);
  });

  it('answers 429 with Retry-After only for matching requests', async () => {
    proxy.rateLimit(7, matching('POST', '/reg'));
    const limited = await fetch(`${proxy.url}/reg`, { method: 'POST', body: 'x' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect((await fetch(`${proxy.url}/reg`)).status).toBe(200);
  });

  it('faults only the Nth matching request', async () => {
    proxy.set({ fault: { kind: 'respond', status: 503 }, nth: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await fetch(`${proxy.url}/n`)).status);
    expect(statuses).toEqual([200, 503, 200]);
  });

  it('drops connections and delays', async () => {
    proxy.drop();
    await expect(fetch(`${proxy.url}/x`)).rejects.toThrow();
    proxy.delay(300);
    await expect(fetch(`${proxy.url}/x`, { signal: AbortSignal.timeout(50) })).rejects.toThrow();
    const started = Date.now();
    expect((await fetch(`${proxy.url}/x`)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    proxy.passThrough();
  });
});
