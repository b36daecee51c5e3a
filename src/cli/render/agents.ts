/**
 * `kubectl agentid status`: one summary per AgentClient (what scripts get with -o json) and its
 * rendering as a table or, for a single agent, as a detail view.
 */
import { conditionOf, type AgentClient } from '../api.ts';
import { styleForState, type Palette } from './color.ts';
import { formatAge, formatDuration, formatRelative } from './duration.ts';
import { renderTable, type Cell, type Column } from './table.ts';

/** What `status -o json` prints for each agent: a stable, flat shape for scripts. */
export interface AgentSummary {
  namespace: string;
  name: string;
  clientId: string | null;
  ready: string;
  readyReason: string | null;
  readyMessage: string | null;
  ceiling: string[];
  denied: { scope: string; reason: string; policy: string | null }[];
  policies: string[];
  policyCompliant: string;
  lastRotationTime: string | null;
  nextRotationTime: string | null;
  rotationSupport: string | null;
  suspended: boolean;
  suspendedBy: string[];
}

/** Reduces an AgentClient to its {@link AgentSummary}. */
export function summarizeAgent(agent: AgentClient): AgentSummary {
  const status = agent.status ?? {};
  const ready = conditionOf(agent, 'Ready');
  const suspendedBy = status.suspendedBy ?? [];
  return {
    namespace: agent.metadata.namespace ?? '',
    name: agent.metadata.name ?? '',
    clientId: status.clientId ?? null,
    ready: ready?.status ?? 'Unknown',
    readyReason: ready?.reason ?? null,
    readyMessage: ready?.message ?? null,
    ceiling: [...(status.grantedScopes ?? [])],
    denied: (status.deniedScopes ?? []).map((d) => ({ scope: d.scope, reason: d.reason, policy: d.policy ?? null })),
    policies: [...(status.policies ?? [])],
    policyCompliant: conditionOf(agent, 'PolicyCompliant')?.status ?? 'Unknown',
    ...rotationOf(agent),
    suspended: conditionOf(agent, 'Suspended')?.status === 'True' || suspendedBy.length > 0,
    suspendedBy: [...suspendedBy],
  };
}

function rotationOf(agent: AgentClient): Pick<AgentSummary, 'lastRotationTime' | 'nextRotationTime' | 'rotationSupport'> {
  const c = agent.status?.credentials ?? {};
  return {
    lastRotationTime: c.lastRotationTime ?? null,
    nextRotationTime: c.nextRotationTime ?? null,
    rotationSupport: c.rotationSupport ?? null,
  };
}

/** "ns/name" shortened to "name" when it lives in the agent's own namespace. */
function shortRef(ref: string, namespace: string): string {
  return ref.startsWith(`${namespace}/`) ? ref.slice(namespace.length + 1) : ref;
}

/** "no", or which GrantRevocations hold the suspension ("yes" until the operator reports them). */
function suspendedCell(s: AgentSummary, p: Palette): Cell {
  if (!s.suspended) return 'no';
  const by = s.suspendedBy.map((r) => shortRef(r, s.namespace)).join(',');
  return { text: by || 'yes', style: p.red };
}

/** Time until the next scheduled rotation ("26d20h"), "overdue 1h" once past, "-" without one. */
function nextRotation(s: AgentSummary, now: number): string {
  if (!s.nextRotationTime) return '-';
  const due = Date.parse(s.nextRotationTime);
  if (Number.isNaN(due)) return '-';
  return due <= now ? `overdue ${formatDuration(now - due)}` : formatDuration(due - now);
}

export interface RenderOptions {
  now: number;
  palette: Palette;
  width?: number;
}

/**
 * The status table; READY is the condition's status (its reason is in `status AGENT` and -o json),
 * ROTATED the age of the last rotation, NEXT the time until the next one, SUSPENDED the
 * GrantRevocations holding a suspension.
 * A NAMESPACE column is shown when agents span namespaces (`-A`).
 */
export function agentsTable(summaries: readonly AgentSummary[], options: RenderOptions & { allNamespaces: boolean }): string {
  const p = options.palette;
  const columns: Column[] = [
    ...(options.allNamespaces ? [{ header: 'NAMESPACE', min: 9 }] : []),
    { header: 'NAME', min: 10, weight: 1.5 },
    // Client IDs are long random strings at most IdPs: cut first (whole in -o json and `status AGENT`).
    { header: 'CLIENT-ID', min: 9, weight: 0.5 },
    { header: 'READY', shrink: false },
    { header: 'CEILING', min: 7, weight: 2.5 },
    { header: 'DENIED', shrink: false },
    { header: 'POLICY', min: 6 },
    { header: 'ROTATED', shrink: false },
    { header: 'NEXT', shrink: false },
    { header: 'SUSPENDED', min: 9, weight: 2.5 },
  ];
  const rows = summaries.map((s): Cell[] => [
    ...(options.allNamespaces ? [s.namespace] : []),
    s.name,
    s.clientId ?? '-',
    { text: s.ready, style: styleForState(p, s.ready) },
    s.ceiling.length ? s.ceiling.join(',') : '-',
    { text: String(s.denied.length), ...(s.denied.length ? { style: p.yellow } : {}) },
    {
      text: s.policies.length ? s.policies.join(',') : '<none>',
      ...(s.policyCompliant === 'False' ? { style: p.red } : {}),
    },
    formatAge(s.lastRotationTime ?? undefined, options.now),
    nextRotation(s, options.now),
    suspendedCell(s, p),
  ]);
  return renderTable(columns, rows, { width: options.width });
}

/** A key/value view of one agent, with every condition and denied scope spelled out. */
export function agentDetails(agent: AgentClient, options: RenderOptions): string {
  const p = options.palette;
  const s = summarizeAgent(agent);
  const suspension = s.suspendedBy.length ? ` by ${s.suspendedBy.join(', ')}` : '';
  const lines: string[] = [
    `${p.bold('Agent:')}        ${s.namespace}/${s.name}`,
    `Client ID:     ${s.clientId ?? '-'}`,
    `Issuer:        ${agent.status?.identityProvider ?? '-'}`,
    `Ready:         ${styleForState(p, s.ready)(s.ready)}${s.readyReason ? ` (${s.readyReason})` : ''}`,
    `Ceiling:       ${s.ceiling.join(' ') || '-'}`,
    `Policies:      ${s.policies.join(', ') || '<none>'}`,
    `Rotation:      last ${formatRelative(s.lastRotationTime ?? undefined, options.now)}, ` +
      `next ${formatRelative(s.nextRotationTime ?? undefined, options.now)}${s.rotationSupport ? `, ${s.rotationSupport}` : ''}`,
    `Suspended:     ${s.suspended ? p.red(`yes${suspension}`) : 'no'}`,
    ...deniedLines(s, p),
    ...conditionLines(agent, p),
  ];
  return lines.join('\n') + '\n';
}

function deniedLines(s: AgentSummary, p: Palette): string[] {
  if (!s.denied.length) return [];
  return ['Denied scopes:', ...s.denied.map((d) => `  ${p.yellow(d.scope)}: ${d.reason}${d.policy ? ` (policy ${d.policy})` : ''}`)];
}

function conditionLines(agent: AgentClient, p: Palette): string[] {
  const conditions = agent.status?.conditions ?? [];
  if (!conditions.length) return [];
  return [
    'Conditions:',
    ...conditions.map(
      (c) => `  ${c.type}=${styleForState(p, c.status)(c.status)}${c.reason ? ` ${c.reason}` : ''}${c.message ? `: ${c.message}` : ''}`,
    ),
  ];
}
