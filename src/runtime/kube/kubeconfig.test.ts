import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { inClusterConfig, KubeconfigError, loadKubeconfig, loadKubeconfigFiles, parseKubeconfig } from './kubeconfig.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'kubeconfig-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const b64 = (s: string) => Buffer.from(s).toString('base64');
/** TLS material as text (a Buffer here; the option type also allows key objects). */
const text = (value: unknown) => (Buffer.isBuffer(value) ? value.toString() : value);

function config(user: Record<string, unknown>, cluster: Record<string, unknown> = { server: 'https://api.example:6443' }, extra: object = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c1', cluster }],
    users: [{ name: 'u1', user }],
    contexts: [{ name: 'ctx', context: { cluster: 'c1', user: 'u1' } }],
    'current-context': 'ctx',
    ...extra,
  };
}

async function write(name: string, doc: unknown, yaml = true): Promise<string> {
  const file = path.join(dir, name);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, yaml ? stringify(doc) : JSON.stringify(doc));
  return file;
}

describe('kubeconfig files', () => {
  it('reads server, inline CA, token and insecure-skip-tls-verify (YAML)', async () => {
    const file = await write('a.yaml', config({ token: 'tok-1' }, { server: 'https://api.example:6443', 'certificate-authority-data': b64('CA PEM'), 'tls-server-name': 'kubernetes' }));
    const conn = await (await loadKubeconfigFiles([file])).resolve();
    expect(conn.server.href).toBe('https://api.example:6443/');
    expect(text(conn.tls.ca)).toBe('CA PEM');
    expect(conn.tls.servername).toBe('kubernetes');
    expect(conn.tls.rejectUnauthorized).toBeUndefined();
    expect(conn.headers).toEqual({ Authorization: 'Bearer tok-1' });

    const insecure = await write('b.json', config({}, { server: 'https://x', 'insecure-skip-tls-verify': true }), false);
    const conn2 = await (await loadKubeconfigFiles([insecure])).resolve();
    expect(conn2.tls.rejectUnauthorized).toBe(false);
    expect(conn2.headers).toEqual({});
  });

  it('reads CA, client certificate and key from files relative to the kubeconfig', async () => {
    await mkdir(path.join(dir, 'sub', 'pki'), { recursive: true });
    await writeFile(path.join(dir, 'sub', 'pki', 'ca.crt'), 'CA FILE');
    await writeFile(path.join(dir, 'sub', 'pki', 'client.crt'), 'CERT FILE');
    await writeFile(path.join(dir, 'sub', 'pki', 'client.key'), 'KEY FILE');
    const file = await write('sub/config', config({ 'client-certificate': 'pki/client.crt', 'client-key': 'pki/client.key' }, { server: 'https://x', 'certificate-authority': 'pki/ca.crt' }));
    const conn = await (await loadKubeconfigFiles([file])).resolve();
    expect([text(conn.tls.ca), text(conn.tls.cert), text(conn.tls.key)]).toEqual(['CA FILE', 'CERT FILE', 'KEY FILE']);
  });

  it('prefers -data over the file path, as client-go does', async () => {
    const file = await write('c', config({ 'client-certificate-data': b64('CERT'), 'client-certificate': '/nope', 'client-key-data': b64('KEY') }));
    const conn = await (await loadKubeconfigFiles([file])).resolve();
    expect([text(conn.tls.cert), text(conn.tls.key)]).toEqual(['CERT', 'KEY']);
  });

  it('re-reads tokenFile on every resolve (rotation)', async () => {
    await writeFile(path.join(dir, 'token'), 'first\n');
    const source = await loadKubeconfigFiles([await write('c', config({ tokenFile: 'token' }))]);
    expect((await source.resolve()).headers['Authorization']).toBe('Bearer first');
    await writeFile(path.join(dir, 'token'), 'second');
    expect((await source.resolve()).headers['Authorization']).toBe('Bearer second');
  });

  it('sends basic auth for username/password', async () => {
    const source = await loadKubeconfigFiles([await write('c', config({ username: 'ada', password: 'pw' }))]);
    expect((await source.resolve()).headers['Authorization']).toBe(`Basic ${b64('ada:pw')}`);
  });

  it('merges several files: current-context and each name from the first file that has it', async () => {
    const first = await write('1', { users: [{ name: 'u1', user: { token: 'from-first' } }], 'current-context': 'ctx' });
    const second = await write('2', config({ token: 'from-second' }, { server: 'https://second' }, { 'current-context': 'other' }));
    const conn = await (await loadKubeconfigFiles([first, second])).resolve();
    expect(conn.server.host).toBe('second');
    expect(conn.headers['Authorization']).toBe('Bearer from-first');
  });

  it('refuses exec and auth-provider plugins with a clear message', async () => {
    const exec = await write('e', config({ exec: { command: 'aws', apiVersion: 'client.authentication.k8s.io/v1' } }));
    await expect(loadKubeconfigFiles([exec])).rejects.toThrow(/exec plugin, which this operator does not support/);
    const ap = await write('p', config({ 'auth-provider': { name: 'oidc' } }));
    await expect(loadKubeconfigFiles([ap])).rejects.toThrow(KubeconfigError);
  });

  it('reports what is missing or malformed', async () => {
    await expect(loadKubeconfigFiles([path.join(dir, 'missing')])).rejects.toThrow(/cannot read kubeconfig/);
    await expect(loadKubeconfigFiles([await write('n', config({}, {}, { 'current-context': '' }))])).rejects.toThrow(/no current-context/);
    await expect(loadKubeconfigFiles([await write('x', config({}, {}, { 'current-context': 'zzz' }))])).rejects.toThrow(/context "zzz" not found/);
    await expect(loadKubeconfigFiles([await write('s', config({}, {}))])).rejects.toThrow(/cluster has no server/);
    await expect(loadKubeconfigFiles([await write('k', config({ 'client-certificate-data': b64('C') }))])).rejects.toThrow(/both client-certificate and client-key/);
    await expect(loadKubeconfigFiles([await write('f', config({}, { server: 'https://x', 'certificate-authority': 'nope.crt' }))])).rejects.toThrow(/cannot read certificate-authority/);
    await expect(loadKubeconfigFiles([await write('y', config({}, { server: 'https://x', 'proxy-url': 'http://p' }))])).rejects.toThrow(/proxy-url/);
    await expect(parseKubeconfig('- a list')).rejects.toThrow(/not a mapping/);
  });

  it('never puts a token in an error message', async () => {
    const file = await write('t', config({ token: 'sekret-token', exec: { command: 'x' } }));
    const error = await loadKubeconfigFiles([file]).then(() => new Error('loaded'), (e: unknown) => e as Error);
    expect(error).toBeInstanceOf(KubeconfigError);
    expect(error.message).not.toContain('sekret-token');
  });
});

describe('in-cluster config', () => {
  it('builds the server from the service env (IPv6 bracketed) and re-reads the rotated token', async () => {
    await writeFile(path.join(dir, 'ca.crt'), 'CLUSTER CA');
    await writeFile(path.join(dir, 'token'), 'sa-token-1');
    const source = inClusterConfig({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, dir);
    const first = await source.resolve();
    expect(first.server.href).toBe('https://[fd00::1]/');
    expect(text(first.tls.ca)).toBe('CLUSTER CA');
    expect(first.headers['Authorization']).toBe('Bearer sa-token-1');
    await writeFile(path.join(dir, 'token'), 'sa-token-2');
    expect((await source.resolve()).headers['Authorization']).toBe('Bearer sa-token-2');
  });

  it('fails clearly outside a cluster or without the CA', () => {
    expect(() => inClusterConfig({}, dir)).toThrow(/not in a cluster/);
    expect(() => inClusterConfig({ KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' }, dir)).toThrow(/cannot read ca.crt/);
  });
});

describe('default resolution order', () => {
  it('explicit file, then $KUBECONFIG, then in-cluster, then ~/.kube/config', async () => {
    await writeFile(path.join(dir, 'ca.crt'), 'CA');
    await writeFile(path.join(dir, 'token'), 'sa');
    const home = path.join(dir, 'home');
    await write('home/.kube/config', config({ token: 'home' }));
    const envFile = await write('env', config({ token: 'env' }));
    const inCluster = { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' };
    const token = async (o: Parameters<typeof loadKubeconfig>[0]) => (await (await loadKubeconfig(o)).resolve()).headers['Authorization'];
    expect(await token({ file: envFile, env: { ...inCluster }, home })).toBe('Bearer env');
    expect(await token({ env: { KUBECONFIG: `${path.join(dir, 'absent')}${path.delimiter}${envFile}`, ...inCluster }, home })).toBe('Bearer env');
    expect(await token({ env: inCluster, serviceAccountDir: dir, home })).toBe('Bearer sa');
    expect(await token({ env: {}, home })).toBe('Bearer home');
    await expect(loadKubeconfig({ env: {}, home: path.join(dir, 'nobody') })).rejects.toThrow(/no kubeconfig/);
  });
});
