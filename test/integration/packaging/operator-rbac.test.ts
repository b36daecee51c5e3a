/**
 * Proof that the chart's RBAC is enough, and no more than needed: the chart is installed by
 * `helm install` on a control plane of this file's own (with the beta MutatingAdmissionPolicy
 * API on, so `admissionPolicies.mutating: auto` installs it), a token is minted for the chart's
 * ServiceAccount by the TokenRequest API, and the whole operator (every registered controller,
 * unscoped, leader election on) runs in-process under that identity against a real embedded IdP.
 * An IdentityProvider and an AgentClient become Ready with the agent's Secret, GrantRevocations
 * complete, and the API server never answers the operator with a 403.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningOperator } from '../../../src/operator.ts';
import { Leases, Secrets } from '../../../src/runtime/kube/types.ts';
import type { KubeObject, SecretObject } from '../../../src/runtime/kube/types.ts';
import {
  AgentClients, GrantRevocations, IdentityProviders, eventually, forbiddenLines, startStack, waitForCondition, waitForRevocation,
  embeddedIdentityProviderYaml,
} from '../../support/stack.ts';
import type { Observed, Stack } from '../../support/stack.ts';
import { CHART, find, parseManifests, runHelm } from './tools.ts';

const NS = 'agent-identity-system';
const TENANT = 'tenant-a';
const MAP_ON = ['--runtime-config=admissionregistration.k8s.io/v1beta1=true', '--feature-gates=MutatingAdmissionPolicy=true'];
let stack: Stack;
let operator: RunningOperator;
let serviceAccount: string;

beforeAll(async () => {
  await runHelm(['version']);
  stack = await startStack({ apiserverArgs: MAP_ON });
}, 600_000);

afterAll(async () => {
  await stack?.stop();
});

const canI = async (verb: string, resource: string, namespace?: string): Promise<boolean> => {
  const args = ['auth', 'can-i', verb, resource, `--as=system:serviceaccount:${NS}:${serviceAccount}`, ...(namespace ? ['-n', namespace] : [])];
  const result = await stack.cp.kubectl(args, { allowFailure: true });
  return result.stdout.trim() === 'yes';
};

describe('the chart installed on a real API server', () => {
  it('installs with helm install: the mutating policy too, since this cluster serves its API (auto)', async () => {
    const install = await runHelm([
      'install', 'aio', CHART, '--kubeconfig', stack.cp.kubeconfigPath, '--namespace', NS, '--create-namespace',
      '--skip-crds', '--set', 'operator.clusterName=rbac-proof',
    ]);
    expect(install.stderr).toBe('');
    expect(install.code).toBe(0);
    expect(install.stdout).toContain('STATUS: deployed');
    expect(install.stdout).toContain('mutating (requester stamp) installed');
    const manifest = await runHelm(['get', 'manifest', 'aio', '--kubeconfig', stack.cp.kubeconfigPath, '--namespace', NS]);
    const manifests = parseManifests(manifest.stdout);
    serviceAccount = find(manifests, 'ServiceAccount').metadata.name;
    expect(manifests.map((m) => m.kind)).toEqual(expect.arrayContaining(['MutatingAdmissionPolicy', 'ValidatingAdmissionPolicy', 'ClusterRole', 'Role']));
    // The MutatingAdmissionPolicy needs the GrantRevocation schema the API server publishes a
    // moment after the CRD: until then it answers 503 ("Resource kind ... not found").
    await eventually('GrantRevocations admissible', async () => {
      const probe = await stack.cp.kubectl(['create', '--dry-run=server', '-n', NS, '-f', '-'], { input: grantRevocation('probe', ['RevokeGrants']).replace(`namespace: ${TENANT}`, `namespace: ${NS}`), allowFailure: true });
      return probe.code === 0;
    }, 60_000);
    const got = await stack.cp.kubectl(['get', 'serviceaccount,role,rolebinding,deployment,service', '-n', NS, '-o', 'name']);
    expect(got.stdout).toContain(`serviceaccount/${serviceAccount}`);
    expect(got.stdout).toContain('deployment.apps/aio-agent-identity-operator');
  });

  it('grants the ServiceAccount what the operator does and refuses the rest', async () => {
    for (const [verb, resource, ns] of [
      ['watch', 'agentclients.agentidentity.dev', TENANT], ['patch', 'agentclients.agentidentity.dev/status', TENANT],
      ['create', 'grantrevocations.agentidentity.dev', TENANT], ['create', 'secrets', TENANT], ['delete', 'secrets', NS],
      ['create', 'leases.coordination.k8s.io', NS], ['update', 'leases.coordination.k8s.io/agent-identity-operator-leader', NS],
      ['list', 'namespaces', undefined], ['create', 'events', TENANT],
    ] as const) expect(await canI(verb, resource, ns), `can ${verb} ${resource}`).toBe(true);
    for (const [verb, resource, ns] of [
      // Never writes a spec, never deletes what users own.
      ['update', 'agentclients.agentidentity.dev', TENANT], ['delete', 'agentclients.agentidentity.dev', TENANT],
      ['patch', 'identityproviders.agentidentity.dev', undefined], ['patch', 'consentpolicies.agentidentity.dev', undefined],
      ['delete', 'grantrevocations.agentidentity.dev', TENANT], ['patch', 'secrets', TENANT],
      // Leases: only its own, only in its namespace.
      ['create', 'leases.coordination.k8s.io', TENANT], ['update', 'leases.coordination.k8s.io/someone-else', NS],
      ['create', 'namespaces', undefined], ['list', 'pods', NS], ['create', 'clusterrolebindings', undefined],
    ] as const) expect(await canI(verb, resource, ns), `cannot ${verb} ${resource}`).toBe(false);
  });
});

function consentPolicy(allowedScopes: string[]): string {
  return JSON.stringify({
    apiVersion: 'agentidentity.dev/v1alpha1', kind: 'ConsentPolicy', metadata: { name: 'tenants' },
    spec: { namespaceSelector: { matchLabels: { 'agentidentity.dev/tenant': 'a' } }, allowedScopes },
  });
}

function agentClient(name: string, scopes: string[]): string {
  return JSON.stringify({
    apiVersion: 'agentidentity.dev/v1alpha1', kind: 'AgentClient', metadata: { name, namespace: TENANT },
    spec: {
      identityProviderRef: { name: 'embedded' }, clientName: name, grantTypes: ['client_credentials'], scopes,
      agentMetadata: { owner: 'team-analytics', agentType: 'reporting', capabilityVersion: '1.0.0' },
    },
  });
}

function grantRevocation(name: string, actions: string[]): string {
  return `
apiVersion: agentidentity.dev/v1alpha1
kind: GrantRevocation
metadata: {name: ${name}, namespace: ${TENANT}}
spec:
  target: {agentClientName: reporting-agent}
  actions: [${actions.join(', ')}]
  reason: RBAC proof
`;
}

describe('the operator running as the chart’s ServiceAccount', () => {
  beforeAll(async () => {
    const sa = await stack.cp.createServiceAccountKubeConfig(NS, serviceAccount);
    operator = await stack.startOperator(sa.kubeConfig, NS, { leaderElect: true, clusterName: 'rbac-proof', retryPeriodMs: 500 });
    await stack.apply(`${embeddedIdentityProviderYaml(stack.idp, NS)}
---
apiVersion: v1
kind: Namespace
metadata: {name: ${TENANT}, labels: {agentidentity.dev/tenant: a}}
---
${consentPolicy(['reports:read', 'reports:write'])}
---
${agentClient('reporting-agent', ['reports:read'])}
`);
  }, 120_000);

  it('takes the leader-election Lease and reports ready', async () => {
    const lease = await eventually('Lease held', async () => {
      const l = await stack.admin.get<KubeObject & { spec?: { holderIdentity?: string } }>(Leases, 'agent-identity-operator-leader', NS);
      return l?.spec?.holderIdentity ? l : undefined;
    });
    expect(lease.spec?.holderIdentity).toBeTruthy();
    const ready = await fetch(`${operator.healthUrl}/readyz`);
    expect(ready.status).toBe(200);
  });

  it('makes the IdentityProvider and the AgentClient Ready, with the agent Secret', async () => {
    await waitForCondition(stack.admin, IdentityProviders, 'embedded', undefined);
    const agent = await waitForCondition(stack.admin, AgentClients, 'reporting-agent', TENANT, 'Ready', 60_000);
    expect(agent.status?.clientId).toBeTruthy();
    const secret = await stack.admin.get<SecretObject>(Secrets, 'reporting-agent-oauth', TENANT);
    expect(Buffer.from(secret?.data?.['client_id'] ?? '', 'base64').toString()).toBe(agent.status?.clientId);
    // The registration access token stays in the operator namespace, in a record of its own.
    const record = await stack.admin.get<SecretObject>(Secrets, `agc-${agent.metadata.uid}`, NS);
    expect(record).not.toBeNull();
  });

  it('completes GrantRevocations: revoke grants, then rotate credentials (patch of the AgentClient)', async () => {
    await stack.apply(grantRevocation('revoke', ['RevokeGrants']));
    const revoked = await waitForRevocation(stack.admin, 'revoke', TENANT, 60_000);
    // The chart's MutatingAdmissionPolicy stamped who asked.
    expect(revoked.metadata.annotations?.['agentidentity.dev/requested-by']).toBeTruthy();
    const before = await stack.admin.get<Observed>(AgentClients, 'reporting-agent', TENANT);
    await stack.apply(grantRevocation('rotate', ['RotateCredentials']));
    const rotate = await waitForRevocation(stack.admin, 'rotate', TENANT, 60_000);
    const after = await stack.admin.get<Observed>(AgentClients, 'reporting-agent', TENANT);
    const credentials = (a: Observed | null) => a?.status?.['credentials'] as { keyId?: string; lastRotationRequest?: string } | undefined;
    expect(credentials(after)?.keyId).not.toBe(credentials(before)?.keyId);
    expect(credentials(after)?.lastRotationRequest).toContain(rotate.metadata.uid);
  });

  it('records a narrowing ConsentPolicy as a GrantRevocation it creates (admitted as itself)', async () => {
    await stack.apply(agentClient('narrowed-agent', ['reports:read', 'reports:write']));
    await waitForCondition(stack.admin, AgentClients, 'narrowed-agent', TENANT, 'Ready', 60_000);
    await stack.apply(consentPolicy(['reports:read']));
    const created = await eventually('GrantRevocation created by the operator', async () => {
      const list = await stack.admin.list<Observed>(GrantRevocations, { namespace: TENANT, labelSelector: 'agentidentity.dev/agentclient=narrowed-agent' });
      return list.items[0];
    }, 60_000);
    // The validating policy only admits a requested-by naming the requester: the operator itself.
    expect(created.metadata.annotations?.['agentidentity.dev/requested-by']).toBe(`system:serviceaccount:${NS}:${serviceAccount}`);
    await waitForRevocation(stack.admin, created.metadata.name, TENANT, 60_000);
    const agent = await waitForCondition(stack.admin, AgentClients, 'narrowed-agent', TENANT, 'Ready', 60_000);
    expect(agent.status?.grantedScopes).toEqual(['reports:read']);
  });

  it('suspends: the client is disabled at the IdP, the Secret deleted, the hold kept by a finalizer', async () => {
    await stack.apply(grantRevocation('suspend', ['Suspend']));
    const suspended = await waitForRevocation(stack.admin, 'suspend', TENANT, 60_000);
    const results = (suspended.status?.['targets'] as { results: { action: string; outcome: string }[] }[])[0]?.results ?? [];
    expect(results).toEqual([expect.objectContaining({ action: 'Suspend', outcome: 'Succeeded' })]);
    await waitForCondition(stack.admin, AgentClients, 'reporting-agent', TENANT, 'Suspended', 60_000);
    const grev = await stack.admin.get<Observed & { metadata: { finalizers?: string[] } }>(GrantRevocations, 'suspend', TENANT);
    expect(grev?.metadata.finalizers).toContain('agentidentity.dev/suspension');
    expect(await stack.admin.get(Secrets, 'reporting-agent-oauth', TENANT)).toBeNull();
  });

  it('was never refused by the API server (no 403 in the operator logs)', () => {
    expect(stack.logs.length).toBeGreaterThan(10);
    expect(forbiddenLines(stack.logs)).toEqual([]);
  });
});
