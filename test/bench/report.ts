/** The benchmark's report: JSON (the full figures) and a table (one line per target). */
import type { BacklogResult } from './scenarios/backlog.ts';
import type { FloorResult } from './scenarios/floor.ts';
import type { IdleResult } from './scenarios/idle.ts';
import type { PolicyResult } from './scenarios/policy.ts';
import type { RestartResult } from './scenarios/restart.ts';
import type { RevocationResult } from './scenarios/revocation.ts';
import type { ScaleResult } from './scenarios/scale.ts';
import { median } from './scenarios/rounds.ts';

export type NotMeasured = { notMeasured: string };

export interface BenchResults {
  environment: Record<string, unknown>;
  floor?: FloorResult | NotMeasured;
  /** The floor without the finalizer patch (as reported before the finalizer was counted as a minimal call). */
  bareFloor?: FloorResult | NotMeasured;
  backlog?: BacklogResult | NotMeasured;
  idle?: IdleResult | NotMeasured;
  restart?: RestartResult | NotMeasured;
  scale?: ScaleResult | NotMeasured;
  policyChange?: PolicyResult | NotMeasured;
  /** Seconds to all Ready, per round (--rounds), for each floor and the operator. */
  rounds?: { bareFloor: number[]; floor: number[]; operator: number[] };
}

export interface TargetRow {
  target: string;
  goal: string;
  measured: string;
  /** null: not measured. */
  pass: boolean | null;
}

const measured = <T extends object>(r: T | NotMeasured | undefined): r is T => r !== undefined && !('notMeasured' in r);
const why = (r: { notMeasured: string } | object | undefined, fallback: string): string =>
  r && 'notMeasured' in r ? `not measured: ${r.notMeasured}` : `not measured: ${fallback}`;

export function targets(results: BenchResults, agents: number, scale: number, idleSeconds: number): TargetRow[] {
  const rows: TargetRow[] = [];
  const { floor, backlog, idle, restart } = results;
  const n = agents.toLocaleString('en');
  const r = results.rounds;
  const many = r !== undefined && r.operator.length > 1;
  const series = (values: number[] | undefined, single: number): { value: number; text: string } =>
    many && values && values.length > 0 ? { value: median(values), text: `median of ${values.map((v) => v.toFixed(1)).join(', ')}` } : { value: single, text: single.toFixed(1) };
  if (measured(floor) && measured(backlog)) {
    const op = series(r?.operator, backlog.seconds);
    const fl = series(r?.floor, floor.seconds);
    const ratio = op.value / fl.value;
    rows.push({
      target: `${n} AgentClients Ready: operator / floor`,
      goal: '<= 1.5',
      measured: `${ratio.toFixed(2)} (${op.text} s / ${fl.text} s)`,
      pass: ratio <= 1.5,
    });
  } else {
    rows.push({ target: `${n} AgentClients Ready: operator / floor`, goal: '<= 1.5', measured: why(measured(backlog) ? floor : backlog, 'scenario failed'), pass: null });
  }
  const bare = results.bareFloor;
  if (measured(bare) && measured(backlog)) {
    const op = series(r?.operator, backlog.seconds);
    const fl = series(r?.bareFloor, bare.seconds);
    rows.push({
      target: `${n} AgentClients Ready: operator / bare floor (no finalizer)`,
      goal: 'report',
      measured: `${(op.value / fl.value).toFixed(2)} (${op.text} s / ${fl.text} s)`,
      pass: null,
    });
  }
  const revocation = measured(backlog) ? backlog.revocation : undefined;
  if (revocation && measured<RevocationResult>(revocation) && revocation.completedP99Seconds !== undefined) {
    const p99 = revocation.completedP99Seconds;
    rows.push({
      target: 'GrantRevocation during backlog: created -> Completed, p99',
      goal: '<= 2 s',
      measured: `${Number.isFinite(p99) ? p99.toFixed(3) : 'never'} s (p50 ${revocation.completedP50Seconds?.toFixed(3) ?? '-'} s; to the IdP call p99 ${revocation.idpCallP99Seconds?.toFixed(3) ?? '-'} s; ${revocation.runs.length} runs, ${revocation.runsDuringBacklog} during backlog)`,
      pass: p99 <= 2,
    });
  } else {
    rows.push({ target: 'GrantRevocation during backlog: created -> Completed, p99', goal: '<= 2 s', measured: why(revocation ?? backlog, 'scenario failed'), pass: null });
  }
  const idleName = `Idle ${idleSeconds} s with ${n} Ready`;
  if (measured(idle)) {
    rows.push({ target: `${idleName}: API writes`, goal: '0', measured: String(idle.apiWrites.total), pass: idle.apiWrites.total === 0 });
    rows.push({ target: `${idleName}: IdP calls`, goal: '0', measured: String(idle.idpCalls.total), pass: idle.idpCalls.total === 0 });
  } else {
    rows.push({ target: `${idleName}: API writes`, goal: '0', measured: why(idle, 'scenario failed'), pass: null });
    rows.push({ target: `${idleName}: IdP calls`, goal: '0', measured: why(idle, 'scenario failed'), pass: null });
  }
  if (measured(restart)) {
    rows.push({ target: 'Restart: IdP re-registrations', goal: '0', measured: `${restart.registrations} (IdP calls: ${restart.idpCalls.total})`, pass: restart.registrations === 0 });
    rows.push({
      target: 'Restart: ready again (/readyz + queues drained)',
      goal: '<= 15 s',
      measured: `${restart.readySeconds.toFixed(2)} s (/readyz ${restart.readyzSeconds.toFixed(2)} s)`,
      pass: restart.readySeconds <= 15 && restart.notReadyAfter === 0,
    });
  } else {
    rows.push({ target: 'Restart: IdP re-registrations', goal: '0', measured: why(restart, 'scenario failed'), pass: null });
    rows.push({ target: 'Restart: ready again (/readyz + queues drained)', goal: '<= 15 s', measured: why(restart, 'scenario failed'), pass: null });
  }
  if (measured(backlog) && measured(idle)) {
    rows.push({ target: `Operator RSS at ${n} (peak / settled)`, goal: 'report', measured: `${Math.max(backlog.rssPeakMiB, idle.rssPeakMiB)} / ${idle.rssSettledMiB} MiB`, pass: null });
  }
  const scaleName = `Operator RSS at ${scale.toLocaleString('en')} AgentClients, peak`;
  if (measured(results.scale)) {
    rows.push({
      target: scaleName,
      goal: '< 200 MiB',
      measured: `${results.scale.rssPeakMiB} MiB (settled ${results.scale.rssSettledMiB} MiB; ${results.scale.parkedAgentClients} never registered)`,
      pass: results.scale.rssPeakMiB < 200,
    });
  } else {
    rows.push({ target: scaleName, goal: '< 200 MiB', measured: why(results.scale, 'scenario failed'), pass: null });
  }
  const policyName = `ConsentPolicy narrowing over ${n}: until all ceilings updated at the IdP`;
  const policy = results.policyChange;
  if (measured(policy)) {
    const g = policy.grantRevocations;
    const verified = policy.verifiedAtIdp.narrowed === policy.agents;
    rows.push({
      target: policyName,
      goal: 'report',
      measured:
        `${policy.idpAllNarrowedSeconds.toFixed(2)} s (p50 ${policy.idpNarrowedP50Seconds.toFixed(2)} s; status ${policy.statusAllUpdatedSeconds.toFixed(2)} s; ` +
        `${g.created} GrantRevocations, ${g.completed} Completed by ${g.allFinishedSeconds.toFixed(2)} s; verified ${policy.verifiedAtIdp.narrowed}/${policy.agents})`,
      pass: verified && g.complete ? null : false,
    });
  } else {
    rows.push({ target: policyName, goal: 'report', measured: why(policy, 'scenario failed'), pass: null });
  }
  return rows;
}

export function renderTable(rows: TargetRow[]): string {
  const header = { target: 'Target', goal: 'Goal', measured: 'Measured', result: 'Result' };
  const lines = rows.map((r) => ({ target: r.target, goal: r.goal, measured: r.measured, result: r.pass === null ? (r.measured.startsWith('not measured') ? 'n/a' : 'info') : r.pass ? 'PASS' : 'FAIL' }));
  const width = (key: keyof typeof header) => Math.max(header[key].length, ...lines.map((l) => l[key].length));
  const w = { target: width('target'), goal: width('goal'), measured: width('measured'), result: width('result') };
  const fmt = (l: typeof header) => `| ${l.target.padEnd(w.target)} | ${l.goal.padEnd(w.goal)} | ${l.measured.padEnd(w.measured)} | ${l.result.padEnd(w.result)} |`;
  const sep = `|-${'-'.repeat(w.target)}-|-${'-'.repeat(w.goal)}-|-${'-'.repeat(w.measured)}-|-${'-'.repeat(w.result)}-|`;
  return [fmt(header), sep, ...lines.map(fmt)].join('\n');
}

/** Per-agent averages of a `VERB resource -> count` table, for explaining a ratio. */
export function perAgent(byKey: Record<string, number>, agents: number): Record<string, number> {
  return Object.fromEntries(Object.entries(byKey).sort().map(([k, v]) => [k, Math.round((v / agents) * 100) / 100]));
}
