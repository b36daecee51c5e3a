/**
 * What GrantRevocations hold on an AgentClient, as pure functions the AgentClient controller
 * calls on every sync, so a hold survives whatever a GitOps re-apply does to the AgentClient:
 *
 * - a `Suspend` holds the client disabled at the IdP and the agent Secret absent;
 * - a `DeleteRegistration` holds the registration deleted (no re-registration).
 *
 * A hold lasts while the GrantRevocation exists, including while it is terminating with its
 * finalizer still on (the finalizer lifts the suspension at the IdP first). An AgentClient is
 * held when the spec selects it now, or when status records it as a target: removing a label or
 * losing a client_id does not escape a hold.
 */
import type { AgentClient } from '../agentclient/types.ts';
import { findResult, specSelects, statusRecords } from './plan.ts';
import { SUSPENSION_FINALIZER } from './types.ts';
import type { GrantRevocation, RevocationAction } from './types.ts';

/** One hold on an AgentClient. */
export interface Hold {
  /** The GrantRevocation holding it, `namespace/name` (the form of AgentClient `status.suspendedBy`). */
  name: string;
  /** Its `spec.reason`. */
  reason: string;
  /** RFC 3339: when the GrantRevocation was created. */
  since: string;
}

function holds(grev: GrantRevocation, agentClient: AgentClient, action: RevocationAction): boolean {
  if (!grev.spec.actions.includes(action)) return false;
  if (grev.metadata.namespace !== agentClient.metadata.namespace) return false;
  // Terminating with the finalizer already gone: the suspension has been lifted.
  if (grev.metadata.deletionTimestamp !== undefined && action === 'Suspend' && !grev.metadata.finalizers?.includes(SUSPENSION_FINALIZER)) return false;
  return specSelects(grev, agentClient) || statusRecords(grev, agentClient.metadata.name);
}

function toHolds(grevs: readonly GrantRevocation[]): Hold[] {
  return grevs
    .map((g) => ({ name: `${g.metadata.namespace}/${g.metadata.name}`, reason: g.spec.reason, since: g.metadata.creationTimestamp ?? '' }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The suspensions holding `agentClient`, sorted by name. While non-empty the AgentClient
 * controller shows `Suspended=True`, must not re-enable the client at the IdP and must not
 * (re)create the agent Secret.
 */
export function activeSuspensions(agentClient: AgentClient, grantRevocations: readonly GrantRevocation[]): Hold[] {
  return toHolds(grantRevocations.filter((g) => holds(g, agentClient, 'Suspend')));
}

/**
 * The registration deletions holding `agentClient`, sorted by name. While non-empty the
 * AgentClient controller shows `Registered=False` reason `DeletedByRevocation` and must not
 * register it again. A hold starts once the delete succeeded (before that the registration still
 * exists and the AgentClient controller keeps managing it as usual).
 */
export function registrationDeletions(agentClient: AgentClient, grantRevocations: readonly GrantRevocation[]): Hold[] {
  return toHolds(
    grantRevocations.filter(
      (g) => holds(g, agentClient, 'DeleteRegistration') && findResult(g, agentClient.metadata.name, 'DeleteRegistration')?.outcome === 'Succeeded',
    ),
  );
}

/** A suspension to lift when `lifting` is deleted. */
export interface Lift {
  agentClient: AgentClient;
  clientId: string;
  /** Other suspensions still holding it: then the client stays disabled at the IdP. */
  stillHeldBy: Hold[];
  /**
   * No Suspend result is recorded for it (a crash, or a copy of the object older than the write):
   * it may have been disabled, so it is re-enabled anyway (idempotent at the IdP).
   */
  outcomeUnknown: boolean;
}

/**
 * What deleting `lifting` must undo: each existing target it suspended (by recorded client_id),
 * and each target it may have suspended without a recorded result (the finalizer is added before
 * any IdP call, so a Suspend may have disabled the client before its result was written), unless
 * another GrantRevocation still suspends it. A Suspend recorded as Failed or Unsupported disabled
 * nothing. Targets whose AgentClient is gone are not re-enabled: nothing of ours would use the
 * registration any more.
 */
export function planLift(lifting: GrantRevocation, agentClients: readonly AgentClient[], grantRevocations: readonly GrantRevocation[]): Lift[] {
  const others = grantRevocations.filter((g) => g.metadata.uid !== lifting.metadata.uid || g.metadata.name !== lifting.metadata.name);
  const inNamespace = agentClients.filter((a) => a.metadata.namespace === lifting.metadata.namespace);
  const lifts: Lift[] = [];
  const seen = new Set<string>();
  for (const target of lifting.status?.targets ?? []) {
    const suspend = target.results.find((r) => r.action === 'Suspend');
    if (suspend) seen.add(target.agentClient);
    if (suspend?.outcome !== 'Succeeded' || target.clientId === undefined) continue;
    const agentClient = inNamespace.find((a) => a.metadata.name === target.agentClient);
    if (!agentClient) continue;
    lifts.push({ agentClient, clientId: target.clientId, stillHeldBy: activeSuspensions(agentClient, others), outcomeUnknown: false });
  }
  if (!lifting.spec.actions.includes('Suspend')) return lifts;
  for (const agentClient of inNamespace) {
    const name = agentClient.metadata.name;
    const clientId = agentClient.status?.clientId;
    if (seen.has(name) || clientId === undefined) continue;
    if (!specSelects(lifting, agentClient) && !statusRecords(lifting, name)) continue;
    lifts.push({ agentClient, clientId, stillHeldBy: activeSuspensions(agentClient, others), outcomeUnknown: true });
  }
  return lifts;
}

/** Prefix of the rotation requests GrantRevocations write to `agentidentity.dev/rotate`. */
export const IMMEDIATE_ROTATION_PREFIX = 'revocation:';

/** The rotation request a GrantRevocation's RotateCredentials writes (one per GrantRevocation). */
export function immediateRotationRequest(grev: GrantRevocation): string {
  return `${IMMEDIATE_ROTATION_PREFIX}${grev.metadata.uid ?? `${grev.metadata.namespace}/${grev.metadata.name}`}`;
}

/**
 * Whether a rotation request comes from a GrantRevocation: the AgentClient controller must then
 * rotate with no overlap (the old key leaves the registration in the same step), because the old
 * key is presumed compromised.
 */
export function isImmediateRotationRequest(request: string | undefined): boolean {
  return request?.startsWith(IMMEDIATE_ROTATION_PREFIX) ?? false;
}
