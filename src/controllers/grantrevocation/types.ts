/**
 * The GrantRevocation shape this controller reads and writes, per the API contract
 * (agentidentity.dev/v1alpha1). Field names match the CRD exactly; every field is optional where
 * the API server may omit it, so objects read from the cache can be passed as they are.
 */
import type { LabelSelector } from '../../policy/types.ts';
import type { Condition, ResourceType } from '../../runtime/kube/types.ts';

export const GrantRevocations: ResourceType = { group: 'agentidentity.dev', version: 'v1alpha1', plural: 'grantrevocations', kind: 'GrantRevocation', namespaced: true };
export const AgentClients: ResourceType = { group: 'agentidentity.dev', version: 'v1alpha1', plural: 'agentclients', kind: 'AgentClient', namespaced: true };

/** Thrown after status is written, so the queue retries the key with backoff. */
export class RetryLater extends Error {
  override readonly name = 'RetryLater';
  readonly retryAfterSeconds: number | undefined;
  constructor(message: string, retryAfterSeconds?: number) {
    super(message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export type RevocationAction = 'RevokeGrants' | 'RotateCredentials' | 'Suspend' | 'DeleteRegistration';

/**
 * The order actions run in on one target: containment first (a suspended client can obtain no
 * new token while its grants are being revoked), then revocation, then new credentials, and the
 * registration delete last because RFC 7592 DELETE does not revoke what the client holds.
 */
export const ACTION_ORDER: readonly RevocationAction[] = ['Suspend', 'RevokeGrants', 'RotateCredentials', 'DeleteRegistration'];

export type Outcome = 'Succeeded' | 'Failed' | 'Unsupported';
export type Phase = 'Pending' | 'InProgress' | 'Completed' | 'Failed';

export interface RevocationTarget {
  agentClientName?: string;
  selector?: LabelSelector;
  clientId?: string;
}

export interface GrantRevocationSpec {
  target: RevocationTarget;
  subject?: string;
  scopes?: string[];
  actions: RevocationAction[];
  reason: string;
  incidentRef?: string;
}

/** One action's result on one target. Never holds a credential value. */
export interface ActionResult {
  action: RevocationAction;
  /** Which IdP call (or Kubernetes step) did it, e.g. `DELETE /admin/grants`. */
  call: string;
  outcome: Outcome;
  grantsRevoked?: number;
  tokensRevoked?: number;
  message?: string;
  time: string;
}

export interface TargetStatus {
  /** AgentClient name (same namespace as the GrantRevocation). */
  agentClient: string;
  /** The client_id the last action on this target acted on. */
  clientId?: string;
  results: ActionResult[];
}

export interface RequestedBy {
  username: string;
  uid?: string;
  groups?: string[];
}

/** metav1.Condition, as the runtime defines it. */
export type { Condition };

export interface GrantRevocationStatus {
  phase?: Phase;
  conditions?: Condition[];
  observedGeneration?: number;
  startTime?: string;
  completionTime?: string;
  requestedBy?: RequestedBy;
  targets?: TargetStatus[];
}

export interface GrantRevocation {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
  };
  spec: GrantRevocationSpec;
  status?: GrantRevocationStatus;
}

/** Finalizer held by a GrantRevocation with `Suspend`: deleting it lifts the suspension first. */
export const SUSPENSION_FINALIZER = 'agentidentity.dev/suspension';

/** The AgentClient's rotation request annotation (API.md). */
export const ROTATE_ANNOTATION = 'agentidentity.dev/rotate';

/** Stamped by the MutatingAdmissionPolicy in config/admission/ (and checked by the validating one). */
export const REQUESTED_BY_ANNOTATION = 'agentidentity.dev/requested-by';
export const REQUESTED_BY_UID_ANNOTATION = 'agentidentity.dev/requested-by-uid';
export const REQUESTED_BY_GROUPS_ANNOTATION = 'agentidentity.dev/requested-by-groups';
/**
 * Who lifts a suspension: set (by `kubectl agentid` or by hand) just before deleting the
 * GrantRevocation; the validating admission policy only lets a user write their own name.
 */
export const LIFTED_BY_ANNOTATION = 'agentidentity.dev/lifted-by';
/** Why the suspension is lifted (set with {@link LIFTED_BY_ANNOTATION}, e.g. by `kubectl agentid lift`). */
export const LIFT_REASON_ANNOTATION = 'agentidentity.dev/lift-reason';

/** What status says when no admission step stamped the requester (never guessed). */
export const UNKNOWN_REQUESTER = 'unknown (no admission stamp)';

export function grantRevocationKey(grev: Pick<GrantRevocation, 'metadata'>): string {
  return `${grev.metadata.namespace}/${grev.metadata.name}`;
}
