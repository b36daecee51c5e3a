/**
 * The plugin under the project's ValidatingAdmissionPolicy (config/admission/validating-policy.yaml)
 * and least RBAC: an on-call ServiceAccount revokes and lifts, and the policy accepts the
 * agentidentity.dev/requested-by and lifted-by annotations because the plugin sets them to the
 * real user (SelfSubjectReview). This file starts its own control plane: the policy is
 * cluster-wide and must not affect other test files.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyCrds, createServiceAccountKubeConfig, startControlPlane, type ControlPlane } from '../../../src/envtest/index.ts';
import { Cluster, runPlugin } from './harness.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const ns = 'incidents';
const oncallUser = `system:serviceaccount:${ns}:oncall`;
let cp: ControlPlane;
let cluster: Cluster;
let oncall: string;
let scratch: string;

const rbac = `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: agentid-oncall, namespace: ${ns}}
rules:
  - apiGroups: [agentidentity.dev]
    resources: [agentclients]
    verbs: [get, list, watch]
  - apiGroups: [agentidentity.dev]
    resources: [grantrevocations]
    verbs: [get, list, watch, create, patch, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: agentid-oncall, namespace: ${ns}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: agentid-oncall}
subjects: [{kind: ServiceAccount, name: oncall, namespace: ${ns}}]
`;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'cli-admission-'));
  cp = await startControlPlane();
  await applyCrds(cp.kubeConfig, path.join(root, 'crds'));
  cluster = new Cluster(cp.kubeConfig);
  await cluster.namespace(ns);
  await cp.kubectl(['apply', '-f', '-'], { input: rbac });
  await cp.kubectl(['apply', '-f', path.join(root, 'config/admission/validating-policy.yaml')]);
  oncall = (await createServiceAccountKubeConfig(cp.kubeConfig, ns, 'oncall', scratch)).kubeconfigPath;
  await cluster.createAgent(ns, 'coder');
  // The policy and the RBAC take effect asynchronously: wait until a forged requester is refused.
  for (let i = 0; ; i += 1) {
    const forged = JSON.stringify({
      apiVersion: 'agentidentity.dev/v1alpha1',
      kind: 'GrantRevocation',
      metadata: { name: `probe-${i}`, namespace: ns, annotations: { 'agentidentity.dev/requested-by': 'mallory' } },
      spec: { target: { agentClientName: 'coder' }, actions: ['RevokeGrants'], reason: 'probe' },
    });
    const res = await cp.kubectl(['create', '-f', '-', `--as=${oncallUser}`], { input: forged, allowFailure: true });
    if (res.code !== 0 && res.stderr.includes('requested-by')) break;
    if (res.code === 0) await cp.kubectl(['delete', 'grantrevocation', '-n', ns, `probe-${i}`]);
    if (i > 100) throw new Error(`admission policy never took effect: ${res.stderr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
});

afterAll(async () => {
  await cp?.stop();
  await rm(scratch, { recursive: true, force: true });
});

describe('under the requested-by admission policy, as an on-call ServiceAccount', () => {
  it('revoke stamps the real user, so the policy admits it', async () => {
    const result = await runPlugin(oncall, ['revoke', 'coder', '--reason', 'leak', '--suspend', '--name', 'coder-leak', '--no-wait']);
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    const created = await cluster.getRevocation(ns, 'coder-leak');
    const annotations = created?.metadata.annotations ?? {};
    expect(annotations['agentidentity.dev/requested-by']).toBe(oncallUser);
    expect(annotations['agentidentity.dev/requested-by-uid']).toMatch(/^[0-9a-f-]{36}$/);
    expect(annotations['agentidentity.dev/requested-by-groups']?.split(',')).toContain(`system:serviceaccounts:${ns}`);
  });

  it('lift records lifted-by as the real user, so the policy admits it, then deletes', async () => {
    const result = await runPlugin(oncall, ['lift', 'coder-leak', '--reason', 'contained']);
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    expect(await cluster.getRevocation(ns, 'coder-leak')).toBeUndefined();
  });

  it('exits 4 where RBAC does not reach (another namespace)', async () => {
    await cluster.namespace('elsewhere');
    await cluster.createAgent('elsewhere', 'coder');
    const result = await runPlugin(oncall, ['revoke', 'coder', '-n', 'elsewhere', '--reason', 'x']);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('forbidden');
  });
});
