/**
 * Proof that the chart's RBAC is enough, and no more than needed: the chart's objects are
 * installed for real on a control plane of this file's own (with the beta MutatingAdmissionPolicy
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
} from '../../support/stack.ts';
import type { Observed, Stack } from '../../support/stack.ts';
import { find, parseManifests, renderChart, runHelm } from './tools.ts';

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
  it('applies every rendered object, the mutating admission policy included (auto, API served)', async () => {
    const text = await renderChart('aio', NS, ['operator.clusterName=rbac-proof'], ['--api-versions', 'admissionregistration.k8s.io/v1beta1/MutatingAdmissionPolicy']);
    const manifests = parseManifests(text);
    serviceAccount = find(manifests, 'ServiceAccount').metadata.name;
    expect(manifests.map((m) => m.kind)).toContain('MutatingAdmissionPolicy');
    await stack.cp.kubectl(['create', 'namespace', NS]);
    await stack.apply(text);
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
    await stack.apply(`
apiVersion: v1
kind: Secret
metadata: {name: embedded-idp, namespace: ${NS}}
stringData: {token: ${JSON.stringify(stack.idp.initialAccessToken)}, admin: ${JSON.stringify(stack.idp.adminToken)}}
---
apiVersion: agentidentity.dev/v1alpha1
kind: IdentityProvider
metadata: {name: embedded}
spec:
  type: embedded
  issuer: ${stack.idp.issuer}
  registration: {initialAccessTokenSecretRef: {name: embedded-idp}}
  admin: {tokenSecretRef: {name: embedded-idp, key: admin}}
---
apiVersion: v1
kind: Namespace
metadata: {name: ${TENANT}, labels: {agentidentity.dev/tenant: a}}
---
apiVersion: agentidentity.dev/v1alpha1
kind: ConsentPolicy
metadata: {name: tenants}
spec:
  namespaceSelector: {matchLabels: {agentidentity.dev/tenant: a}}
  allowedScopes: [reports:read, reports:write]
---
apiVersion: agentidentity.dev/v1alpha1
kind: AgentClient
metadata: {name: reporting-agent, namespace: ${TENANT}}
spec:
  identityProviderRef: {name: embedded}
  clientName: Reporting agent
  grantTypes: [client_credentials]
  scopes: [reports:read]
  agentMetadata: {owner: team-analytics, agentType: reporting, capabilityVersion: 1.0.0}
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

  it('completes GrantRevocations: revoke grants, then suspend (IdP disable, Secret delete, finalizer)', async () => {
    await stack.apply(grantRevocation('revoke', ['RevokeGrants']));
    const revoked = await waitForRevocation(stack.admin, 'revoke', TENANT, 60_000);
    // The chart's MutatingAdmissionPolicy stamped who asked.
    expect(revoked.metadata.annotations?.['agentidentity.dev/requested-by']).toBeTruthy();
    await stack.apply(grantRevocation('suspend', ['Suspend']));
    const suspended = await waitForRevocation(stack.admin, 'suspend', TENANT, 60_000);
    // Suspend disables the client at the IdP and deletes the agent Secret (a Secret write), and
    // holds through a finalizer on the GrantRevocation (a patch).
    const results = (suspended.status?.['targets'] as { results: { action: string; outcome: string; message: string }[] }[])[0]?.results ?? [];
    expect(results).toEqual([expect.objectContaining({ action: 'Suspend', outcome: 'Succeeded' })]);
    expect(results[0]?.message).toContain('agent Secret reporting-agent-oauth deleted');
    const grev = await stack.admin.get<Observed & { metadata: { finalizers?: string[] } }>(GrantRevocations, 'suspend', TENANT);
    expect(grev?.metadata.finalizers).toContain('agentidentity.dev/suspension');
  });

  it('asks the AgentClient controller to rotate (RotateCredentials patches the rotate annotation)', async () => {
    await stack.apply(grantRevocation('rotate', ['RotateCredentials']));
    const grev = await eventually('rotate GrantRevocation seen', () => stack.admin.get<Observed>(GrantRevocations, 'rotate', TENANT));
    const agent = await eventually('rotate annotation', async () => {
      const a = await stack.admin.get<Observed>(AgentClients, 'reporting-agent', TENANT);
      return a?.metadata.annotations?.['agentidentity.dev/rotate']?.includes(grev.metadata.uid) ? a : undefined;
    });
    expect(agent.metadata.annotations?.['agentidentity.dev/rotate']).toContain(grev.metadata.uid);
  });

  it('was never refused by the API server (no 403 in the operator logs)', () => {
    expect(stack.logs.length).toBeGreaterThan(10);
    expect(forbiddenLines(stack.logs)).toEqual([]);
  });
});
