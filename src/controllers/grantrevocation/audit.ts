/**
 * The audit record: one structured log line per IdP action a GrantRevocation causes, carrying
 * the three identities DESIGN.md asks for: the agent (client_id), the user on whose behalf grants
 * were held (subject; all subjects when absent), and the Kubernetes user who requested the
 * revocation (stamped by admission, never guessed).
 *
 * Built from names, ids and counts only: no field can carry a credential.
 */
import type { Logger } from 'pino';
import type { GrantRevocation, Outcome, RevocationAction } from './types.ts';
import { UNKNOWN_REQUESTER } from './types.ts';

/** The lifecycle acts that are audited besides the four actions. */
export type AuditAction = RevocationAction | 'LiftSuspension';

export interface AuditRecord {
  audit: true;
  action: AuditAction;
  /** The IdP call, e.g. `DELETE /admin/grants`, or `none` when nothing needed calling. */
  call: string;
  /** IdentityProvider name. */
  idp: string;
  clientId: string | null;
  /** The user whose grants were revoked; `*` when all users'. */
  subject: string;
  /** The Kubernetes user who requested the revocation (`requestedBy.username`). */
  actor: string;
  /** `namespace/name` of the GrantRevocation. */
  grantRevocation: string;
  agentClient: string;
  reason: string;
  incidentRef: string | null;
  outcome: Outcome;
  counts: { grantsRevoked: number; tokensRevoked: number };
  /** Why it failed or was unsupported (secret-free by construction of IdpError messages). */
  message?: string;
  /** LiftSuspension only: the reason recorded on the GrantRevocation before its deletion. */
  liftReason?: string;
}

export interface AuditInput {
  grev: GrantRevocation;
  action: AuditAction;
  call: string;
  idp: string;
  clientId: string | undefined;
  agentClient: string;
  actor: string | undefined;
  outcome: Outcome;
  grantsRevoked?: number;
  tokensRevoked?: number;
  message?: string;
  liftReason?: string;
}

export function auditRecord(input: AuditInput): AuditRecord {
  const { grev } = input;
  return {
    audit: true,
    action: input.action,
    call: input.call,
    idp: input.idp,
    clientId: input.clientId ?? null,
    subject: grev.spec.subject ?? '*',
    actor: input.actor ?? UNKNOWN_REQUESTER,
    grantRevocation: `${grev.metadata.namespace}/${grev.metadata.name}`,
    agentClient: `${grev.metadata.namespace}/${input.agentClient}`,
    reason: grev.spec.reason,
    incidentRef: grev.spec.incidentRef ?? null,
    outcome: input.outcome,
    counts: { grantsRevoked: input.grantsRevoked ?? 0, tokensRevoked: input.tokensRevoked ?? 0 },
    ...(input.message === undefined ? {} : { message: input.message }),
    ...(input.liftReason === undefined ? {} : { liftReason: input.liftReason }),
  };
}

/** Writes the record at info (warn when not Succeeded) with a stable message for log queries. */
export function emitAudit(logger: Logger, record: AuditRecord): void {
  const msg = `audit: ${record.action} ${record.outcome.toLowerCase()}`;
  if (record.outcome === 'Succeeded') logger.info(record, msg);
  else logger.warn(record, msg);
}
