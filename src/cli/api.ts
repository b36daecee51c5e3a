/**
 * The parts of the agentidentity.dev/v1alpha1 API the plugin reads and writes. Spec and status
 * are the types generated from crds/; metadata is typed as it travels on the wire (timestamps
 * are RFC 3339 strings, not the Date objects client-node's V1ObjectMeta claims).
 */
import type {
  AgentClientSpec,
  AgentClientStatus,
  AgentClientStatusCeilingHistoryItem,
  Condition,
  GrantRevocationSpec,
  GrantRevocationStatus,
  GrantRevocationStatusTargetsItem,
  GrantRevocationStatusTargetsItemResultsItem,
} from '../api/v1alpha1/index.ts';
import { API_VERSION, GROUP, ROTATE_ANNOTATION, VERSION } from '../api/v1alpha1/index.ts';

export { API_VERSION, GROUP, VERSION };
export type { Condition, GrantRevocationSpec };
export type CeilingChange = AgentClientStatusCeilingHistoryItem;
export type RevocationTarget = GrantRevocationStatusTargetsItem;
export type RevocationResult = GrantRevocationStatusTargetsItemResultsItem;

export type Plural = 'agentclients' | 'grantrevocations';

/** Annotations the plugin writes. */
export const Annotations = {
  /** Any new value asks the operator to rotate credentials now. */
  rotate: ROTATE_ANNOTATION,
  /** The requesting user; an admission policy checks it equals the real user. */
  requestedBy: 'agentidentity.dev/requested-by',
  /** The requesting user's uid and groups (comma-joined), checked by the same policy. */
  requestedByUid: 'agentidentity.dev/requested-by-uid',
  requestedByGroups: 'agentidentity.dev/requested-by-groups',
  /** Why a suspension was lifted, recorded on the GrantRevocation before it is deleted. */
  liftReason: 'agentidentity.dev/lift-reason',
  /** Who lifted it. */
  liftedBy: 'agentidentity.dev/lifted-by',
} as const;

export const REVOCATION_ACTIONS = ['RevokeGrants', 'RotateCredentials', 'Suspend', 'DeleteRegistration'] as const;
export type RevocationAction = (typeof REVOCATION_ACTIONS)[number];
export type RevocationPhase = NonNullable<GrantRevocationStatus['phase']>;

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
}

export interface AgentClient {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: AgentClientSpec;
  status?: AgentClientStatus;
}

export interface GrantRevocation {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: GrantRevocationSpec;
  status?: GrantRevocationStatus;
}

/** The condition of `type`, if present. */
export function conditionOf(
  obj: { status?: { conditions?: Condition[] } | undefined },
  type: string,
): Condition | undefined {
  return obj.status?.conditions?.find((c) => c.type === type);
}

/** The revocation's phase; absent status means the operator has not picked it up yet. */
export function phaseOf(revocation: GrantRevocation): RevocationPhase {
  return revocation.status?.phase ?? 'Pending';
}

/** True once the phase is final (Completed or Failed). */
export function isFinished(revocation: GrantRevocation): boolean {
  const phase = phaseOf(revocation);
  return phase === 'Completed' || phase === 'Failed';
}
