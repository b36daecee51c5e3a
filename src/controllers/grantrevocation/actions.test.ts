import { describe, expect, it } from 'vitest';
import { rotationState } from './actions.ts';
import { grev } from './testdata.ts';

const g = grev({ actions: ['RotateCredentials'] }, { uid: 'g-1', creationTimestamp: '2025-01-01T00:00:10Z' });
const mine = 'revocation:g-1';

describe('rotationState', () => {
  it.each([
    ['not requested yet', {}, 'pending'],
    ['requested, IdP PUT not done (request is recorded write-ahead)', { lastRotationRequest: mine, lastRotationTime: '2024-12-31T00:00:00Z' }, 'pending'],
    ['rotated but the old key still overlaps', { lastRotationRequest: mine, lastRotationTime: '2025-01-01T00:00:11Z', previousKeyId: 'old' }, 'pending'],
    ['rotated with no overlap', { lastRotationRequest: mine, lastRotationTime: '2025-01-01T00:00:11Z', keyId: 'new' }, 'done'],
    ['another revocation rotated since', { lastRotationRequest: 'revocation:g-2', lastRotationTime: '2025-01-01T00:00:12Z' }, 'done'],
    ['an older revocation rotation does not count', { lastRotationRequest: 'revocation:g-0', lastRotationTime: '2025-01-01T00:00:09Z' }, 'pending'],
    ['a plain (overlapping) rotation does not count', { lastRotationRequest: 'manual-1', lastRotationTime: '2025-01-01T00:00:12Z' }, 'pending'],
    ['declined by the AgentClient controller', { lastRotationRequest: mine, rotationSupport: 'Unsupported' as const }, 'unsupported'],
  ])('%s', (_label, credentials, expected) => {
    expect(rotationState(g, credentials)).toBe(expected);
  });
});
