/**
 * GrantRevocation rendering: the live progress line and per-result lines shown while `revoke`
 * waits, and the final per-target table.
 */
import { phaseOf, type GrantRevocation, type RevocationResult, type RevocationTarget } from '../api.ts';
import { styleForState, type Palette } from './color.ts';
import { formatDuration } from './duration.ts';
import { renderTable, type Cell } from './table.ts';

/** One result of one target, flattened. */
export interface TargetResult {
  target: RevocationTarget;
  result: RevocationResult;
}

/** Every result of every target, in status order. */
export function allResults(revocation: GrantRevocation): TargetResult[] {
  return (revocation.status?.targets ?? []).flatMap((target) => (target.results ?? []).map((result) => ({ target, result })));
}

/** Identity of a result, so results seen on an earlier watch event are not printed twice. */
export function resultKey({ target, result }: TargetResult): string {
  return JSON.stringify([target.agentClient ?? '', target.clientId ?? '', result.action, result.call ?? '', result.time ?? '', result.outcome]);
}

function counts(result: RevocationResult): string {
  const parts: string[] = [];
  if (result.grantsRevoked !== undefined) parts.push(`${result.grantsRevoked} grants`);
  if (result.tokensRevoked !== undefined) parts.push(`${result.tokensRevoked} tokens`);
  return parts.join(', ');
}

const MARK: Readonly<Record<string, string>> = { Succeeded: '✓', Failed: '✗', Unsupported: '-' };

/** "✓ agent-a RevokeGrants (revokeClientGrants): Succeeded, 3 grants, 5 tokens". */
export function resultLine({ target, result }: TargetResult, p: Palette): string {
  const who = target.agentClient ?? target.clientId ?? '?';
  const style = styleForState(p, result.outcome);
  const detail = [counts(result), result.message].filter(Boolean).join('; ');
  return `${style(MARK[result.outcome] ?? '?')} ${who} ${result.action}${result.call ? ` (${result.call})` : ''}: ` +
    `${style(result.outcome)}${detail ? `, ${detail}` : ''}`;
}

/** "grantrevocation team-a/x: InProgress 4s, 2 targets, 3 results (1 failed)". */
export function progressLine(revocation: GrantRevocation, elapsedMs: number, p: Palette): string {
  const phase = phaseOf(revocation);
  const results = allResults(revocation);
  const failed = results.filter((r) => r.result.outcome === 'Failed').length;
  const targets = revocation.status?.targets?.length ?? 0;
  const parts = [`${targets} target${targets === 1 ? '' : 's'}`, `${results.length} result${results.length === 1 ? '' : 's'}`];
  const ref = `${revocation.metadata.namespace ?? ''}/${revocation.metadata.name ?? ''}`;
  return `grantrevocation ${ref}: ${styleForState(p, phase)(phase)} ${formatDuration(elapsedMs)}, ${parts.join(', ')}` +
    (failed ? p.red(` (${failed} failed)`) : '');
}

/** The final per-target table: one row per result, or a row per target without results. */
export function targetsTable(revocation: GrantRevocation, options: { palette: Palette; width?: number }): string {
  const p = options.palette;
  const rows: Cell[][] = [];
  for (const target of revocation.status?.targets ?? []) {
    const results = target.results ?? [];
    if (!results.length) rows.push([target.agentClient ?? '-', target.clientId ?? '-', '-', '-', '-', '-', '-', '']);
    for (const r of results) {
      rows.push([
        target.agentClient ?? '-',
        target.clientId ?? '-',
        r.action,
        r.call ?? '-',
        { text: r.outcome, style: styleForState(p, r.outcome) },
        r.grantsRevoked === undefined ? '-' : String(r.grantsRevoked),
        r.tokensRevoked === undefined ? '-' : String(r.tokensRevoked),
        r.message ?? '',
      ]);
    }
  }
  return renderTable(
    [
      { header: 'AGENT', min: 10 },
      { header: 'CLIENT-ID', min: 9 },
      { header: 'ACTION', shrink: false },
      { header: 'CALL', min: 4 },
      { header: 'OUTCOME', shrink: false },
      { header: 'GRANTS', shrink: false },
      { header: 'TOKENS', shrink: false },
      { header: 'MESSAGE', min: 7 },
    ],
    rows,
    { width: options.width },
  );
}

/** A summary line printed after the table: phase, who asked, how long it took. */
export function revocationSummary(revocation: GrantRevocation, p: Palette): string {
  const phase = phaseOf(revocation);
  const s = revocation.status;
  const took =
    s?.startTime && s.completionTime ? ` in ${formatDuration(Date.parse(s.completionTime) - Date.parse(s.startTime))}` : '';
  const by = s?.requestedBy?.username ? `, requested by ${s.requestedBy.username}` : '';
  const ready = s?.conditions?.find((c) => c.type === 'Ready');
  const why = phase === 'Failed' && ready?.message ? `: ${ready.message}` : '';
  return `grantrevocation ${revocation.metadata.namespace ?? ''}/${revocation.metadata.name ?? ''} ` +
    `${styleForState(p, phase)(phase)}${took}${by}${why}`;
}
