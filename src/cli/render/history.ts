/**
 * `kubectl agentid history`: how an agent came to hold its scopes. The operator keeps
 * status.ceilingHistory oldest first (bounded to 20); people read it newest first.
 */
import { phaseOf, type AgentClient, type CeilingChange, type GrantRevocation } from '../api.ts';
import { styleForState, type Palette } from './color.ts';
import { formatAge, formatTimestamp } from './duration.ts';
import { renderTable, type Cell } from './table.ts';

/** Ceiling changes newest first (by time; ties keep the operator's order, later entry first). */
export function newestFirst(history: readonly CeilingChange[]): CeilingChange[] {
  return history
    .map((entry, index) => ({ entry, index }))
    .sort((a, b) => Date.parse(b.entry.time) - Date.parse(a.entry.time) || b.index - a.index)
    .map(({ entry }) => entry);
}

/**
 * Whether `revocation` targeted `agent`: by name, by its client_id, or (for selector targets) as
 * one of the targets the operator resolved and reported in status.
 */
export function targetsAgent(revocation: GrantRevocation, agent: AgentClient): boolean {
  const name = agent.metadata.name;
  const ns = agent.metadata.namespace;
  const clientId = agent.status?.clientId;
  const t = revocation.spec.target;
  if (revocation.metadata.namespace === ns && t.agentClientName === name) return true;
  if (clientId && t.clientId === clientId) return true;
  return (revocation.status?.targets ?? []).some(
    (target) =>
      (clientId !== undefined && target.clientId === clientId) ||
      target.agentClient === `${ns}/${name}` ||
      (revocation.metadata.namespace === ns && target.agentClient === name),
  );
}

function decisionStyle(p: Palette, decision: string): (s: string) => string {
  if (decision === 'FullReconsent') return p.yellow;
  if (decision === 'PolicyNarrowed') return p.red;
  return (s) => s;
}

/** TIME, DECISION, ADDED, REMOVED, POLICY, GEN: one row per ceiling change, newest first. */
export function ceilingHistoryTable(history: readonly CeilingChange[], options: { palette: Palette; width?: number }): string {
  const rows = newestFirst(history).map((h): Cell[] => [
    formatTimestamp(h.time),
    { text: h.decision, style: decisionStyle(options.palette, h.decision) },
    h.added?.length ? h.added.map((s) => `+${s}`).join(' ') : '-',
    h.removed?.length ? h.removed.map((s) => `-${s}`).join(' ') : '-',
    h.policy ?? '-',
    h.generation === undefined ? '-' : String(h.generation),
  ]);
  return renderTable(
    [
      { header: 'TIME (UTC)', shrink: false },
      { header: 'DECISION', shrink: false },
      { header: 'ADDED', min: 8 },
      { header: 'REMOVED', min: 8 },
      { header: 'POLICY', min: 6 },
      { header: 'GEN', shrink: false },
    ],
    rows,
    { width: options.width },
  );
}

/** NAME, PHASE, ACTIONS, SUBJECT, BY, AGE, REASON: GrantRevocations newest first. */
export function revocationsTable(
  revocations: readonly GrantRevocation[],
  options: { palette: Palette; now: number; width?: number },
): string {
  const sorted = [...revocations].sort(
    (a, b) => Date.parse(b.metadata.creationTimestamp ?? '') - Date.parse(a.metadata.creationTimestamp ?? ''),
  );
  const rows = sorted.map((r): Cell[] => {
    const phase = phaseOf(r);
    return [
      r.metadata.name ?? '',
      { text: phase, style: styleForState(options.palette, phase) },
      r.spec.actions.join(','),
      r.spec.subject ?? '*',
      r.status?.requestedBy?.username ?? r.metadata.annotations?.['agentidentity.dev/requested-by'] ?? '-',
      formatAge(r.metadata.creationTimestamp, options.now),
      r.spec.reason + (r.spec.incidentRef ? ` [${r.spec.incidentRef}]` : ''),
    ];
  });
  return renderTable(
    [
      { header: 'NAME', min: 10 },
      { header: 'PHASE', shrink: false },
      { header: 'ACTIONS', min: 7 },
      { header: 'SUBJECT', min: 7 },
      { header: 'BY', min: 6 },
      { header: 'AGE', shrink: false },
      { header: 'REASON', min: 6 },
    ],
    rows,
    { width: options.width },
  );
}
