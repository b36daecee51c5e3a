/**
 * The agent's Secret: what an agent needs to authenticate, and nothing that could change its own
 * registration (the registration access token stays in the operator namespace).
 *
 * Ownership is proven by an ownerReference to this AgentClient's uid, never by name or label
 * alone: a Secret of the same name made by someone else (or another AgentClient) is never
 * overwritten (External Secrets #2416, hydra-maester #294).
 */
import type { SecretObject } from '../../runtime/kube/types.ts';
import type { AgentClient, AuthMethod } from './types.ts';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'agent-identity-operator';
export const AGENTCLIENT_NAME_LABEL = 'agentidentity.dev/agentclient';
export const AGENTCLIENT_UID_LABEL = 'agentidentity.dev/agentclient-uid';
/** Which labels/annotations came from `secretTemplate`, so removing one from the template removes it. */
export const TEMPLATE_KEYS_ANNOTATION = 'agentidentity.dev/secret-template-keys';

/** Documented data keys of the agent Secret (docs/agent-secret.md). */
export const SECRET_KEYS = {
  clientId: 'client_id',
  issuer: 'issuer',
  tokenEndpoint: 'token_endpoint',
  scope: 'scope',
  authMethod: 'token_endpoint_auth_method',
  privateJwk: 'private_key.jwk',
  privatePem: 'private_key.pem',
  keyId: 'key_id',
  clientSecret: 'client_secret',
} as const;

/** The agent Secret as the API returns it (data values base64). */
export type SecretLike = SecretObject;

/** What goes into the agent Secret. Holds credentials: never log. */
export interface AgentCredentials {
  clientId: string;
  issuer: string;
  tokenEndpoint: string;
  /** Space-separated scope ceiling. */
  scope: string;
  authMethod: AuthMethod;
  key?: { kid: string; jwk: string; pem: string };
  clientSecret?: string;
}

export function agentSecretName(agent: AgentClient): string {
  return agent.spec.credentials?.secretName || `${agent.metadata.name}-oauth`;
}

export type SecretOwnership = 'absent' | 'owned' | 'foreign';

/** Whether a Secret is this AgentClient's to write: an ownerReference naming its uid. */
export function secretOwnership(agent: AgentClient, secret: SecretLike | undefined): SecretOwnership {
  if (!secret) return 'absent';
  const owned = (secret.metadata?.ownerReferences ?? []).some((ref) => ref.kind === 'AgentClient' && ref.uid === agent.metadata.uid);
  return owned ? 'owned' : 'foreign';
}

function secretData(credentials: AgentCredentials): Record<string, string> {
  const data: Record<string, string> = {
    [SECRET_KEYS.clientId]: credentials.clientId,
    [SECRET_KEYS.issuer]: credentials.issuer,
    [SECRET_KEYS.tokenEndpoint]: credentials.tokenEndpoint,
    [SECRET_KEYS.scope]: credentials.scope,
    [SECRET_KEYS.authMethod]: credentials.authMethod,
  };
  if (credentials.key) {
    data[SECRET_KEYS.privateJwk] = credentials.key.jwk;
    data[SECRET_KEYS.privatePem] = credentials.key.pem;
    data[SECRET_KEYS.keyId] = credentials.key.kid;
  }
  if (credentials.clientSecret !== undefined) data[SECRET_KEYS.clientSecret] = credentials.clientSecret;
  return data;
}

interface TemplateKeys {
  labels: string[];
  annotations: string[];
}

function previousTemplateKeys(actual: SecretLike | undefined): TemplateKeys {
  const raw = actual?.metadata?.annotations?.[TEMPLATE_KEYS_ANNOTATION];
  if (!raw) return { labels: [], annotations: [] };
  try {
    const parsed = JSON.parse(raw) as Partial<TemplateKeys>;
    return { labels: Array.isArray(parsed.labels) ? parsed.labels : [], annotations: Array.isArray(parsed.annotations) ? parsed.annotations : [] };
  } catch {
    return { labels: [], annotations: [] };
  }
}

/** Others' keys kept; keys we templated before but no longer do, dropped; ours set on top. */
function mergeMap(actual: Record<string, string> | undefined, dropped: string[], wanted: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = { ...(actual ?? {}) };
  for (const key of dropped) delete out[key];
  return Object.assign(out, wanted);
}

function sameMap(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  const left = a ?? {};
  const keys = Object.keys(b);
  return keys.length === Object.keys(left).length && keys.every((k) => left[k] === b[k]);
}

/**
 * The Secret to create or replace, or null when `actual` already says exactly this. Never called
 * for a foreign Secret (see {@link secretOwnership}). Other writers' labels, annotations and
 * ownerReferences are kept; `data` is exactly ours, so keys of a former auth method disappear.
 */
export function renderAgentSecret(agent: AgentClient, credentials: AgentCredentials, actual?: SecretLike): SecretLike | null {
  const template = agent.spec.credentials?.secretTemplate ?? {};
  const templateLabels = template.labels ?? {};
  const templateAnnotations = template.annotations ?? {};
  const before = previousTemplateKeys(actual);
  const keys: TemplateKeys = { labels: Object.keys(templateLabels).sort(), annotations: Object.keys(templateAnnotations).sort() };
  const ours = {
    [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
    [AGENTCLIENT_NAME_LABEL]: agent.metadata.name,
    [AGENTCLIENT_UID_LABEL]: agent.metadata.uid,
  };
  const labels = mergeMap(actual?.metadata?.labels, before.labels.filter((k) => !(k in templateLabels)), { ...templateLabels, ...ours });
  const annotations = mergeMap(actual?.metadata?.annotations, before.annotations.filter((k) => !(k in templateAnnotations)), {
    ...templateAnnotations,
    [TEMPLATE_KEYS_ANNOTATION]: JSON.stringify(keys),
  });
  const owner = {
    apiVersion: agent.apiVersion ?? 'agentidentity.dev/v1alpha1',
    kind: 'AgentClient',
    name: agent.metadata.name,
    uid: agent.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
  const otherOwners = (actual?.metadata?.ownerReferences ?? []).filter((ref) => ref.uid !== agent.metadata.uid);
  const data = Object.fromEntries(Object.entries(secretData(credentials)).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')]));

  if (
    actual &&
    secretOwnership(agent, actual) === 'owned' &&
    sameMap(actual.data, data) &&
    sameMap(actual.metadata?.labels, labels) &&
    sameMap(actual.metadata?.annotations, annotations)
  ) {
    return null;
  }
  const metadata: NonNullable<SecretLike['metadata']> = {
    name: agentSecretName(agent),
    namespace: agent.metadata.namespace,
    labels,
    annotations,
    ownerReferences: [...otherOwners, owner],
  };
  if (actual?.metadata?.resourceVersion) metadata.resourceVersion = actual.metadata.resourceVersion;
  return { apiVersion: 'v1', kind: 'Secret', metadata, type: actual?.type ?? 'Opaque', data };
}

/** Reads one data key of a Secret (base64-decoded), undefined when absent. */
export function secretValue(secret: SecretLike | undefined, key: string): string | undefined {
  const raw = secret?.data?.[key];
  return raw === undefined ? undefined : Buffer.from(raw, 'base64').toString('utf8');
}
