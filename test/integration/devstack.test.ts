import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiextensionsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN_SECRET,
  INITIAL_ACCESS_TOKEN_SECRET,
  OPERATOR_NAMESPACE,
  startDevStack,
  type DevStack,
} from '../../src/dev/stack.ts';
import { loadKubeConfig } from '../../src/envtest/index.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
let dataDir: string;
let stack: DevStack;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'devstack-'));
  stack = await startDevStack({ dataDir, crdsDir: path.join(repoRoot, 'crds'), idpPort: 0, logger: pino({ level: 'silent' }) });
});
afterAll(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

/** Parse the shell assignments of `.dev/env` (single-quoted values). */
function parseEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z_]+)='(.*)'$/.exec(line);
    if (match?.[1] && match[2] !== undefined) env[match[1]] = match[2].replaceAll(`'\\''`, "'");
  }
  return env;
}

describe('dev stack', () => {
  it('writes a kubeconfig that reaches the control plane, with the CRDs installed', async () => {
    const env = parseEnv(await readFile(path.join(dataDir, 'env'), 'utf8'));
    expect(env.KUBECONFIG).toBe(path.join(dataDir, 'kubeconfig'));
    const kc = loadKubeConfig(env.KUBECONFIG ?? '');
    const crds = await kc.makeApiClient(ApiextensionsV1Api).listCustomResourceDefinition();
    const names = crds.items.map((crd) => crd.metadata?.name);
    for (const crd of stack.crds) expect(names).toContain(crd);
    expect(existsSync(path.join(dataDir, 'ready'))).toBe(true);
  });

  it('puts the IdP tokens in 0600 files and in the Secrets the sample IdentityProvider uses', async () => {
    const env = parseEnv(await readFile(path.join(dataDir, 'env'), 'utf8'));
    const envText = await readFile(path.join(dataDir, 'env'), 'utf8');
    const core = stack.kubeConfig.makeApiClient(CoreV1Api);
    for (const [file, secret] of [
      [env.IDP_INITIAL_ACCESS_TOKEN_FILE ?? '', INITIAL_ACCESS_TOKEN_SECRET],
      [env.IDP_ADMIN_TOKEN_FILE ?? '', ADMIN_TOKEN_SECRET],
    ] as const) {
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const token = (await readFile(file, 'utf8')).trim();
      expect(token.length).toBeGreaterThan(20);
      expect(envText).not.toContain(token);
      const stored = await core.readNamespacedSecret({ name: secret, namespace: OPERATOR_NAMESPACE });
      expect(Buffer.from(stored.data?.token ?? '', 'base64').toString()).toBe(token);
    }
  });

  it('serves IdP discovery and accepts a registration with the initial access token', async () => {
    const env = parseEnv(await readFile(path.join(dataDir, 'env'), 'utf8'));
    const discovery = await fetch(`${env.IDP_ISSUER}/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
    const metadata = (await discovery.json()) as { issuer: string; registration_endpoint: string };
    expect(metadata.issuer).toBe(env.IDP_ISSUER);
    expect(metadata.registration_endpoint).toBe(env.IDP_REGISTRATION_ENDPOINT);

    const body = JSON.stringify({
      client_name: 'devstack-test',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    const headers = { 'content-type': 'application/json' };
    const anonymous = await fetch(metadata.registration_endpoint, { method: 'POST', headers, body });
    expect(anonymous.status).toBe(401);
    const token = (await readFile(env.IDP_INITIAL_ACCESS_TOKEN_FILE ?? '', 'utf8')).trim();
    const registered = await fetch(metadata.registration_endpoint, {
      method: 'POST',
      headers: { ...headers, authorization: `Bearer ${token}` },
      body,
    });
    expect(registered.status).toBe(201);
  });
});
