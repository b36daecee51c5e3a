import { describe, expect, it } from 'vitest';
import type { GrantRevocation } from '../api.ts';
import { palette, stripAnsi } from './color.ts';
import { allResults, progressLine, resultKey, resultLine, revocationSummary, targetsTable } from './revocation.ts';

const revocation: GrantRevocation = {
  metadata: { name: 'coder-1', namespace: 'team-b' },
  spec: { target: { agentClientName: 'coder' }, actions: ['RevokeGrants', 'Suspend'], reason: 'leak' },
  status: {
    phase: 'Failed',
    startTime: '2025-06-10T12:00:00Z',
    completionTime: '2025-06-10T12:00:02Z',
    requestedBy: { username: 'alice' },
    conditions: [{ type: 'Ready', status: 'False', reason: 'ActionFailed', message: 'Suspend failed', lastTransitionTime: '2025-06-10T12:00:02Z' }],
    targets: [
      {
        agentClient: 'coder',
        clientId: 'cid-1',
        results: [
          { action: 'RevokeGrants', call: 'revokeClientGrants', outcome: 'Succeeded', grantsRevoked: 3, tokensRevoked: 5, time: '2025-06-10T12:00:01Z' },
          { action: 'Suspend', call: 'setDisabled', outcome: 'Failed', message: 'IdP returned 503', time: '2025-06-10T12:00:02Z' },
        ],
      },
    ],
  },
};

describe('results', () => {
  it('flattens results and gives each a stable identity', () => {
    const results = allResults(revocation);
    expect(results).toHaveLength(2);
    expect(new Set(results.map(resultKey)).size).toBe(2);
    expect(resultKey(results[0]!)).toBe(resultKey(allResults(structuredClone(revocation))[0]!));
  });
  it('describes one result in a line', () => {
    const [ok, failed] = allResults(revocation);
    expect(resultLine(ok!, palette(false))).toBe('✓ coder RevokeGrants (revokeClientGrants): Succeeded, 3 grants, 5 tokens');
    expect(resultLine(failed!, palette(false))).toBe('✗ coder Suspend (setDisabled): Failed, IdP returned 503');
  });
});

describe('progressLine', () => {
  it('shows phase, elapsed time, counts and failures', () => {
    expect(stripAnsi(progressLine(revocation, 2500, palette(true)))).toBe(
      'grantrevocation team-b/coder-1: Failed 2s, 1 target, 2 results (1 failed)',
    );
    const pending: GrantRevocation = { ...revocation, status: undefined };
    expect(progressLine(pending, 0, palette(false))).toBe('grantrevocation team-b/coder-1: Pending 0s, 0 targets, 0 results');
  });
});

describe('targetsTable and summary', () => {
  it('prints one row per result', () => {
    const lines = targetsTable(revocation, { palette: palette(false) }).trimEnd().split('\n');
    expect(lines).toEqual([
      'AGENT  CLIENT-ID  ACTION        CALL                OUTCOME    GRANTS  TOKENS  MESSAGE',
      'coder  cid-1      RevokeGrants  revokeClientGrants  Succeeded  3       5',
      'coder  cid-1      Suspend       setDisabled         Failed     -       -       IdP returned 503',
    ]);
  });
  it('summarises the outcome with duration, requester and the failure message', () => {
    expect(revocationSummary(revocation, palette(false))).toBe(
      'grantrevocation team-b/coder-1 Failed in 2s, requested by alice: Suspend failed',
    );
  });
});
