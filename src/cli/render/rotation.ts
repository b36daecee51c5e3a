/**
 * What `rotate` prints once the operator has handled a rotation request.
 */
import { conditionOf, type AgentClient } from '../api.ts';
import { formatRelative } from './duration.ts';

/** `rotate -o json`: a flat shape for scripts. */
export interface RotationReport {
  namespace: string;
  name: string;
  request: string;
  handled: boolean;
  credentialsReady: string;
  credentialsReason: string | null;
  keyId: string | null;
  previousKeyId: string | null;
  lastRotationTime: string | null;
  overlapUntil: string | null;
  rotationSupport: string | null;
}

/** The report for `agent` after `request` was handled. */
export function rotationReport(agent: AgentClient, request: string): RotationReport {
  const c = agent.status?.credentials ?? {};
  const ready = conditionOf(agent, 'CredentialsReady');
  return {
    namespace: agent.metadata.namespace ?? '',
    name: agent.metadata.name ?? '',
    request,
    handled: agent.status?.credentials?.lastRotationRequest === request,
    credentialsReady: ready?.status ?? 'Unknown',
    credentialsReason: ready?.reason ?? null,
    keyId: c.keyId ?? null,
    previousKeyId: c.previousKeyId ?? null,
    lastRotationTime: c.lastRotationTime ?? null,
    overlapUntil: c.overlapUntil ?? null,
    rotationSupport: c.rotationSupport ?? null,
  };
}

/** Human lines: when it rotated, the new key, until when the previous one is accepted. */
export function rotationText(agent: AgentClient, request: string, now: number): string {
  const r = rotationReport(agent, request);
  const message = agent.status?.credentials?.rotationMessage;
  const lines = [
    `agentclient ${r.namespace}/${r.name}: rotation ${request} handled`,
    `  rotated:   ${formatRelative(r.lastRotationTime ?? undefined, now)}${r.keyId ? `, key ${r.keyId}` : ''}`,
  ];
  if (r.previousKeyId || r.overlapUntil) {
    lines.push(`  previous:  ${r.previousKeyId ?? '-'} accepted until ${r.overlapUntil ?? '-'} (${formatRelative(r.overlapUntil ?? undefined, now)})`);
  }
  if (r.rotationSupport) lines.push(`  support:   ${r.rotationSupport}${message ? `: ${message}` : ''}`);
  return `${lines.join('\n')}\n`;
}
