/**
 * Lifting a suspension: deleting a GrantRevocation that holds `Suspend` runs this before its
 * finalizer goes. For each client it suspended and no other GrantRevocation still suspends, the
 * client is re-enabled at the IdP, an audit record is written and `SuspensionLifted` Events go to
 * the AgentClient and the GrantRevocation. The AgentClient controller then recreates the agent
 * Secret (its hold is gone once the object is).
 *
 * An IdP that cannot be reached keeps the finalizer (retried with backoff, Ready=False reason
 * Lifting says why): removing it by hand lifts the hold in Kubernetes but leaves the client
 * disabled at the IdP (docs/operations/incident-response.md).
 */
import { isIdpError } from '../../idp/errors.ts';
import { disabledByPolicy } from '../agentclient/nothing-allowed.ts';
import { removeFinalizer } from '../../runtime/finalizers.ts';
import type { KubeObject } from '../../runtime/kube/types.ts';
import { auditRecord, emitAudit } from './audit.ts';
import { readyState, summarize } from './status.ts';
import { planLift } from './suspension.ts';
import type { Lift } from './suspension.ts';
import type { SyncDeps } from './sync.ts';
import { asKube, iso } from './sync.ts';
import { GrantRevocations, LIFT_REASON_ANNOTATION, LIFTED_BY_ANNOTATION, RetryLater, SUSPENSION_FINALIZER } from './types.ts';
import type { GrantRevocation } from './types.ts';

const UNKNOWN_LIFTER = `unknown (no ${LIFTED_BY_ANNOTATION} annotation; see the API server audit log for the DELETE)`;

export async function liftSuspensions(deps: SyncDeps, cached: GrantRevocation, signal: AbortSignal): Promise<void> {
  const key = `${cached.metadata.namespace}/${cached.metadata.name}`;
  if (!cached.metadata.finalizers?.includes(SUSPENSION_FINALIZER)) return;
  const grev = await freshCopy(deps, key, cached);
  if (!grev?.metadata.finalizers?.includes(SUSPENSION_FINALIZER)) return;
  const { namespace } = grev.metadata;
  const lifts = planLift(grev, deps.caches.agentClients(namespace), deps.caches.grantRevocations(namespace));
  for (const lift of lifts) {
    const problem = await liftOne(deps, grev, lift, signal);
    if (problem) {
      const ready = readyState({ tally: { requested: 0, succeeded: 0, failed: 0, unsupported: 0 }, remaining: 1, waiting: { reason: 'Lifting', message: problem }, holdsSuspension: true });
      const status = summarize(grev.status, { grev, ready, now: iso(deps.clock) });
      await deps.client.patch(GrantRevocations, grev.metadata.name, namespace, 'merge', { status }, { subresource: 'status' });
      void deps.recorder.event(asKube(grev), 'Warning', 'LiftFailed', problem);
      throw new RetryLater(problem);
    }
  }
  await removeFinalizer(deps.client, GrantRevocations, asKube(grev), SUSPENSION_FINALIZER);
  deps.memory.forget(key);
}

/**
 * The object to plan the lift from: the cached copy may predate our own last status write (a
 * Suspend result written just after the delete), and a lift planned from it would skip the
 * client that write recorded as disabled. Re-read directly unless the cache is known to hold
 * every write of ours, as prepare() in sync.ts does. Undefined when the object is gone.
 */
async function freshCopy(deps: SyncDeps, key: string, cached: GrantRevocation): Promise<GrantRevocation | undefined> {
  if (deps.versions.fresh(key, cached.metadata.uid, cached.metadata.resourceVersion, cached.status !== undefined)) return cached;
  const fresh = await deps.client.get<KubeObject>(GrantRevocations, cached.metadata.name, cached.metadata.namespace);
  if (!fresh || fresh.metadata?.uid !== cached.metadata.uid) return undefined;
  return fresh as unknown as GrantRevocation;
}

/** Re-enables one client; resolves a secret-free problem when it could not be done now. */
async function liftOne(deps: SyncDeps, grev: GrantRevocation, lift: Lift, signal: AbortSignal): Promise<string | undefined> {
  const agentName = lift.agentClient.metadata.name;
  const grevName = `${grev.metadata.namespace}/${grev.metadata.name}`;
  if (lift.stillHeldBy.length > 0) {
    const others = lift.stillHeldBy.map((h) => h.name).join(', ');
    void deps.recorder.event(lift.agentClient, 'Normal', 'SuspensionStillHeld', `GrantRevocation ${grevName} deleted; still suspended by ${others}`);
    return undefined;
  }
  const idp = lift.agentClient.spec.identityProviderRef.name;
  const lookup = deps.providers(idp);
  if ('waiting' in lookup) return `cannot re-enable client ${lift.clientId}: IdentityProvider ${idp}: ${lookup.waiting}`;
  const heldByPolicy = disabledByPolicy(lift.agentClient);
  let note = lift.outcomeUnknown
    ? `client ${lift.clientId} re-enabled at IdentityProvider ${idp} (no Suspend result was recorded, so it may have been disabled)`
    : `client ${lift.clientId} re-enabled at IdentityProvider ${idp}`;
  try {
    // No ConsentPolicy allows it anything: the AgentClient controller holds it disabled and
    // re-enables it once one does (agentclient/nothing-allowed.ts).
    if (heldByPolicy) note = `client ${lift.clientId} stays disabled at IdentityProvider ${idp}: no ConsentPolicy allows it any scope`;
    else await lookup.provider.adapter.setDisabled(lift.clientId, false, signal);
  } catch (error) {
    if (isIdpError(error) && error.code === 'NotFound') {
      note = `client ${lift.clientId} no longer exists at IdentityProvider ${idp}; nothing to re-enable`;
    } else {
      const message = isIdpError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
      return `cannot re-enable client ${lift.clientId} of AgentClient ${agentName}: ${message}`;
    }
  }
  const actor = grev.metadata.annotations?.[LIFTED_BY_ANNOTATION] || UNKNOWN_LIFTER;
  const why = grev.metadata.annotations?.[LIFT_REASON_ANNOTATION];
  emitAudit(deps.log, auditRecord({
    grev, action: 'LiftSuspension', call: heldByPolicy ? 'none' : 'setDisabled(false)', idp, clientId: lift.clientId, agentClient: agentName, actor, outcome: 'Succeeded',
    ...(why ? { liftReason: why } : {}),
  }));
  const message = `suspension by GrantRevocation ${grevName} lifted by ${actor}${why ? ` (${why})` : ''}: ${note}`;
  void deps.recorder.event(lift.agentClient, 'Normal', 'SuspensionLifted', message);
  void deps.recorder.event(asKube(grev), 'Normal', 'SuspensionLifted', message);
  return undefined;
}
