/**
 * What only the operator can judge about a ConsentPolicy (the CRD schema and CEL rules catch the
 * rest at `kubectl apply`): selectors the API server's own rules would reject, durations, and
 * scope patterns. Pure: `(spec) -> problem | undefined`, in the cert-manager "checks" style.
 */
import { parseDuration } from '../../api/duration.ts';
import { isScopePattern, validateLabelSelector } from '../../policy/index.ts';
import type { ConsentPolicySpec } from '../../policy/index.ts';

export interface PolicyProblem {
  reason: 'InvalidSelector' | 'InvalidDuration' | 'InvalidScopePattern';
  message: string;
}

/** The first problem of a policy, or undefined when it is valid. */
export function checkPolicy(spec: ConsentPolicySpec): PolicyProblem | undefined {
  for (const [field, selector] of [
    ['spec.namespaceSelector', spec.namespaceSelector],
    ['spec.selector', spec.selector],
  ] as const) {
    const error = validateLabelSelector(selector);
    if (error !== undefined) {
      return { reason: 'InvalidSelector', message: `${field}: ${error}; the AgentClients it may select keep their current ceiling until it is fixed` };
    }
  }
  const durations: [string, string | undefined][] = [
    ['spec.standing.accessTokenTTL', spec.standing?.accessTokenTTL],
    ['spec.standing.refreshTokenTTL', spec.standing?.refreshTokenTTL],
    ['spec.taskScoped.accessTokenTTL', spec.taskScoped?.accessTokenTTL],
  ];
  for (const [field, value] of durations) {
    if (value === undefined) continue;
    let ms: number;
    try {
      ms = parseDuration(value);
    } catch {
      return { reason: 'InvalidDuration', message: `${field}: ${JSON.stringify(value)} is not a Go duration; the default is used instead` };
    }
    if (ms <= 0) return { reason: 'InvalidDuration', message: `${field}: ${JSON.stringify(value)} must be positive; the default is used instead` };
  }
  const patterns: [string, readonly string[]][] = [
    ['spec.allowedScopes', spec.allowedScopes ?? []],
    ['spec.scopeClasses[].pattern', (spec.scopeClasses ?? []).map((c) => c.pattern)],
    ['spec.taskScoped.scopes', spec.taskScoped?.scopes ?? []],
  ];
  for (const [field, list] of patterns) {
    const bad = list.find((p) => !isScopePattern(p));
    if (bad !== undefined) return { reason: 'InvalidScopePattern', message: `${field}: ${JSON.stringify(bad)} is not a scope or a * pattern of scope characters; it matches nothing` };
  }
  return undefined;
}
