/** Builders shared by this controller's unit tests. */
import type { AgentClient } from '../agentclient/types.ts';
import type { ActionResult, GrantRevocation, GrantRevocationSpec, RevocationAction } from './types.ts';

export const NS = 'team-a';

export function grev(spec: Partial<GrantRevocationSpec> = {}, meta: Partial<GrantRevocation['metadata']> = {}): GrantRevocation {
  return {
    apiVersion: 'agentidentity.dev/v1alpha1',
    kind: 'GrantRevocation',
    metadata: { name: 'incident-42', namespace: NS, uid: 'grev-uid-1', generation: 1, creationTimestamp: '2025-01-01T00:00:00Z', ...meta },
    spec: {
      target: { agentClientName: 'coding-agent' },
      actions: ['RevokeGrants'],
      reason: 'leaked refresh token',
      ...spec,
    },
  };
}

export function agent(name: string, clientId: string | undefined, labels: Record<string, string> = {}, extra: Partial<AgentClient['metadata']> = {}): AgentClient {
  return {
    apiVersion: 'agentidentity.dev/v1alpha1',
    kind: 'AgentClient',
    metadata: { name, namespace: NS, uid: `uid-${name}`, generation: 1, labels, ...extra },
    spec: {
      identityProviderRef: { name: 'dev' },
      clientName: name,
      scopes: ['repo:read'],
      agentMetadata: { owner: 'team-a@example.com' },
    },
    ...(clientId === undefined ? {} : { status: { clientId } }),
  };
}

export function result(action: RevocationAction, outcome: ActionResult['outcome'] = 'Succeeded'): ActionResult {
  return { action, call: 'test', outcome, time: '2025-01-01T00:00:01Z' };
}

/** `g` with results recorded for one target. */
export function withResults(g: GrantRevocation, agentClient: string, clientId: string | undefined, results: ActionResult[]): GrantRevocation {
  const targets = [...(g.status?.targets ?? []).filter((t) => t.agentClient !== agentClient), { agentClient, ...(clientId ? { clientId } : {}), results }];
  return { ...g, status: { ...g.status, targets } };
}
