/**
 * Pure planning for a GrantRevocation: which AgentClients it targets, and which (target, action)
 * steps are still to be done given the results already recorded in status. No I/O: the caller
 * passes the AgentClients from its cache.
 *
 * Level-based: the target set is everything the spec matches now plus everything already
 * recorded in status (so a label removed by a GitOps re-sync, or a client_id cleared after a
 * registration delete, does not let an AgentClient slip out of a revocation it was part of).
 * A result already recorded is never redone, so a crash mid-way resumes where it stopped.
 */
import { evaluateLabelSelector } from '../../policy/selectors.ts';
import type { AgentClient } from '../agentclient/types.ts';
import { ACTION_ORDER } from './types.ts';
import type { ActionResult, GrantRevocation, RevocationAction, TargetStatus } from './types.ts';

/** Why no target could be resolved: InvalidTarget is terminal (Failed), TargetNotFound is retried. */
export interface ResolutionProblem {
  reason: 'InvalidTarget' | 'TargetNotFound';
  message: string;
}

export interface TargetResolution {
  /** AgentClients to act on, sorted by name. */
  targets: AgentClient[];
  /** Set when `targets` is empty. */
  problem?: ResolutionProblem;
}

/** How the spec names its target, for messages and the printer column. */
export function describeTarget(grev: GrantRevocation): string {
  const t = grev.spec.target;
  if (t.agentClientName !== undefined) return `AgentClient ${t.agentClientName}`;
  if (t.clientId !== undefined) return `client_id ${t.clientId}`;
  if (t.selector !== undefined) return `selector ${formatSelector(t.selector)}`;
  return 'no target';
}

function formatSelector(selector: NonNullable<GrantRevocation['spec']['target']['selector']>): string {
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const req of selector.matchExpressions ?? []) {
    const values = req.values?.length ? ` (${req.values.join(',')})` : '';
    parts.push(`${req.key} ${req.operator}${values}`);
  }
  return parts.length ? parts.join(',') : '(everything)';
}

/** Whether the spec (not the recorded status) selects this AgentClient. Same namespace only. */
export function specSelects(grev: GrantRevocation, agentClient: AgentClient): boolean {
  if (agentClient.metadata.namespace !== grev.metadata.namespace) return false;
  const t = grev.spec.target;
  if (countTargetKinds(grev) !== 1) return false;
  if (t.agentClientName !== undefined) return agentClient.metadata.name === t.agentClientName;
  if (t.clientId !== undefined) return agentClient.status?.clientId === t.clientId;
  const result = evaluateLabelSelector(t.selector, agentClient.metadata.labels);
  return result.ok && result.matches;
}

function countTargetKinds(grev: GrantRevocation): number {
  const t = grev.spec.target;
  return [t.agentClientName, t.selector, t.clientId].filter((v) => v !== undefined).length;
}

/** Whether status records this AgentClient (by name) as one of the revocation's targets. */
export function statusRecords(grev: GrantRevocation, agentClientName: string): boolean {
  return (grev.status?.targets ?? []).some((t) => t.agentClient === agentClientName);
}

/**
 * Resolves the targets among `candidates` (AgentClients from the cache; those of other
 * namespaces are ignored: a GrantRevocation only reaches its own namespace, the same boundary
 * RBAC on GrantRevocations draws).
 */
export function resolveTargets(grev: GrantRevocation, candidates: readonly AgentClient[]): TargetResolution {
  const kinds = countTargetKinds(grev);
  if (kinds !== 1) {
    return { targets: [], problem: { reason: 'InvalidTarget', message: `spec.target must name exactly one of agentClientName, selector, clientId (found ${kinds})` } };
  }
  const selector = grev.spec.target.selector;
  if (selector !== undefined) {
    const check = evaluateLabelSelector(selector, undefined);
    if (!check.ok) return { targets: [], problem: { reason: 'InvalidTarget', message: `spec.target.selector: ${check.error}` } };
  }
  const byName = new Map<string, AgentClient>();
  for (const ac of candidates) {
    if (ac.metadata.namespace !== grev.metadata.namespace) continue;
    if (specSelects(grev, ac) || statusRecords(grev, ac.metadata.name)) byName.set(ac.metadata.name, ac);
  }
  const targets = [...byName.values()].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  if (targets.length > 0) return { targets };
  return {
    targets,
    problem: { reason: 'TargetNotFound', message: `${describeTarget(grev)} matches no AgentClient in namespace ${grev.metadata.namespace}` },
  };
}

/** One action still to be done on one target. */
export interface Step {
  agentClient: AgentClient;
  action: RevocationAction;
  /** The client_id to act on; undefined when the AgentClient has no registration. */
  clientId: string | undefined;
  /** A held suspension asserted again because its target changed (or this process never saw it asserted). */
  reassert: boolean;
}

export function findTarget(grev: GrantRevocation, agentClientName: string): TargetStatus | undefined {
  return grev.status?.targets?.find((t) => t.agentClient === agentClientName);
}

export function findResult(grev: GrantRevocation, agentClientName: string, action: RevocationAction): ActionResult | undefined {
  return findTarget(grev, agentClientName)?.results.find((r) => r.action === action);
}

/** The requested actions in execution order (the spec is a set; order there means nothing). */
export function orderedActions(grev: GrantRevocation): RevocationAction[] {
  const requested = new Set(grev.spec.actions);
  return ACTION_ORDER.filter((a) => requested.has(a));
}

export interface PlanOptions {
  /**
   * Whether this process has asserted the suspension of this AgentClient at its current
   * generation and client_id. A held suspension is asserted again only when that is false, so a
   * resync with nothing changed makes no IdP call.
   */
  suspensionAsserted(agentClient: AgentClient): boolean;
}

/**
 * The steps still to run, target by target in name order, actions in {@link ACTION_ORDER}.
 *
 * - No result yet: run it.
 * - Failed or Unsupported: terminal (a permanent error or a missing IdP capability); to try again,
 *   delete the GrantRevocation and apply it anew. Transient failures are never recorded as
 *   results: they surface as a condition and are retried with backoff.
 * - Succeeded: done, except a `Suspend`, which is held: asserted again when the AgentClient now
 *   has another client_id than the one suspended, or per {@link PlanOptions.suspensionAsserted}.
 */
export function planSteps(grev: GrantRevocation, targets: readonly AgentClient[], options: PlanOptions): Step[] {
  const steps: Step[] = [];
  const actions = orderedActions(grev);
  for (const agentClient of targets) {
    const name = agentClient.metadata.name;
    const clientId = agentClient.status?.clientId;
    const recorded = findTarget(grev, name);
    for (const action of actions) {
      const previous = recorded?.results.find((r) => r.action === action);
      if (previous === undefined) {
        steps.push({ agentClient, action, clientId, reassert: false });
        continue;
      }
      if (previous.outcome !== 'Succeeded' || action !== 'Suspend') continue;
      const moved = (recorded?.clientId ?? undefined) !== clientId;
      if (moved || !options.suspensionAsserted(agentClient)) steps.push({ agentClient, action, clientId, reassert: true });
    }
  }
  return steps;
}

/** Requested (target, action) pairs and how many have a terminal result. */
export interface Tally {
  requested: number;
  succeeded: number;
  failed: number;
  unsupported: number;
}

export function tally(grev: GrantRevocation, targets: readonly AgentClient[]): Tally {
  const out: Tally = { requested: 0, succeeded: 0, failed: 0, unsupported: 0 };
  const actions = orderedActions(grev);
  for (const agentClient of targets) {
    for (const action of actions) {
      out.requested += 1;
      const outcome = findResult(grev, agentClient.metadata.name, action)?.outcome;
      if (outcome === 'Succeeded') out.succeeded += 1;
      else if (outcome === 'Failed') out.failed += 1;
      else if (outcome === 'Unsupported') out.unsupported += 1;
    }
  }
  return out;
}
