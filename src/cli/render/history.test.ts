import { describe, expect, it } from 'vitest';
import type { AgentClient, GrantRevocation } from '../api.ts';
import { palette } from './color.ts';
import { ceilingHistoryTable, newestFirst, revocationsTable, targetsAgent } from './history.ts';

const agent: AgentClient = { metadata: { name: 'coder', namespace: 'team-b' }, status: { clientId: 'cid-1' } };
const revocation = (name: string, target: GrantRevocation['spec']['target'], extra: Partial<GrantRevocation> = {}): GrantRevocation => ({
  metadata: { name, namespace: 'team-b', creationTimestamp: '2025-06-10T11:00:00Z' },
  spec: { target, actions: ['RevokeGrants'], reason: 'incident' },
  ...extra,
});

describe('newestFirst', () => {
  it('orders by time, newest first, keeping the later entry first on ties', () => {
    const history = [
      { time: '2025-06-01T00:00:00Z', decision: 'Initial' as const, added: ['a'] },
      { time: '2025-06-03T00:00:00Z', decision: 'Delta' as const, added: ['b'] },
      { time: '2025-06-03T00:00:00Z', decision: 'PolicyNarrowed' as const, removed: ['b'] },
    ];
    expect(newestFirst(history).map((h) => h.decision)).toEqual(['PolicyNarrowed', 'Delta', 'Initial']);
  });
});

describe('targetsAgent', () => {
  it('matches by name, by client_id, and by the targets the operator reported', () => {
    expect(targetsAgent(revocation('a', { agentClientName: 'coder' }), agent)).toBe(true);
    expect(targetsAgent(revocation('b', { clientId: 'cid-1' }), agent)).toBe(true);
    const bySelector = revocation('c', { selector: { matchLabels: { team: 'b' } } }, { status: { targets: [{ agentClient: 'coder' }] } });
    expect(targetsAgent(bySelector, agent)).toBe(true);
  });
  it('does not match other agents or the same name in another namespace', () => {
    expect(targetsAgent(revocation('d', { agentClientName: 'reporting' }), agent)).toBe(false);
    expect(targetsAgent(revocation('e', { clientId: 'cid-2' }), agent)).toBe(false);
    const elsewhere = { ...revocation('f', { agentClientName: 'coder' }), metadata: { name: 'f', namespace: 'team-c' } };
    expect(targetsAgent(elsewhere, agent)).toBe(false);
  });
});

describe('ceilingHistoryTable', () => {
  it('shows time, decision, scopes added and removed, policy and generation', () => {
    const out = ceilingHistoryTable(
      [
        { time: '2025-06-01T00:00:00Z', decision: 'Initial', added: ['a:read'], policy: 'baseline', generation: 1 },
        { time: '2025-06-02T00:00:00Z', decision: 'FullReconsent', added: ['a:write'], removed: [], generation: 2 },
      ],
      { palette: palette(false) },
    );
    expect(out.split('\n').slice(0, 3)).toEqual([
      'TIME (UTC)            DECISION       ADDED     REMOVED  POLICY    GEN',
      '2025-06-02 00:00:00Z  FullReconsent  +a:write  -        -         2',
      '2025-06-01 00:00:00Z  Initial        +a:read   -        baseline  1',
    ]);
  });
});

describe('revocationsTable', () => {
  it('shows phase, actions, subject, who asked, age and reason', () => {
    const r = revocation('coder-1', { agentClientName: 'coder' }, {
      status: { phase: 'Completed', requestedBy: { username: 'alice' } },
    });
    r.spec = { ...r.spec, subject: 'bob', incidentRef: 'INC-7', actions: ['RevokeGrants', 'Suspend'] };
    const out = revocationsTable([r], { palette: palette(false), now: Date.parse('2025-06-10T12:00:00Z') });
    expect(out.split('\n')[1]).toBe('coder-1  Completed  RevokeGrants,Suspend  bob      alice  1h   incident [INC-7]');
  });
});
