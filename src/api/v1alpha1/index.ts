/**
 * The agentidentity.dev/v1alpha1 API: constants and the types generated from the CRDs in
 * `crds/` (the single source of truth). Field docs live in the CRDs (`kubectl explain`) and in
 * docs/api.md.
 */
import type { AgentClient } from './generated/agentclient.ts';

export type * from './generated/common.ts';
export type * from './generated/identityprovider.ts';
export type * from './generated/agentclient.ts';
export type * from './generated/consentpolicy.ts';
export type * from './generated/grantrevocation.ts';

export const GROUP = 'agentidentity.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = 'agentidentity.dev/v1alpha1';

/** How to address each kind through the API server. */
export interface ResourceInfo {
  kind: string;
  listKind: string;
  plural: string;
  namespaced: boolean;
}

export const IDENTITY_PROVIDER = {
  kind: 'IdentityProvider',
  listKind: 'IdentityProviderList',
  plural: 'identityproviders',
  namespaced: false,
} as const satisfies ResourceInfo;

export const AGENT_CLIENT = {
  kind: 'AgentClient',
  listKind: 'AgentClientList',
  plural: 'agentclients',
  namespaced: true,
} as const satisfies ResourceInfo;

export const CONSENT_POLICY = {
  kind: 'ConsentPolicy',
  listKind: 'ConsentPolicyList',
  plural: 'consentpolicies',
  namespaced: false,
} as const satisfies ResourceInfo;

export const GRANT_REVOCATION = {
  kind: 'GrantRevocation',
  listKind: 'GrantRevocationList',
  plural: 'grantrevocations',
  namespaced: true,
} as const satisfies ResourceInfo;

/** Every kind of the API, in dependency order. */
export const RESOURCES = [IDENTITY_PROVIDER, CONSENT_POLICY, AGENT_CLIENT, GRANT_REVOCATION] as const;

/** Labels and annotations with a meaning in the API. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'agent-identity-operator';
/** On an operator-owned registration Secret: the uid of the AgentClient it belongs to. */
export const AGENT_CLIENT_UID_LABEL = 'agentidentity.dev/agentclient-uid';
/** On an AgentClient: any new value rotates its credentials now (handled once per value). */
export const ROTATE_ANNOTATION = 'agentidentity.dev/rotate';

/** Condition types, per kind. */
export const CONDITION_READY = 'Ready';
export const AGENT_CLIENT_CONDITIONS = {
  Ready: 'Ready',
  Registered: 'Registered',
  CredentialsReady: 'CredentialsReady',
  PolicyCompliant: 'PolicyCompliant',
  Suspended: 'Suspended',
} as const;
export const GRANT_REVOCATION_CONDITIONS = { Ready: 'Ready', Complete: 'Complete' } as const;

/** Data keys of the agent's credentials Secret (docs/api.md, "The agent Secret"). */
export const AGENT_SECRET_KEYS = {
  clientId: 'client_id',
  issuer: 'issuer',
  tokenEndpoint: 'token_endpoint',
  scope: 'scope',
  tokenEndpointAuthMethod: 'token_endpoint_auth_method',
  /** private_key_jwt: the private JWK (JSON, with kid and alg). */
  privateKeyJwk: 'private_key.jwk',
  /** private_key_jwt: the same key as PKCS#8 PEM. */
  privateKeyPem: 'private_key.pem',
  keyId: 'key_id',
  /** client_secret_basic only. */
  clientSecret: 'client_secret',
} as const;

/** Suffix of the default agent Secret name, `<metadata.name>-oauth`. */
export const AGENT_SECRET_SUFFIX = '-oauth';

/**
 * Name of the Secret holding an AgentClient's credentials, in its namespace:
 * `spec.credentials.secretName`, else `<metadata.name>-oauth` (computed, never written to spec).
 */
export function agentClientSecretName(obj: Pick<AgentClient, 'metadata' | 'spec'>): string {
  const explicit = obj.spec.credentials?.secretName;
  if (explicit) return explicit;
  const name = obj.metadata.name;
  if (!name) throw new Error('AgentClient has no metadata.name');
  return `${name}${AGENT_SECRET_SUFFIX}`;
}

/**
 * Name of the operator-owned Secret (in the operator's namespace) holding an AgentClient's
 * registration access token (RFC 7592): `agc-<uid>`. Never the agent's Secret.
 */
export function registrationSecretName(obj: Pick<AgentClient, 'metadata'>): string {
  const uid = obj.metadata.uid;
  if (!uid) throw new Error('AgentClient has no metadata.uid');
  return `agc-${uid}`;
}

/**
 * Schema defaults, mirrored for code that handles objects the API server has not defaulted
 * (for example in unit tests). A test keeps these equal to the CRDs' `default`s.
 */
export const DEFAULTS = {
  identityProvider: {
    requestTimeoutSeconds: 10,
    secretKey: 'token',
    caSecretKey: 'ca.crt',
  },
  agentClient: {
    grantTypes: ['client_credentials'],
    tokenEndpointAuthMethod: 'private_key_jwt',
    keyAlgorithm: 'ES256',
    overlap: '1h',
    deletionPolicy: 'Delete',
  },
  consentPolicy: {
    deltaConsent: true,
    fullReconsentOn: ['access', 'environment', 'data'],
    standingAccessTokenTTL: '1h',
    standingRefreshTokenTTL: '2160h',
    taskScopedAccessTokenTTL: '5m',
    singleUseRefresh: true,
    sessionBinding: true,
  },
  /** A scope class dimension nobody set: the least sensitive value of each. */
  scopeClass: { access: 'read', environment: 'nonprod', data: 'internal' },
} as const;
