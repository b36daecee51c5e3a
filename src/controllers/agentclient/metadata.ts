/**
 * RFC 7591 client metadata derived from an AgentClient spec, and the comparison that detects
 * drift between what we want registered and what the IdP holds (RFC 7592 section 2.1 read).
 *
 * Pure: no I/O, no clock.
 */
import type { ClientMetadata } from '../../idp/adapter.ts';
import type { AgentClient, AuthMethod, GrantType } from './types.ts';

const SOFTWARE_ID_PREFIX = 'agentidentity.dev';

/** Who a registration belongs to, as named by its `software_id`. */
export interface SoftwareIdentity {
  cluster: string;
  namespace: string;
  name: string;
  uid: string;
}

/**
 * `agentidentity.dev/<cluster>/<namespace>/<name>/<uid>`: RFC 7591 section 2 `software_id`,
 * stable across the life of one AgentClient object and unique across clusters sharing an IdP, so
 * a registration made just before a crash can be proven ours (and another object's never taken).
 */
export function softwareId(identity: SoftwareIdentity): string {
  for (const part of [identity.cluster, identity.namespace, identity.name, identity.uid]) {
    if (part.length === 0 || part.includes('/')) throw new Error(`invalid software_id component "${part}"`);
  }
  return [SOFTWARE_ID_PREFIX, identity.cluster, identity.namespace, identity.name, identity.uid].join('/');
}

/** Parses a software_id made by {@link softwareId}; null for anything else. */
export function parseSoftwareId(value: unknown): SoftwareIdentity | null {
  if (typeof value !== 'string') return null;
  const parts = value.split('/');
  if (parts.length !== 5 || parts[0] !== SOFTWARE_ID_PREFIX) return null;
  const [, cluster, namespace, name, uid] = parts as [string, string, string, string, string];
  if (!cluster || !namespace || !name || !uid) return null;
  return { cluster, namespace, name, uid };
}

/** Spec defaults from the CRD schema, applied here too because the operator never writes spec. */
export function effectiveGrantTypes(agent: AgentClient): GrantType[] {
  const grantTypes = agent.spec.grantTypes;
  return grantTypes && grantTypes.length > 0 ? [...grantTypes] : ['client_credentials'];
}

export function effectiveAuthMethod(agent: AgentClient): AuthMethod {
  return agent.spec.tokenEndpointAuthMethod ?? 'private_key_jwt';
}

/** The agent metadata extension field shown on consent screens; fixed keys win over `extra`. */
export function agentMetadataField(agent: AgentClient): Record<string, string> {
  const spec = agent.spec.agentMetadata;
  const out: Record<string, string> = { ...(spec.extra ?? {}) };
  out.owner = spec.owner;
  const optional: [string, string | undefined][] = [
    ['agent_type', spec.agentType],
    ['capability_version', spec.capabilityVersion],
    ['description', spec.description],
    ['contact', spec.contact],
  ];
  for (const [key, value] of optional) {
    if (value !== undefined && value !== '') out[key] = value;
    else delete out[key];
  }
  return out;
}

export interface DesiredMetadataInput {
  agent: AgentClient;
  clusterName: string;
  /** The effective scope ceiling (requested scopes until ConsentPolicy narrows them). */
  ceiling: readonly string[];
  /** Public JWK Set for private_key_jwt (current key, plus the previous one during overlap). */
  jwks?: { keys: Record<string, unknown>[] };
}

/** RFC 7591 section 2 metadata for one AgentClient. */
export function desiredMetadata(input: DesiredMetadataInput): ClientMetadata {
  const { agent } = input;
  const grantTypes = effectiveGrantTypes(agent);
  const method = effectiveAuthMethod(agent);
  const metadata: ClientMetadata = {
    client_name: agent.spec.clientName,
    grant_types: grantTypes,
    redirect_uris: [...(agent.spec.redirectUris ?? [])],
    // RFC 7591 section 2.1: `code` pairs with authorization_code; a machine-only client has none.
    response_types: grantTypes.includes('authorization_code') ? ['code'] : [],
    scope: normalizeScope(input.ceiling),
    token_endpoint_auth_method: method,
    software_id: softwareId({
      cluster: input.clusterName,
      namespace: agent.metadata.namespace,
      name: agent.metadata.name,
      uid: agent.metadata.uid,
    }),
    agent_metadata: agentMetadataField(agent),
  };
  const version = agent.spec.agentMetadata.capabilityVersion;
  if (version) metadata.software_version = version;
  if (method === 'private_key_jwt' && input.jwks) metadata.jwks = input.jwks;
  return metadata;
}

/** Sorted, de-duplicated, space-separated scope string (RFC 6749 section 3.3). */
export function normalizeScope(scopes: Iterable<string>): string {
  return [...new Set(scopes)].filter((s) => s.length > 0).sort().join(' ');
}

function scopeSet(scope: unknown): string {
  return typeof scope === 'string' ? normalizeScope(scope.split(' ')) : '';
}

function sortedSet(values: unknown): string {
  if (!Array.isArray(values)) return '[]';
  return JSON.stringify([...new Set(values.map(String))].sort());
}

const PUBLIC_JWK_MEMBERS = ['kid', 'kty', 'crv', 'x', 'y', 'n', 'e', 'alg', 'use'] as const;

/** Canonical public key set: private members (if an IdP ever echoed them) are never compared. */
function canonicalJwks(jwks: unknown): string {
  const keys = (jwks as { keys?: unknown } | undefined)?.keys;
  if (!Array.isArray(keys)) return '[]';
  const canon = keys.map((key: Record<string, unknown>) => {
    const out: Record<string, unknown> = {};
    for (const member of PUBLIC_JWK_MEMBERS) if (key[member] !== undefined) out[member] = key[member];
    return JSON.stringify(out);
  });
  return JSON.stringify(canon.sort());
}

function canonicalRecord(record: unknown): string {
  if (record === undefined || record === null || typeof record !== 'object') return '{}';
  const entries = Object.entries(record as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(entries);
}

const text = (value: unknown): string => (typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value));

/** JSON with object keys sorted at every level (absent and null compare equal). */
function canonicalJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v === null || typeof v !== 'object') return v;
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]));
  };
  return value === undefined || value === null ? '' : JSON.stringify(sort(value));
}

const COMPARATORS: Record<string, (value: unknown) => string> = {
  client_name: text,
  grant_types: sortedSet,
  redirect_uris: sortedSet,
  response_types: sortedSet,
  scope: scopeSet,
  token_endpoint_auth_method: text,
  jwks: canonicalJwks,
  software_id: text,
  software_version: text,
  agent_metadata: canonicalRecord,
  // ConsentPolicy projections (policy.ts): a policy change of lifetimes is drift to push.
  token_lifetimes: canonicalJson,
  task_scoped: canonicalJson,
};

/**
 * The metadata fields (names only, never values) where the IdP's registration differs from the
 * desired one. Fields the IdP adds on its own (defaults, timestamps) are not compared; list-valued
 * fields compare as sets.
 */
export function metadataDrift(desired: ClientMetadata, observed: ClientMetadata): string[] {
  const drift: string[] = [];
  for (const [field, canon] of Object.entries(COMPARATORS)) {
    if (field === 'jwks' && desired.token_endpoint_auth_method !== 'private_key_jwt') continue;
    if (canon(desired[field]) !== canon(observed[field])) drift.push(field);
  }
  return drift;
}
