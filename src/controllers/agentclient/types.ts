/**
 * The AgentClient shape this controller reads and writes, per the API contract
 * (agentidentity.dev/v1alpha1). Kept local so the controller compiles on its own; field names
 * match the CRD exactly.
 */

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

export type GrantType =
  | 'authorization_code'
  | 'refresh_token'
  | 'client_credentials'
  | 'urn:ietf:params:oauth:grant-type:token-exchange';

export type AuthMethod = 'private_key_jwt' | 'client_secret_basic' | 'none';
export type KeyAlgorithm = 'ES256' | 'RS256' | 'EdDSA';

export interface AgentMetadataSpec {
  owner: string;
  agentType?: string;
  capabilityVersion?: string;
  description?: string;
  contact?: string;
  extra?: Record<string, string>;
}

export interface CredentialsSpec {
  secretName?: string;
  keyAlgorithm?: KeyAlgorithm;
  rotationPeriod?: string;
  overlap?: string;
  secretTemplate?: { labels?: Record<string, string>; annotations?: Record<string, string> };
}

export interface AgentClientSpec {
  identityProviderRef: { name: string };
  clientName: string;
  grantTypes?: GrantType[];
  redirectUris?: string[];
  scopes: string[];
  tokenEndpointAuthMethod?: AuthMethod;
  agentMetadata: AgentMetadataSpec;
  credentials?: CredentialsSpec;
  deletionPolicy?: 'Delete' | 'Orphan';
}

export interface CredentialsStatus {
  secretName?: string;
  keyId?: string;
  previousKeyId?: string;
  lastRotationTime?: string;
  nextRotationTime?: string;
  overlapUntil?: string;
  lastRotationRequest?: string;
  rotationSupport?: 'Overlap' | 'Immediate' | 'Unsupported';
  rotationMessage?: string;
}

export interface CeilingChange {
  time: string;
  added: string[];
  removed: string[];
  decision: 'Initial' | 'Delta' | 'FullReconsent' | 'PolicyNarrowed';
  policy?: string;
  generation?: number;
}

export interface AgentClientStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  clientId?: string;
  identityProvider?: string;
  registeredAt?: string;
  grantedScopes?: string[];
  deniedScopes?: { scope: string; reason: string; policy?: string }[];
  credentials?: CredentialsStatus;
  ceilingHistory?: CeilingChange[];
  policies?: string[];
  suspendedBy?: string[];
}

export interface ObjectMetaLite {
  name: string;
  namespace: string;
  uid: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  deletionTimestamp?: string | Date;
}

export interface AgentClient {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMetaLite;
  spec: AgentClientSpec;
  status?: AgentClientStatus;
}
