import { describe, expect, it } from 'vitest';
import type { AgentClient } from '../api.ts';
import { rotationOutcome } from './rotate.ts';

const REQUEST = '2026-03-01T10:00:00.700Z';
const AT = Date.parse(REQUEST);

function agent(credentials: NonNullable<NonNullable<AgentClient['status']>['credentials']>): AgentClient {
  return { metadata: { name: 'coder', namespace: 'team-a' }, status: { credentials } };
}

describe('rotationOutcome', () => {
  it('is pending while the request is recorded but the rotation has not happened (recorded before the IdP call)', () => {
    expect(rotationOutcome(agent({ lastRotationRequest: REQUEST, lastRotationTime: '2026-02-28T10:00:00Z', rotationSupport: 'Overlap' }), REQUEST, AT)).toBe('pending');
    expect(rotationOutcome(agent({ lastRotationRequest: REQUEST }), REQUEST, AT)).toBe('pending');
  });

  it('is pending for another request, even one that rotated', () => {
    expect(rotationOutcome(agent({ lastRotationRequest: 'older', lastRotationTime: '2026-03-01T10:00:05Z' }), REQUEST, AT)).toBe('pending');
  });

  it('is rotated once lastRotationTime reaches the request, at whole-second resolution', () => {
    // The operator writes seconds only: a rotation 0.2 s after a request at .700 shows as :00.
    expect(rotationOutcome(agent({ lastRotationRequest: REQUEST, lastRotationTime: '2026-03-01T10:00:00Z' }), REQUEST, AT)).toBe('rotated');
    expect(rotationOutcome(agent({ lastRotationRequest: REQUEST, lastRotationTime: '2026-03-01T09:59:59Z' }), REQUEST, AT)).toBe('pending');
  });

  it('is declined when the operator handled it as Unsupported without rotating', () => {
    expect(rotationOutcome(agent({ lastRotationRequest: REQUEST, lastRotationTime: '2026-02-28T10:00:00Z', rotationSupport: 'Unsupported' }), REQUEST, AT)).toBe('declined');
  });
});
