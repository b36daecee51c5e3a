/**
 * The bounded record of ceiling changes kept in `status.ceilingHistory`, answering "how did this
 * agent come to hold these scopes". Pure: the caller supplies the time.
 */
import type { AgentClientStatusCeilingHistoryItem } from '../api/v1alpha1/index.ts';
import type { CeilingChange } from './decision.ts';

/** How many entries `status.ceilingHistory` keeps (the newest). */
export const CEILING_HISTORY_LIMIT = 20;

/**
 * One `status.ceilingHistory` entry: time (RFC 3339), added, removed, decision (never `None`),
 * policy and generation.
 */
export type CeilingHistoryEntry = AgentClientStatusCeilingHistoryItem;

/** Context recorded with a decision. */
export interface HistoryContext {
  /** RFC 3339 timestamp (from the injected clock). */
  time: string;
  policy?: string;
  generation?: number;
}

/**
 * Appends one entry, oldest first, and keeps only the newest `limit` entries (default
 * {@link CEILING_HISTORY_LIMIT}; a history already longer, e.g. after the limit was lowered, is
 * trimmed too). Returns a new array; the input is not modified.
 */
export function appendCeilingHistory(
  history: readonly CeilingHistoryEntry[] | undefined,
  entry: CeilingHistoryEntry,
  limit: number = CEILING_HISTORY_LIMIT,
): CeilingHistoryEntry[] {
  const all = [...(history ?? []), entry];
  return all.slice(Math.max(0, all.length - Math.max(0, Math.floor(limit))));
}

/**
 * Records a decision from `decideCeilingChange`: a `None` decision leaves the history as it is
 * (returned as a copy), anything else is appended with the given context. `policy` defaults to
 * the decision's own `policy` (set for FullReconsent).
 */
export function recordCeilingChange(
  history: readonly CeilingHistoryEntry[] | undefined,
  change: CeilingChange,
  context: HistoryContext,
  limit: number = CEILING_HISTORY_LIMIT,
): CeilingHistoryEntry[] {
  if (change.decision === 'None') return [...(history ?? [])];
  const policy = context.policy ?? change.policy;
  const entry: CeilingHistoryEntry = {
    time: context.time,
    added: [...change.added],
    removed: [...change.removed],
    decision: change.decision,
    ...(policy !== undefined ? { policy } : {}),
    ...(context.generation !== undefined ? { generation: context.generation } : {}),
  };
  return appendCeilingHistory(history, entry, limit);
}
