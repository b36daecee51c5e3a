import { describe, expect, it } from 'vitest';
import type { AgentClient } from '../api.ts';
import { rotationReport, rotationText } from './rotation.ts';

const now = Date.parse('2025-06-10T12:00:00Z');
const agent: AgentClient = {
  metadata: { name: 'coder', namespace: 'team-b' },
  status: {
    conditions: [{ type: 'CredentialsReady', status: 'True', reason: 'Issued', message: 'ok', lastTransitionTime: '2025-06-10T12:00:00Z' }],
    credentials: {
      keyId: 'k2',
      previousKeyId: 'k1',
      lastRotationTime: '2025-06-10T11:59:58Z',
      overlapUntil: '2025-06-10T13:00:00Z',
      lastRotationRequest: 'r1',
      rotationSupport: 'Overlap',
      rotationMessage: 'old key stays registered for the overlap',
    },
  },
};

describe('rotation report', () => {
  it('says whether this request was handled, and what changed', () => {
    expect(rotationReport(agent, 'r1')).toMatchObject({ handled: true, keyId: 'k2', previousKeyId: 'k1', credentialsReady: 'True' });
    expect(rotationReport(agent, 'r2').handled).toBe(false);
  });
  it('prints the new key and how long the previous one is accepted', () => {
    expect(rotationText(agent, 'r1', now)).toBe(
      [
        'agentclient team-b/coder: rotation r1 handled',
        '  rotated:   2s ago, key k2',
        '  previous:  k1 accepted until 2025-06-10T13:00:00Z (in 1h)',
        '  support:   Overlap: old key stays registered for the overlap',
        '',
      ].join('\n'),
    );
  });
  it('leaves out what the IdP does not report', () => {
    const bare: AgentClient = { metadata: { name: 'x', namespace: 'n' }, status: { credentials: { lastRotationRequest: 'r' } } };
    expect(rotationText(bare, 'r', now)).toBe('agentclient n/x: rotation r handled\n  rotated:   -\n');
  });
});
