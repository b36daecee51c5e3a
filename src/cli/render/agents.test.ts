import { describe, expect, it } from 'vitest';
import type { AgentClient } from '../api.ts';
import { palette, stripAnsi } from './color.ts';
import { agentDetails, agentsTable, summarizeAgent } from './agents.ts';

const now = Date.parse('2025-06-10T12:00:00Z');
const cond = (type: string, status: 'True' | 'False' | 'Unknown', reason = 'R') => ({
  type,
  status,
  reason,
  message: `${type} is ${status}`,
  lastTransitionTime: '2025-06-01T00:00:00Z',
});

const ready: AgentClient = {
  metadata: { name: 'reporting', namespace: 'team-a' },
  status: {
    clientId: 'c-123',
    conditions: [cond('Ready', 'True', 'Ready'), cond('PolicyCompliant', 'True')],
    grantedScopes: ['reports:read', 'calendar:read'],
    deniedScopes: [{ scope: 'prod:write', reason: 'not allowed', policy: 'baseline' }],
    policies: ['baseline'],
    credentials: { lastRotationTime: '2025-06-07T08:00:00Z', nextRotationTime: '2025-07-07T08:00:00Z', rotationSupport: 'Overlap' },
  },
};
const suspended: AgentClient = {
  metadata: { name: 'coder', namespace: 'team-b' },
  status: {
    conditions: [cond('Ready', 'False', 'Suspended'), cond('Suspended', 'True', 'SuspendedByRevocation')],
    suspendedBy: ['team-b/coder-20250610110000', 'other/x'],
    credentials: { nextRotationTime: '2025-06-10T11:00:00Z' },
  },
};

describe('summarizeAgent', () => {
  it('flattens what status shows (the -o json shape)', () => {
    expect(summarizeAgent(ready)).toEqual({
      namespace: 'team-a',
      name: 'reporting',
      clientId: 'c-123',
      ready: 'True',
      readyReason: 'Ready',
      readyMessage: 'Ready is True',
      ceiling: ['reports:read', 'calendar:read'],
      denied: [{ scope: 'prod:write', reason: 'not allowed', policy: 'baseline' }],
      policies: ['baseline'],
      policyCompliant: 'True',
      lastRotationTime: '2025-06-07T08:00:00Z',
      nextRotationTime: '2025-07-07T08:00:00Z',
      rotationSupport: 'Overlap',
      suspended: false,
      suspendedBy: [],
    });
  });
  it('treats an agent without status as not yet known', () => {
    const s = summarizeAgent({ metadata: { name: 'new', namespace: 'n' } });
    expect(s).toMatchObject({ ready: 'Unknown', clientId: null, ceiling: [], suspended: false, policyCompliant: 'Unknown' });
  });
  it('counts an agent as suspended by condition or by suspendedBy', () => {
    expect(summarizeAgent(suspended).suspended).toBe(true);
    const byCondition: AgentClient = { metadata: { name: 'x' }, status: { conditions: [cond('Suspended', 'True')] } };
    expect(summarizeAgent(byCondition).suspended).toBe(true);
  });
});

describe('agentsTable', () => {
  it('shows one row per agent with ceiling, rotation and suspension', () => {
    const out = agentsTable([summarizeAgent(ready), summarizeAgent(suspended)], {
      now,
      palette: palette(false),
      allNamespaces: true,
      width: 200,
    });
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAMESPACE\s+NAME\s+CLIENT-ID\s+READY\s+CEILING\s+DENIED\s+POLICY\s+ROTATED\s+NEXT\s+SUSPENDED$/);
    expect(lines[1]).toMatch(/team-a\s+reporting\s+c-123\s+True\s+reports:read,calendar:read\s+1\s+baseline\s+3d4h\s+26d20h\s+no/);
    // Same-namespace revocations are shown by name, others as namespace/name.
    expect(lines[2]).toMatch(/team-b\s+coder\s+-\s+False\s+-\s+0\s+<none>\s+-\s+overdue 1h\s+coder-20250610110000,other\/x$/);
  });
  it('fits 100 columns by shortening long cells, never headers, keeping more of the ceiling', () => {
    const rows = [summarizeAgent(ready), summarizeAgent(suspended)];
    const lines = agentsTable(rows, { now, palette: palette(false), allNamespaces: true }).trimEnd().split('\n');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(100);
    expect(lines[0]).toMatch(/^NAMESPACE\s+NAME\s+CLIENT-ID\s+READY\s+CEILING\s+DENIED\s+POLICY\s+ROTATED\s+NEXT\s+SUSPENDED$/);
    const oneNamespace = agentsTable([rows[0]!], { now, palette: palette(false), allNamespaces: false });
    expect(oneNamespace).toContain('reports:read,calendar:re…');
  });
  it('leaves out the namespace column for one namespace, and colours only when asked', () => {
    const plain = agentsTable([summarizeAgent(ready)], { now, palette: palette(false), allNamespaces: false });
    expect(plain.startsWith('NAME ')).toBe(true);
    const coloured = agentsTable([summarizeAgent(suspended)], { now, palette: palette(true), allNamespaces: false });
    expect(coloured).toContain('\u001b[31m');
    expect(plain).not.toContain('\u001b[');
  });
});

describe('agentDetails', () => {
  it('spells out conditions and denied scopes', () => {
    const out = stripAnsi(agentDetails(ready, { now, palette: palette(true) }));
    expect(out).toContain('Agent:        team-a/reporting');
    expect(out).toContain('Ceiling:       reports:read calendar:read');
    expect(out).toContain('prod:write: not allowed (policy baseline)');
    expect(out).toContain('PolicyCompliant=True R: PolicyCompliant is True');
    expect(out).toContain('Rotation:      last 3d4h ago, next in 26d20h, Overlap');
  });
});
