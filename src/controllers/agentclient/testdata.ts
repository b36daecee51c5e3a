/** Builders shared by this controller's unit tests. */
import type { AgentClient, AgentClientSpec } from './types.ts';

export function agentClient(spec: Partial<AgentClientSpec> = {}, meta: Partial<AgentClient['metadata']> = {}): AgentClient {
  return {
    apiVersion: 'agentidentity.dev/v1alpha1',
    kind: 'AgentClient',
    metadata: { name: 'billing-agent', namespace: 'team-a', uid: '5f0c1f0e-1111-4a3b-9c7d-0123456789ab', generation: 1, ...meta },
    spec: {
      identityProviderRef: { name: 'dev' },
      clientName: 'Billing agent',
      scopes: ['invoices:read'],
      agentMetadata: { owner: 'team-a@example.com' },
      ...spec,
    },
  };
}
