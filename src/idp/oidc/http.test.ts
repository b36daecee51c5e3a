import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isIdpError } from '../errors.ts';
import { IdpHttp, MAX_RESPONSE_BYTES } from './http.ts';

/** A loopback server answering by path: JSON, an oversized body, a 429, or nothing at all. */
const server = createServer((req, res) => {
  if (req.url === '/ok') {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ got: JSON.parse(body || '{}') as unknown, auth: req.headers.authorization ?? null }));
    });
    return;
  }
  if (req.url === '/huge') {
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    const pump = (): void => {
      while (sent <= MAX_RESPONSE_BYTES + chunk.length) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
    return;
  }
  if (req.url === '/busy') {
    res.writeHead(429, { 'retry-after': '7', 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'slow_down' }));
    return;
  }
  // '/silent': never answers.
});
let base = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const client = (timeoutMs = 2000) => new IdpHttp({ issuer: base, timeoutMs }, () => []);

describe('IdpHttp over node:http', () => {
  it('sends JSON with the bearer token and returns status, headers and body', async () => {
    const response = await client().request({ operation: 'register', method: 'POST', url: `${base}/ok`, bearer: 'tok', json: { a: 1 } });
    expect(response.status).toBe(201);
    expect(response.headers.get('Content-Type')).toBe('application/json');
    expect(JSON.parse(response.text)).toEqual({ got: { a: 1 }, auth: 'Bearer tok' });
  });

  it('classifies a 429 with its Retry-After', async () => {
    const error = await client().request({ operation: 'register', method: 'POST', url: `${base}/busy`, json: {} }).catch((e: unknown) => e);
    expect(isIdpError(error) && error.code).toBe('RateLimited');
    expect(isIdpError(error) && error.retryAfterSeconds).toBe(7);
  });

  it('refuses a body larger than MAX_RESPONSE_BYTES instead of buffering it', async () => {
    const error = await client().request({ operation: 'findBySoftwareId', method: 'GET', url: `${base}/huge` }).catch((e: unknown) => e);
    expect(isIdpError(error) && error.code).toBe('InvalidResponse');
    expect(String(error)).toMatch(/more than \d+ bytes/);
  });

  it('times out a silent IdP', async () => {
    const error = await client(200).request({ operation: 'read', method: 'GET', url: `${base}/silent` }).catch((e: unknown) => e);
    expect(isIdpError(error) && error.code).toBe('Timeout');
  });

  it('reports a refused connection as Unreachable with the error code only', async () => {
    const error = await client().request({ operation: 'discover', method: 'GET', url: 'http://127.0.0.1:1/x' }).catch((e: unknown) => e);
    expect(isIdpError(error) && error.code).toBe('Unreachable');
    expect(String(error)).toMatch(/ECONNREFUSED/);
  });
});
