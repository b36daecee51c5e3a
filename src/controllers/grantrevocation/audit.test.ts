import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { auditRecord, emitAudit } from './audit.ts';
import { grev } from './testdata.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('audit record', () => {
  const g = grev({ subject: 'alice', incidentRef: 'INC-7', reason: 'laptop stolen' });

  it('carries the three identities and the outcome', () => {
    const { logger, lines } = capture();
    emitAudit(logger, auditRecord({ grev: g, action: 'RevokeGrants', call: 'DELETE /admin/grants', idp: 'dev', clientId: 'c-1', agentClient: 'coding-agent', actor: 'bob@example.com', outcome: 'Succeeded', grantsRevoked: 2, tokensRevoked: 5 }));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 30,
      audit: true,
      action: 'RevokeGrants',
      call: 'DELETE /admin/grants',
      idp: 'dev',
      clientId: 'c-1',
      subject: 'alice',
      actor: 'bob@example.com',
      grantRevocation: 'team-a/incident-42',
      agentClient: 'team-a/coding-agent',
      reason: 'laptop stolen',
      incidentRef: 'INC-7',
      outcome: 'Succeeded',
      counts: { grantsRevoked: 2, tokensRevoked: 5 },
      msg: 'audit: RevokeGrants succeeded',
    });
  });

  it('says all subjects and an unknown actor explicitly, and warns on failure', () => {
    const { logger, lines } = capture();
    emitAudit(logger, auditRecord({ grev: grev(), action: 'Suspend', call: 'PUT /admin/clients/{id}/disabled', idp: 'dev', clientId: undefined, agentClient: 'x', actor: undefined, outcome: 'Unsupported', message: 'no disableClient' }));
    expect(lines[0]).toMatchObject({ level: 40, subject: '*', actor: 'unknown (no admission stamp)', clientId: null, incidentRef: null, message: 'no disableClient' });
  });
});
