/**
 * The admission policies of config/admission/ against a real kube-apiserver 1.34. The shared
 * control plane runs without the beta MutatingAdmissionPolicy API, so this file starts its own
 * with `--runtime-config=admissionregistration.k8s.io/v1beta1=true` and the feature gate.
 * Users are impersonated (`kubectl --as`), so request.userInfo is what the policies see.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyCrds, startControlPlane } from '../../../src/envtest/index.ts';
import type { ControlPlane } from '../../../src/envtest/index.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const ns = 'incidents';
let cp: ControlPlane;

const rbac = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: grev-editor}
rules:
  - apiGroups: [agentidentity.dev]
    resources: [grantrevocations]
    verbs: [get, list, create, update, patch, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: grev-editors, namespace: ${ns}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: grev-editor}
subjects:
  - {apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}
  - {apiGroup: rbac.authorization.k8s.io, kind: User, name: bob}
`;

function grev(name: string, annotations: Record<string, string> = {}, actions = ['RevokeGrants'], namespace = ns): string {
  return JSON.stringify({
    apiVersion: 'agentidentity.dev/v1alpha1',
    kind: 'GrantRevocation',
    metadata: { name, namespace, annotations },
    spec: { target: { agentClientName: 'coding-agent' }, actions, reason: 'admission test' },
  });
}

const as = (user: string) => [`--as=${user}`, '--as-group=oncall', `--as-uid=uid-${user}`];

async function annotations(name: string): Promise<Record<string, string>> {
  const out = await cp.kubectl(['get', 'grantrevocation', name, '-n', ns, '-o', 'json']);
  return (JSON.parse(out.stdout) as { metadata: { annotations?: Record<string, string> } }).metadata.annotations ?? {};
}

async function waitForPolicy(probe: () => Promise<boolean>): Promise<void> {
  // Policies are loaded asynchronously by the API server after they are created.
  for (let i = 0; i < 100; i += 1) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('admission policy never took effect');
}

beforeAll(async () => {
  cp = await startControlPlane({
    apiserverArgs: ['--runtime-config=admissionregistration.k8s.io/v1beta1=true', '--feature-gates=MutatingAdmissionPolicy=true'],
  });
  await applyCrds(cp.kubeConfig, path.join(root, 'crds'));
  await cp.kubectl(['create', 'namespace', ns]);
  await cp.kubectl(['apply', '-f', '-'], { input: rbac });
});

afterAll(async () => {
  await cp?.stop();
});

describe('ValidatingAdmissionPolicy alone (clusters without the beta mutating API)', () => {
  beforeAll(async () => {
    await cp.kubectl(['apply', '-f', path.join(root, 'config/admission/validating-policy.yaml')]);
    let n = 0;
    await waitForPolicy(async () => {
      n += 1;
      const res = await cp.kubectl(['create', '-f', '-', ...as('alice')], { input: grev(`probe-${n}`, { 'agentidentity.dev/requested-by': 'mallory' }), allowFailure: true });
      return res.code !== 0 && res.stderr.includes('requested-by');
    });
  });

  it('rejects a forged requester on create', async () => {
    const res = await cp.kubectl(['create', '-f', '-', ...as('alice')], { input: grev('forged', { 'agentidentity.dev/requested-by': 'bob' }), allowFailure: true });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('must be absent or your own user name (alice)');
  });

  it('accepts one\'s own name, or none (status then says unknown)', async () => {
    await cp.kubectl(['create', '-f', '-', ...as('alice')], { input: grev('own', { 'agentidentity.dev/requested-by': 'alice' }) });
    await cp.kubectl(['create', '-f', '-', ...as('alice')], { input: grev('unstamped') });
    expect((await annotations('own'))['agentidentity.dev/requested-by']).toBe('alice');
    expect((await annotations('unstamped'))['agentidentity.dev/requested-by']).toBeUndefined();
  });

  it('keeps the stamp immutable and lets users record only themselves as lifter', async () => {
    const change = await cp.kubectl(['annotate', '--overwrite', 'grantrevocation', 'own', '-n', ns, 'agentidentity.dev/requested-by=bob', ...as('bob')], { allowFailure: true });
    expect(change.code).not.toBe(0);
    expect(change.stderr).toContain('immutable');
    const add = await cp.kubectl(['annotate', 'grantrevocation', 'unstamped', '-n', ns, 'agentidentity.dev/requested-by=bob', ...as('bob')], { allowFailure: true });
    expect(add.code).not.toBe(0);
    const forgedLift = await cp.kubectl(['annotate', 'grantrevocation', 'own', '-n', ns, 'agentidentity.dev/lifted-by=alice', ...as('bob')], { allowFailure: true });
    expect(forgedLift.stderr).toContain('lifted-by may only be set to your own user name (bob)');
    await cp.kubectl(['annotate', 'grantrevocation', 'own', '-n', ns, 'agentidentity.dev/lifted-by=bob', ...as('bob')]);
    expect((await annotations('own'))['agentidentity.dev/lifted-by']).toBe('bob');
  });

  it('lets a Suspend be lifted (deleted) only by the user named in lifted-by', async () => {
    await cp.kubectl(['create', '-f', '-', ...as('alice')], { input: grev('suspend', {}, ['Suspend', 'RevokeGrants']) });
    const unnamed = await cp.kubectl(['delete', 'grantrevocation', 'suspend', '-n', ns, ...as('alice')], { allowFailure: true });
    expect(unnamed.code).not.toBe(0);
    expect(unnamed.stderr).toContain('use kubectl agentid lift, or first set the annotation agentidentity.dev/lifted-by to your own user name (alice)');
    await cp.kubectl(['annotate', 'grantrevocation', 'suspend', '-n', ns, 'agentidentity.dev/lifted-by=alice', ...as('alice')]);
    // Someone else cannot delete under alice's name.
    const other = await cp.kubectl(['delete', 'grantrevocation', 'suspend', '-n', ns, ...as('bob')], { allowFailure: true });
    expect(other.code).not.toBe(0);
    expect(other.stderr).toContain('(bob)');
    await cp.kubectl(['delete', 'grantrevocation', 'suspend', '-n', ns, ...as('alice')]);
    // Without Suspend, deleting lifts nothing: no annotation needed.
    await cp.kubectl(['delete', 'grantrevocation', 'unstamped', '-n', ns, ...as('alice')]);
    const left = await cp.kubectl(['get', 'grantrevocations', '-n', ns, '-o', 'name']);
    expect(left.stdout).not.toMatch(/\/(suspend|unstamped)$/m);
  });

  it('never blocks the deletion of a terminating namespace', async () => {
    const closing = 'closing';
    await cp.kubectl(['create', 'namespace', closing]);
    await cp.kubectl(['create', '-f', '-'], { input: grev('held', {}, ['Suspend'], closing) });
    const before = await cp.kubectl(['delete', 'grantrevocation', 'held', '-n', closing], { allowFailure: true });
    expect(before.stderr).toContain('lifted-by');
    // This control plane runs no namespace controller, so the namespace stays Terminating and
    // the deletion it would make is made here (by a user the policy does not exempt by name).
    await cp.kubectl(['delete', 'namespace', closing, '--wait=false']);
    await cp.kubectl(['delete', 'grantrevocation', 'held', '-n', closing]);
  });
});

describe('with the MutatingAdmissionPolicy (beta in 1.34)', () => {
  beforeAll(async () => {
    await cp.kubectl(['apply', '-f', path.join(root, 'config/admission/mutating-policy.yaml')]);
    let n = 0;
    await waitForPolicy(async () => {
      n += 1;
      const name = `mprobe-${n}`;
      await cp.kubectl(['create', '-f', '-', ...as('alice')], { input: grev(name) });
      return (await annotations(name))['agentidentity.dev/requested-by'] === 'alice';
    });
  });

  it('stamps the requesting user, uid and groups on create', async () => {
    await cp.kubectl(['create', '-f', '-', ...as('bob')], { input: grev('stamped') });
    const a = await annotations('stamped');
    expect(a['agentidentity.dev/requested-by']).toBe('bob');
    expect(a['agentidentity.dev/requested-by-uid']).toBe('uid-bob');
    expect(a['agentidentity.dev/requested-by-groups']?.split(',')).toContain('oncall');
  });

  it('overwrites a forged stamp on create instead of trusting it', async () => {
    await cp.kubectl(['create', '-f', '-', ...as('bob')], { input: grev('overwritten', { 'agentidentity.dev/requested-by': 'alice' }) });
    expect((await annotations('overwritten'))['agentidentity.dev/requested-by']).toBe('bob');
  });

  it('keeps the stamp through a forged update and a server-side re-apply that omits it', async () => {
    await cp.kubectl(['annotate', '--overwrite', 'grantrevocation', 'stamped', '-n', ns, 'agentidentity.dev/requested-by=alice', ...as('alice')], { allowFailure: true });
    expect((await annotations('stamped'))['agentidentity.dev/requested-by']).toBe('bob');
    await cp.kubectl(['apply', '--server-side', '--field-manager=gitops', '-f', '-', ...as('bob')], { input: grev('applied') });
    await cp.kubectl(['apply', '--server-side', '--field-manager=gitops', '-f', '-', ...as('bob')], { input: grev('applied') });
    expect((await annotations('applied'))['agentidentity.dev/requested-by']).toBe('bob');
    await cp.kubectl(['apply', '--server-side', '--field-manager=gitops', '-f', '-', ...as('alice')], { input: grev('applied') });
    expect((await annotations('applied'))['agentidentity.dev/requested-by']).toBe('bob');
  });
});
