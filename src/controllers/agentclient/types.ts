/**
 * The AgentClient as this controller handles it: the generated API types, with the metadata the
 * controller relies on (name, namespace, uid) made required once the object has been checked.
 */
import type {
  AgentClientSpec,
  AgentClientStatus,
  AgentClientStatusCeilingHistoryItem,
  AgentClientStatusCredentials,
} from '../../api/v1alpha1/index.ts';
import type { KubeObject, ObjectMeta } from '../../runtime/kube/types.ts';

export type { AgentClientSpec, AgentClientStatus };
export type CredentialsStatus = AgentClientStatusCredentials;
export type CeilingChange = AgentClientStatusCeilingHistoryItem;
export type AuthMethod = NonNullable<AgentClientSpec['tokenEndpointAuthMethod']>;
export type KeyAlgorithm = NonNullable<NonNullable<AgentClientSpec['credentials']>['keyAlgorithm']>;
export type GrantType = NonNullable<AgentClientSpec['grantTypes']>[number];

export interface AgentClientMeta extends ObjectMeta {
  name: string;
  namespace: string;
  uid: string;
}

export interface AgentClient extends KubeObject {
  metadata: AgentClientMeta;
  spec: AgentClientSpec;
  status?: AgentClientStatus;
}
