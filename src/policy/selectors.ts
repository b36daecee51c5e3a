/**
 * Kubernetes label selector evaluation (metav1.LabelSelector semantics) and ConsentPolicy
 * selection of AgentClients. Pure: the caller supplies the labels of the AgentClient and of its
 * namespace.
 *
 * Semantics follow `metav1.LabelSelectorAsSelector`: `matchLabels` and every `matchExpressions`
 * requirement are ANDed; `In` needs the key present with one of the values; `NotIn` matches when
 * the key is absent or its value is not listed; `Exists` / `DoesNotExist` test the key only.
 * An empty selector (`{}`) selects everything. Unlike a bare Kubernetes nil selector, an absent
 * one also selects everything here, because the ConsentPolicy API defines absence as "all".
 */
import type { LabelSelector, PolicyInput } from './types.ts';

/** Label sets as found in `metadata.labels` (absent = no labels). */
export type Labels = Readonly<Record<string, string>> | undefined;

/** Outcome of evaluating a selector: a verdict, or why the selector cannot be evaluated. */
export type SelectorResult = { ok: true; matches: boolean } | { ok: false; error: string };

const NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Kubernetes qualified name (label key): `[prefix/]name`, name <= 63, prefix a DNS subdomain <= 253. */
export function isLabelKey(key: string): boolean {
  const slash = key.indexOf('/');
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (slash !== -1) {
    const prefix = key.slice(0, slash);
    if (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)) return false;
  }
  return name.length > 0 && name.length <= 63 && NAME_PART.test(name);
}

/** Kubernetes label value: empty, or <= 63 characters of `[A-Za-z0-9_.-]` starting and ending alphanumeric. */
export function isLabelValue(value: string): boolean {
  return value === '' || (value.length <= 63 && NAME_PART.test(value));
}

/**
 * Checks a selector the way the API server's `ValidateLabelSelector` does and returns the first
 * problem, or undefined when it is valid. Absent is valid.
 */
export function validateLabelSelector(selector: LabelSelector | undefined | null): string | undefined {
  if (selector === undefined || selector === null) return undefined;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (!isLabelKey(key)) return `matchLabels: invalid label key ${JSON.stringify(key)}`;
    if (typeof value !== 'string' || !isLabelValue(value)) {
      return `matchLabels[${key}]: invalid label value ${JSON.stringify(value)}`;
    }
  }
  for (const [i, req] of (selector.matchExpressions ?? []).entries()) {
    const where = `matchExpressions[${i}]`;
    if (!isLabelKey(req.key)) return `${where}: invalid label key ${JSON.stringify(req.key)}`;
    const values = req.values ?? [];
    switch (req.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) return `${where}: operator ${req.operator} needs at least one value`;
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) return `${where}: operator ${req.operator} takes no values`;
        break;
      default:
        return `${where}: unknown operator ${JSON.stringify(req.operator)}`;
    }
    const bad = values.find((v) => typeof v !== 'string' || !isLabelValue(v));
    if (bad !== undefined) return `${where}: invalid label value ${JSON.stringify(bad)}`;
  }
  return undefined;
}

/**
 * Evaluates a label selector against a label set. Invalid selectors yield `{ ok: false }` with a
 * message rather than throwing, so one bad ConsentPolicy becomes a condition, not a crash loop.
 */
export function evaluateLabelSelector(selector: LabelSelector | undefined | null, labels: Labels): SelectorResult {
  const error = validateLabelSelector(selector);
  if (error !== undefined) return { ok: false, error };
  if (selector === undefined || selector === null) return { ok: true, matches: true };
  const has = (key: string): boolean => labels !== undefined && Object.hasOwn(labels, key);
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (!has(key) || labels?.[key] !== value) return { ok: true, matches: false };
  }
  for (const req of selector.matchExpressions ?? []) {
    const present = has(req.key);
    const value = labels?.[req.key];
    const values = req.values ?? [];
    const holds =
      req.operator === 'In'
        ? present && values.includes(value as string)
        : req.operator === 'NotIn'
          ? !present || !values.includes(value as string)
          : req.operator === 'Exists'
            ? present
            : !present;
    if (!holds) return { ok: true, matches: false };
  }
  return { ok: true, matches: true };
}

/** What a policy is matched against: the AgentClient's labels and its namespace's labels. */
export interface SelectionTarget {
  /** `metadata.labels` of the AgentClient. */
  labels: Labels;
  /** `metadata.labels` of the AgentClient's Namespace. */
  namespaceLabels: Labels;
}

/**
 * Whether a ConsentPolicy selects an AgentClient: its `namespaceSelector` matches the namespace's
 * labels AND its `selector` matches the AgentClient's labels (each absent = all).
 *
 * Three-valued AND: when one selector is invalid but the other is valid and does not match, the
 * answer is still a definite "no" (false AND unknown = false), so a typo in one policy only blocks
 * the AgentClients it might really select. Otherwise an invalid selector yields `{ ok: false }`
 * naming the field.
 */
export function policySelects(policy: PolicyInput, target: SelectionTarget): SelectorResult {
  const ns = evaluateLabelSelector(policy.spec.namespaceSelector, target.namespaceLabels);
  const own = evaluateLabelSelector(policy.spec.selector, target.labels);
  if ((ns.ok && !ns.matches) || (own.ok && !own.matches)) return { ok: true, matches: false };
  if (!ns.ok) return { ok: false, error: `spec.namespaceSelector: ${ns.error}` };
  if (!own.ok) return { ok: false, error: `spec.selector: ${own.error}` };
  return { ok: true, matches: true };
}

/** The policies that select one AgentClient, and those that could not be evaluated. */
export interface PolicySelection {
  /** Selecting policies, sorted by name. */
  matching: PolicyInput[];
  /** Policies with an invalid selector, sorted by name. */
  invalid: { policy: string; error: string }[];
}

/**
 * Splits `policies` into those that select `target` and those whose selectors are invalid.
 *
 * The engine does not guess what an invalid policy would have selected: treating it as "selects
 * nothing" could widen a ceiling, and "selects everything" could narrow (and revoke grants of)
 * every agent in the cluster because of one typo. Callers should therefore hold an AgentClient's
 * current ceiling (neither widen nor narrow it) while `invalid` is non-empty, and report it.
 */
export function selectPolicies(policies: readonly PolicyInput[], target: SelectionTarget): PolicySelection {
  const matching: PolicyInput[] = [];
  const invalid: { policy: string; error: string }[] = [];
  for (const policy of policies) {
    const result = policySelects(policy, target);
    if (!result.ok) invalid.push({ policy: policy.name, error: result.error });
    else if (result.matches) matching.push(policy);
  }
  return {
    matching: matching.sort((a, b) => compareNames(a.name, b.name)),
    invalid: invalid.sort((a, b) => compareNames(a.policy, b.policy)),
  };
}

/** Code-unit order for policy names, so results do not depend on list order from the API server. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
