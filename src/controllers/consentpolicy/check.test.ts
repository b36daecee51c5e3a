import { describe, expect, it } from 'vitest';
import { checkPolicy } from './check.ts';
import { readiness } from './sync.ts';

describe('checkPolicy', () => {
  it('accepts a valid policy, including an empty one', () => {
    expect(checkPolicy({})).toBeUndefined();
    expect(
      checkPolicy({
        namespaceSelector: { matchExpressions: [{ key: 'agentidentity.dev/tenant', operator: 'In', values: ['agents'] }] },
        selector: { matchLabels: { app: 'x' } },
        allowedScopes: ['code:*', 'openid'],
        scopeClasses: [{ pattern: 'code:write', access: 'write' }],
        standing: { accessTokenTTL: '15m', refreshTokenTTL: '2160h' },
        taskScoped: { scopes: ['deployments:*'], accessTokenTTL: '5m' },
      }),
    ).toBeUndefined();
  });

  it.each([
    [{ selector: { matchLabels: { 'bad key!': 'x' } } }, 'InvalidSelector', 'spec.selector: matchLabels: invalid label key'],
    [{ namespaceSelector: { matchExpressions: [{ key: 'a', operator: 'Sometimes' }] } }, 'InvalidSelector', 'spec.namespaceSelector: matchExpressions[0]: unknown operator'],
    [{ standing: { accessTokenTTL: '15 minutes' } }, 'InvalidDuration', 'spec.standing.accessTokenTTL: "15 minutes" is not a Go duration'],
    [{ taskScoped: { accessTokenTTL: '0s' } }, 'InvalidDuration', 'spec.taskScoped.accessTokenTTL: "0s" must be positive'],
    [{ allowedScopes: ['ok', 'has space'] }, 'InvalidScopePattern', 'spec.allowedScopes: "has space"'],
    [{ taskScoped: { scopes: ['a"b'] } }, 'InvalidScopePattern', 'spec.taskScoped.scopes'],
  ])('reports %j as %s', (spec, reason, message) => {
    const problem = checkPolicy(spec);
    expect(problem?.reason).toBe(reason);
    expect(problem?.message).toContain(message);
  });
});

describe('readiness', () => {
  it('is False with the problem as reason when invalid', () => {
    expect(readiness({ reason: 'InvalidSelector', message: 'm' }, { selected: 3, pending: [] })).toEqual({ status: 'False', reason: 'InvalidSelector', message: 'm' });
  });

  it('is Applying while selected AgentClients catch up, naming a few', () => {
    const pending = Array.from({ length: 7 }, (_, i) => `ns/a${i}`);
    const r = readiness(undefined, { selected: 9, pending });
    expect(r).toMatchObject({ status: 'False', reason: 'Applying' });
    expect(r.message).toBe("7 AgentClient(s) do not carry the policy's ceiling yet: ns/a0, ns/a1, ns/a2, ns/a3, ns/a4 and 2 more");
  });

  it('is True once applied to every selected AgentClient', () => {
    expect(readiness(undefined, { selected: 2, pending: [] })).toEqual({ status: 'True', reason: 'Applied', message: 'valid; applied to the 2 AgentClient(s) it selects' });
  });
});
