/**
 * GrantRevocation with the whole operator running in-process (IdentityProvider, AgentClient and
 * GrantRevocation controllers) against the shared control plane and a real embedded IdP: a
 * suspension holds through a GitOps-like re-apply of the AgentClient and lifting restores it; an
 * immediate rotation makes the old key useless at once; a deleted registration is not recreated
 * while its GrantRevocation exists.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityProviderController } from '../../../src/controllers/identityprovider/controller.ts';
import { createAgentClientController } from '../../../src/controllers/agentclient/controller.ts';
import { grantRevocationControllerFactory } from '../../../src/controllers/grantrevocation/factory.ts';
import { AgentClients, GrantRevocations } from '../../../src/controllers/grantrevocation/types.ts';
import { settled } from './settle.ts';
import type { GrantRevocation, GrantRevocationSpec } from '../../../src/controllers/grantrevocation/types.ts';
import { startOperator } from '../../../src/operator.ts';
import type { RunningOperator } from '../../../src/operator.ts';
import type { KubeObject } from '../../../src/runtime/kube/types.ts';
import { agentAuth, condition, createEnv, eventually, RUN_LABEL, waitReady } from '../agentclient/harness.ts';
import type { Env } from '../agentclient/harness.ts';
import { clientCredentials, oauthErrorOf } from '../idp/flows.ts';

let env: Env;
let operator: RunningOperator;

async function canAuthenticate(secret: Parameters<typeof agentAuth>[0]): Promise<boolean> {
  const { issuer, clientId, auth } = await agentAuth(secret);
  const error = await oauthErrorOf(clientCredentials(issuer, clientId, auth, 'invoices:read'));
  if (error === '') return true;
  if (error === 'invalid_client') return false;
  throw new Error(`unexpected OAuth error ${error}`);
}

async function apply(name: string, spec: Partial<GrantRevocationSpec>): Promise<void> {
  await env.client.create(GrantRevocations, {
    apiVersion: 'agentidentity.dev/v1alpha1', kind: 'GrantRevocation',
    metadata: { name, namespace: env.namespace, annotations: { 'agentidentity.dev/requested-by': 'oncall@example.com' } },
    spec: { target: { agentClientName: 'x' }, actions: ['RevokeGrants'], reason: 'operator test', ...spec },
  } as KubeObject);
}

const getGrev = async (name: string) => (await env.client.get(GrantRevocations, name, env.namespace)) as unknown as GrantRevocation | null;
const completed = (name: string) => eventually(async () => ((await getGrev(name))?.status?.phase === 'Completed' ? getGrev(name) : undefined), 30_000, `${name} Completed`);

beforeAll(async () => {
  env = await createEnv('grevop');
  operator = await startOperator({
    namespace: env.operatorNamespace,
    kubeconfigPath: env.kubeconfigPath,
    identityProviderSelector: `agentidentity.dev/test-run=${env.runId}`,
    metricsBindAddress: '',
    healthProbeBindAddress: '',
    shutdownDeadlineMs: 500,
    controllers: [
      identityProviderController,
      (deps) => createAgentClientController({
        client: deps.client, informers: deps.informers, providers: deps.providers, recorder: deps.recorder,
        log: deps.log, clock: deps.clock, operatorNamespace: env.operatorNamespace, clusterName: 'itest', selector: `${RUN_LABEL}=${env.runId}`,
        // About revocation, not ConsentPolicy: the requested scopes are the ceiling.
        allowNoPolicy: true,
      }),
      // The production factory, scoped to this file's namespace so parallel files do not meet.
      grantRevocationControllerFactory({ namespace: env.namespace }),
    ],
  });
});

afterAll(async () => {
  await operator?.stop();
  const list = await env.client.list<KubeObject>(GrantRevocations, { namespace: env.namespace }).catch(() => ({ items: [] as KubeObject[] }));
  for (const g of list.items) {
    await env.client.patch(GrantRevocations, g.metadata!.name!, env.namespace, 'merge', { metadata: { finalizers: null } }).catch(() => undefined);
  }
  await env?.teardown();
});

describe('Suspend', () => {
  it('holds through a GitOps-like re-apply of the AgentClient, and lifting restores the agent', async () => {
    await env.createAgent('coding-agent');
    await waitReady(env, 'coding-agent');
    const secret = await env.secret('coding-agent-oauth');
    expect(await canAuthenticate(secret)).toBe(true);

    await apply('suspend-coding', { target: { agentClientName: 'coding-agent' }, actions: ['Suspend'], reason: 'suspicious calls' });
    await completed('suspend-coding');
    const suspended = await eventually(async () => {
      const agent = await env.getAgent('coding-agent');
      return condition(agent, 'Suspended')?.status === 'True' ? agent : undefined;
    }, 20_000, 'Suspended=True');
    expect(suspended.status?.suspendedBy).toEqual([`${env.namespace}/suspend-coding`]);
    expect(await env.secret('coding-agent-oauth')).toBeNull();
    // The agent kept a copy of its Secret: the IdP refuses it while suspended.
    expect(await canAuthenticate(secret)).toBe(false);

    // GitOps re-sync: the spec is re-applied with a change, and the labels reset.
    await env.patchAgent('coding-agent', { spec: { agentMetadata: { owner: 'team-a@example.test', description: 're-synced by GitOps' } } });
    const resynced = await eventually(async () => {
      const a = await env.getAgent('coding-agent');
      return a?.status?.observedGeneration === 2 ? a : undefined;
    }, 20_000, 'generation 2 observed');
    await settled(operator.manager, AgentClients, env.namespace, 'coding-agent', resynced.metadata.resourceVersion!);
    expect(await env.secret('coding-agent-oauth')).toBeNull();
    expect(await canAuthenticate(secret)).toBe(false);
    expect(condition(await env.getAgent('coding-agent'), 'Suspended')?.status).toBe('True');

    await env.client.delete(GrantRevocations, 'suspend-coding', env.namespace);
    const restored = await eventually(() => env.secret('coding-agent-oauth'), 20_000, 'Secret recreated');
    expect(await canAuthenticate(restored)).toBe(true);
    await eventually(async () => condition(await env.getAgent('coding-agent'), 'Suspended')?.status === 'False', 20_000, 'Suspended=False');
  });
});

describe('RotateCredentials', () => {
  it('rotates at once: the old key is refused as soon as the revocation is Completed', async () => {
    await env.createAgent('rotating-agent');
    await waitReady(env, 'rotating-agent');
    const before = await env.secret('rotating-agent-oauth');
    expect(await canAuthenticate(before)).toBe(true);

    await apply('rotate-now', { target: { agentClientName: 'rotating-agent' }, actions: ['RotateCredentials'], reason: 'key leaked' });
    const g = await completed('rotate-now');
    expect(g?.status?.targets?.[0]?.results?.[0]).toMatchObject({ action: 'RotateCredentials', outcome: 'Succeeded' });
    expect(await canAuthenticate(before)).toBe(false);
    const after = await eventually(async () => {
      const s = await env.secret('rotating-agent-oauth');
      return s?.data?.['key_id'] !== before?.data?.['key_id'] ? s : undefined;
    }, 20_000, 'new key in the Secret');
    expect(await canAuthenticate(after)).toBe(true);
  });
});

describe('DeleteRegistration', () => {
  it('deletes the registration and keeps it deleted while the GrantRevocation exists', async () => {
    const agent = await env.createAgent('doomed-agent');
    await waitReady(env, 'doomed-agent');
    expect(env.idpClientsOf(agent.metadata.uid)).toHaveLength(1);

    await apply('delete-doomed', { target: { agentClientName: 'doomed-agent' }, actions: ['DeleteRegistration'], reason: 'decommissioned' });
    await completed('delete-doomed');
    const held = await eventually(async () => {
      const a = await env.getAgent('doomed-agent');
      return condition(a, 'Registered')?.reason === 'DeletedByRevocation' ? a : undefined;
    }, 20_000, 'Registered=False DeletedByRevocation');
    expect(condition(held, 'Registered')?.status).toBe('False');
    await settled(operator.manager, AgentClients, env.namespace, 'doomed-agent', held.metadata.resourceVersion!);
    expect(env.idpClientsOf(agent.metadata.uid)).toHaveLength(0);

    await env.client.delete(GrantRevocations, 'delete-doomed', env.namespace);
    await waitReady(env, 'doomed-agent');
    expect(env.idpClientsOf(agent.metadata.uid)).toHaveLength(1);
  });
});
