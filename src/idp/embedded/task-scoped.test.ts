import { describe, expect, it } from 'vitest';
import { accessTokenTTL, bindToSession, refreshTokenTTL, taskRules, taskScopedProblem, taskScopesIn } from './task-scoped.ts';

const rules = { scopes: ['deployments:trigger'], access_token: 300, single_use_refresh: true, session_binding: true };

describe('task-scoped rules', () => {
  it('reads rules from client metadata, ignoring absent, empty or malformed ones', () => {
    expect(taskRules({ task_scoped: rules })).toEqual(rules);
    expect(taskRules({})).toBeUndefined();
    expect(taskRules(undefined)).toBeUndefined();
    expect(taskRules({ task_scoped: { ...rules, scopes: [] } })).toBeUndefined();
    expect(taskRules({ task_scoped: { ...rules, access_token: -1 } })).toBeUndefined();
  });

  it.each([
    [[], 'must be an object'],
    [{ ...rules, extra: true }, 'has an unknown member extra'],
    [{ ...rules, scopes: ['a b'] }, 'scopes must be a list of scopes'],
    [{ ...rules, access_token: 1.5 }, 'access_token must be a positive integer'],
    [{ ...rules, session_binding: 'yes' }, 'single_use_refresh and session_binding must be booleans'],
  ])('rejects %j', (value, problem) => {
    expect(taskScopedProblem(value)).toBe(problem);
  });

  it('finds task-scoped scopes in a scope string or set', () => {
    expect(taskScopesIn('openid code:read deployments:trigger', rules)).toEqual(['deployments:trigger']);
    expect(taskScopesIn(new Set(['code:read']), rules)).toEqual([]);
    expect(taskScopesIn('deployments:trigger', undefined)).toEqual([]);
  });

  it('shortens access tokens carrying a task-scoped scope only', () => {
    expect(accessTokenTTL(900, 'code:read deployments:trigger', rules)).toBe(300);
    expect(accessTokenTTL(900, 'code:read', rules)).toBe(900);
    expect(accessTokenTTL(60, 'deployments:trigger', rules)).toBe(60);
  });

  it('ends a task chain at its TTL: rotation inherits the remaining time', () => {
    expect(refreshTokenTTL(7_776_000, 'offline_access deployments:trigger', rules, undefined)).toBe(300);
    expect(refreshTokenTTL(7_776_000, 'offline_access deployments:trigger', rules, 120)).toBe(120);
    expect(refreshTokenTTL(7_776_000, 'offline_access deployments:trigger', rules, 0)).toBe(1);
    expect(refreshTokenTTL(7_776_000, 'offline_access code:read', rules, 120)).toBe(7_776_000);
  });

  it('binds task chains to the user session when the policy says so', () => {
    expect(bindToSession(new Set(['offline_access', 'deployments:trigger']), rules, false)).toBe(true);
    expect(bindToSession(new Set(['offline_access', 'deployments:trigger']), { ...rules, session_binding: false }, false)).toBe(false);
    expect(bindToSession(new Set(['offline_access', 'code:read']), rules, false)).toBe(false);
    expect(bindToSession(new Set(['code:read']), rules, true)).toBe(true);
  });
});
