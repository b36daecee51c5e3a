// The oidc adapter's CA bundle: a real TLS server with a self-signed certificate is refused
// without the bundle (Unreachable, no secret in the message) and trusted with it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdapter } from '../../../src/idp/registry.ts';
import { isIdpError } from '../../../src/idp/errors.ts';

let server: Server;
let issuer: string;
let ca: string;
const dir = mkdtempSync(join(tmpdir(), 'idp-tls-'));

beforeAll(async () => {
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', '/CN=test-idp', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { stdio: 'ignore' });
  ca = readFileSync(join(dir, 'cert.pem'), 'utf8');
  server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: ca }, (req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ issuer, token_endpoint: `${issuer}/token`, registration_endpoint: `${issuer}/reg` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe('oidc adapter TLS trust', () => {
  it('refuses an untrusted certificate as Unreachable', async () => {
    const adapter = createAdapter('oidc', { issuer, initialAccessToken: 'iat-secret-value-123', timeoutMs: 3000 });
    const error: unknown = await adapter.discover().then(() => undefined, (e: unknown) => e);
    expect(isIdpError(error) && error.code).toBe('Unreachable');
    expect(String((error as Error).message)).not.toContain('iat-secret-value-123');
  });

  it('trusts the certificate given as caBundle', async () => {
    const adapter = createAdapter('oidc', { issuer, caBundle: ca, timeoutMs: 3000 });
    const discovered = await adapter.discover();
    expect(discovered.issuer).toBe(issuer);
    expect(discovered.capabilities.registration).toBe(true);
  });
});
