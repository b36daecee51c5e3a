import { describe, expect, it } from 'vitest';
import type { PolicyInput } from '../../policy/index.ts';
import { ApiError } from '../../runtime/kube/errors.ts';
import type { KubeClient } from '../../runtime/kube/client.ts';
import type { KubeObject } from '../../runtime/kube/types.ts';
import type { ConsentPolicy } from '../../api/v1alpha1/index.ts';
import type { PolicyCaches } from '../consentpolicy/caches.ts';
import type { GrantRevocation } from '../grantrevocation/types.ts';
import { evaluateCeiling } from './ceiling.ts';
import { applyCeilingChange, ceilingStatus } from './policy.ts';
import type { PolicyDeps } from './policy.ts';
import type { AgentClient } from './types.ts';

/** `deploy` was granted under standing lifetimes; the policy now marks it task-scoped. */
const policy: PolicyInput = { name: 'p', spec: { allowedScopes: ['code:*', 'deploy'], taskScoped: { scopes: ['deploy'], accessTokenTTL: '2m' } } };
const granted = ['code:read', 'deploy'];
const agent = (taskScopedScopes: string[] | undefined): AgentClient =>
  ({
    metadata: { name: 'a', namespace: 'ns', uid: 'u' },
    spec: { scopes: granted },
    status: { clientId: 'c1', grantedScopes: granted, policies: ['p'], ...(taskScopedScopes ? { taskScopedScopes } : {}) },
  }) as unknown as AgentClient;
const evaluation = evaluateCeiling({ agent: { namespace: 'ns', name: 'a', uid: 'u', requested: granted }, namespaceLabels: undefined, policies: [policy], allowNoPolicy: false, tokenLifetimes: true });

function fakes(): { client: KubeClient; created: GrantRevocation[]; deps: PolicyDeps } {
  const created: GrantRevocation[] = [];
  const client = {
    create: async (_type: unknown, obj: KubeObject) => {
      if (created.some((g) => g.metadata.name === obj.metadata?.name)) throw new ApiError(409, 'AlreadyExists', 'exists');
      created.push(obj as unknown as GrantRevocation);
      return obj;
    },
  } as unknown as KubeClient;
  const live = { metadata: { name: 'p', uid: 'p-uid' } } as unknown as ConsentPolicy;
  const deps: PolicyDeps = { caches: { policy: (n: string) => (n === 'p' ? live : undefined) } as unknown as PolicyCaches, allowNoPolicy: false, requester: async () => undefined };
  return { client, created, deps };
}

describe('a granted scope reclassified as task-scoped', () => {
  const now = new Date('2026-01-02T00:00:00Z');

  it('revokes the grants holding it once the IdP holds the task-scoped rules, and records it', async () => {
    expect(evaluation.taskScoped).toEqual(['deploy']);
    const { client, created, deps } = fakes();
    const before = agent([]);
    const applied = await applyCeilingChange(client, deps, before, evaluation, granted, now, undefined, true);
    expect(applied.decided.change.decision).toBe('None');
    expect(created).toHaveLength(1);
    expect(created[0]?.metadata.name).toMatch(/^a-reclassified-[0-9a-f]{10}$/);
    expect(created[0]?.metadata.labels?.['agentidentity.dev/decision']).toBe('TaskScopedReclassified');
    expect((created[0]?.metadata as KubeObject['metadata'])?.ownerReferences?.[0]).toMatchObject({ kind: 'ConsentPolicy', name: 'p', uid: 'p-uid' });
    expect(created[0]?.spec).toMatchObject({ target: { agentClientName: 'a' }, actions: ['RevokeGrants'], scopes: ['deploy'] });
    expect(ceilingStatus(before, evaluation, applied)).toMatchObject({ taskScopedScopes: ['deploy'] });
    // A retry before status was written finds it already created.
    await applyCeilingChange(client, deps, before, evaluation, granted, now, undefined, true);
    expect(created).toHaveLength(1);
  });

  it('waits while the IdP may not hold the task-scoped rules yet', async () => {
    const { client, created, deps } = fakes();
    const applied = await applyCeilingChange(client, deps, agent([]), evaluation, granted, now, undefined, false);
    expect(created).toHaveLength(0);
    expect(applied.taskScoped).toBeUndefined();
    expect(ceilingStatus(agent([]), evaluation, applied)).not.toHaveProperty('taskScopedScopes');
  });

  it('revokes nothing once recorded, or when nothing was recorded before (recorded now)', async () => {
    const { client, created, deps } = fakes();
    await applyCeilingChange(client, deps, agent(['deploy']), evaluation, granted, now, undefined, true);
    const first = await applyCeilingChange(client, deps, agent(undefined), evaluation, granted, now, undefined, true);
    expect(created).toHaveLength(0);
    expect(first.taskScoped).toEqual(['deploy']);
  });
});
