import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN_SECRET,
  INITIAL_ACCESS_TOKEN_SECRET,
  OPERATOR_NAMESPACE,
  SAMPLES_NAMESPACE,
  startDevStack,
  type DevStack,
} from '../../src/dev/stack.ts';
import { tour } from '../../src/dev/tour.ts';
import { loadKubeConfig } from '../../src/envtest/index.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
let dataDir: string;
let stack: DevStack;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'devstack-'));
  // A free IdP port: the sample IdentityProvider (issuer 127.0.0.1:4444) is applied patched.
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
    const match = /^export ([A-Z_]+)='(.*)'$/.exec(line);
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

const exec = promisify(execFile);

/** Run one shell line the way a user would after `source <dataDir>/env`, from the repository root. */
async function shell(line: string): Promise<{ stdout: string; stderr: string }> {
  return exec('bash', ['-c', `set -euo pipefail; source ${JSON.stringify(path.join(dataDir, 'env'))}; ${line}`], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
    maxBuffer: 10 * 1024 * 1024,
  });
}

/** The count of registrations the operator made, from its own audit records. */
async function registrations(): Promise<number> {
  return (await readFile(stack.operatorLogFile, 'utf8')).split('\n').filter((line) => line.includes('"msg":"idp register"')).length;
}

interface Conditioned {
  status?: { conditions?: Array<{ type: string; status: string }>; clientId?: string };
}
const readyOf = (o: Conditioned) => o.status?.conditions?.find((c) => c.type === 'Ready')?.status;

describe('dev stack: operator and samples', () => {
  it('runs the operator as its own process and leaves the IdentityProvider and both sample agents Ready', async () => {
    const pid = Number((await readFile(path.join(dataDir, 'operator.pid'), 'utf8')).trim());
    expect(pid).toBe(stack.operator.pid());
    expect(pid).not.toBe(process.pid);
    expect((await fetch(`${stack.operator.healthUrl}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${stack.operator.metricsUrl}/metrics`)).text()).toContain('# TYPE');

    const objects = stack.kubeConfig.makeApiClient(CustomObjectsApi);
    const group = 'agentidentity.dev';
    const idp = (await objects.getClusterCustomObject({ group, version: 'v1alpha1', plural: 'identityproviders', name: 'embedded' })) as Conditioned & {
      spec: { issuer: string };
    };
    expect(readyOf(idp)).toBe('True');
    // The sample names 127.0.0.1:4444; the stack applied a copy pointing at the running IdP, the file is unchanged.
    expect(idp.spec.issuer).toBe(stack.issuer);
    expect(stack.samples?.patchedIssuer).toEqual({ name: 'embedded', from: 'http://127.0.0.1:4444', to: stack.issuer });
    expect(await readFile(path.join(repoRoot, 'config', 'samples', 'identityprovider.yaml'), 'utf8')).toContain('issuer: http://127.0.0.1:4444');
    for (const name of ['reporting-agent', 'coding-agent']) {
      const agent = (await objects.getNamespacedCustomObject({ group, version: 'v1alpha1', namespace: SAMPLES_NAMESPACE, plural: 'agentclients', name })) as Conditioned;
      expect(readyOf(agent), name).toBe('True');
      expect(agent.status?.clientId, name).toBeTruthy();
    }
  });

  it('gets a token as the reporting agent from its Secret alone (hack/dev/agent-token.ts)', async () => {
    const { stdout, stderr } = await shell('node hack/dev/agent-token.ts reporting-agent');
    const summary = JSON.parse(stderr.trim().split('\n').pop() ?? '{}') as { client_id: string; scope: string; token_endpoint_auth_method: string };
    const secret = await stack.kubeConfig.makeApiClient(CoreV1Api).readNamespacedSecret({ name: 'reporting-agent-oauth', namespace: SAMPLES_NAMESPACE });
    expect(summary.client_id).toBe(Buffer.from(secret.data?.client_id ?? '', 'base64').toString());
    expect(summary).toMatchObject({ scope: 'reports:read', token_endpoint_auth_method: 'private_key_jwt' });
    const token = stdout.trim();
    expect(token.length).toBeGreaterThan(20);
    expect(stderr).not.toContain(token);
    // A Secret that is not the agent's: the script fails, it does not invent credentials.
    await expect(shell('node hack/dev/agent-token.ts --secret embedded-idp-admin-token -n agent-identity-system x')).rejects.toThrow(/has no client_id/);
  });

  it('runs every command of the tour against the stack, in order, each exiting 0', async () => {
    const text = tour(stack, dataDir, 'background');
    const commands = text
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => /^(kubectl|node|kill) /.test(line))
      .map((line) => line.replace(/\s+# .*$/, ''));
    expect(commands.length).toBeGreaterThanOrEqual(9);
    const registered = await registrations();
    const outputs = new Map<string, string>();
    for (const command of commands) {
      const operatorPid = stack.operator.pid();
      const { stdout, stderr } = await shell(command).catch((error: unknown) => {
        throw new Error(`tour command failed: ${command}\n${String(error)}`);
      });
      outputs.set(command, stdout + stderr);
      if (command.startsWith('kill ')) {
        // The operator restarts like a pod: a new process, ready again, nothing re-registered.
        await expect.poll(async () => (await readFile(path.join(dataDir, 'operator.pid'), 'utf8')).trim(), { timeout: 30_000 }).not.toBe(
          String(operatorPid),
        );
        await expect.poll(() => stack.operator.restarts(), { timeout: 30_000 }).toBe(1);
        await expect.poll(async () => (await fetch(`${stack.operator.healthUrl}/readyz`).catch(() => undefined))?.status, { timeout: 30_000 }).toBe(200);
        // And the agents it found Ready stay Ready (DESIGN: ready again within 15 s after a restart).
        const objects = stack.kubeConfig.makeApiClient(CustomObjectsApi);
        await expect
          .poll(
            async () => {
              const list = (await objects.listNamespacedCustomObject({ group: 'agentidentity.dev', version: 'v1alpha1', namespace: SAMPLES_NAMESPACE, plural: 'agentclients' })) as {
                items: Array<Conditioned & { metadata: { name: string } }>;
              };
              return list.items.map((agent) => `${agent.metadata.name}=${readyOf(agent) ?? '?'}`).sort();
            },
            { timeout: 30_000 },
          )
          .toEqual(['coding-agent=True', 'reporting-agent=True']);
      }
    }
    const output = (prefix: string) => [...outputs].filter(([command]) => command.startsWith(prefix)).map(([, out]) => out).join('\n');
    expect(output('kubectl get idp,agc,cpol,grev -A')).toMatch(/reporting-agent\s+\S+\s+True/);
    expect(output('kubectl describe secret')).toMatch(/private_key\.jwk:\s+\d+ bytes/);
    expect(output('kubectl agentid rotate')).toContain('handled');
    expect(output('kubectl agentid revoke')).toContain('Completed');
    expect(output('kubectl agentid history')).toContain('tour: suspected leak');
    expect(await registrations()).toBe(registered);
  }, 180_000);
});

describe('dev stack: restart on the same state folder', () => {
  it('keeps the agents registered at the IdP: same client IDs, tokens still issued, nothing re-registered', async () => {
    // A new admin token each start: build the client from the current stack.
    const clientId = async () =>
      ((await stack.kubeConfig.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
        group: 'agentidentity.dev',
        version: 'v1alpha1',
        namespace: SAMPLES_NAMESPACE,
        plural: 'agentclients',
        name: 'reporting-agent',
      })) as Conditioned).status?.clientId;
    const before = await clientId();
    const registered = await registrations();
    const port = Number(new URL(stack.issuer).port);
    await stack.stop();
    // On a timeout startDevStack fails with every sample's conditions and the operator log's tail.
    stack = await startDevStack({ dataDir, crdsDir: path.join(repoRoot, 'crds'), idpPort: port, readyTimeoutMs: 60_000, logger: pino({ level: 'silent' }) });
    expect(await clientId()).toBe(before);
    const { stderr } = await shell('node hack/dev/agent-token.ts reporting-agent');
    expect(stderr).toContain(`"client_id":"${before ?? 'none'}"`);
    expect(await registrations()).toBe(registered);
  }, 180_000);
});
