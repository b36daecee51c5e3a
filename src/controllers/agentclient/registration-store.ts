/**
 * The operator's own record of one AgentClient's registration: an operator-owned Secret
 * `agc-<uid>` in the operator namespace. It holds what the agent must never hold (the RFC 7592
 * registration access token) and the write-ahead state that makes registration and rotation
 * crash-safe: a key and an intent are persisted here BEFORE the IdP call they lead to (except a new
 * AgentClient's first registration, whose intent is the annotation written with the finalizer and
 * whose record is created with the IdP's answer), and the IdP's answer is persisted here before
 * anything else is written.
 *
 * It is never read from the informer cache: a stale read could make a restarted or re-queued
 * sync believe a registration had not happened yet. It is read with a direct GET, except when
 * this process knows better than any read could (see {@link RegistrationStore}).
 */
import type { JWK } from 'jose';
import type { ClientMetadata } from '../../idp/adapter.ts';
import type { KubeClient } from '../../runtime/kube/client.ts';
import { Secrets } from '../../runtime/kube/types.ts';
import type { SecretObject } from '../../runtime/kube/types.ts';
import { parseSigningKey } from './credentials.ts';
import type { SigningKey } from './credentials.ts';
import { AGENTCLIENT_UID_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from './secret.ts';

export const AGENTCLIENT_REF_ANNOTATION = 'agentidentity.dev/agentclient';
export const STORE_COMPONENT_LABEL = 'agentidentity.dev/component';
export const STORE_COMPONENT_VALUE = 'registration';

/** Work that was started and must be finished (or proven done) after a crash. */
export interface Intent {
  op: 'register' | 'rotate';
  /** ISO time the intent was recorded. */
  at: string;
}

/** Everything the operator knows about one registration. Holds credentials: never log. */
export interface RegistrationRecord {
  uid: string;
  namespace: string;
  name: string;
  softwareId: string;
  issuer?: string;
  tokenEndpoint?: string;
  clientId?: string;
  registrationClientUri?: string;
  registrationAccessToken?: string;
  clientSecret?: string;
  /** The key the agent signs with. */
  key?: SigningKey;
  /** A rotation's new key, persisted before the IdP learns it. */
  pendingKey?: SigningKey;
  /** Public half of the key being retired, registered until `overlapUntil`. */
  previousKey?: JWK;
  overlapUntil?: string;
  lastRotationTime?: string;
  lastRotationRequest?: string;
  registeredAt?: string;
  /** The scope ceiling the IdP last accepted (space-separated). */
  registeredScope?: string;
  intent?: Intent;
  /**
   * The metadata sent when registering, kept only for a registration without RFC 7592 management
   * (no registration token): it cannot be read back, so spec changes are compared with this.
   */
  registeredMetadata?: ClientMetadata;
  /** Set once loaded or saved; the next save is an optimistic-concurrency replace. */
  resourceVersion?: string;
}

/** Non-secret part, kept as one JSON document in the Secret. */
type StoredState = Pick<
  RegistrationRecord,
  | 'namespace'
  | 'name'
  | 'softwareId'
  | 'issuer'
  | 'tokenEndpoint'
  | 'previousKey'
  | 'overlapUntil'
  | 'lastRotationTime'
  | 'lastRotationRequest'
  | 'registeredAt'
  | 'registeredScope'
  | 'intent'
  | 'registeredMetadata'
>;

const KEYS = {
  clientId: 'client_id',
  uri: 'registration_client_uri',
  token: 'registration_access_token',
  clientSecret: 'client_secret',
  key: 'private_key.jwk',
  pendingKey: 'pending_private_key.jwk',
  state: 'state.json',
} as const;

export function recordSecretName(uid: string): string {
  return `agc-${uid}`;
}

const b64 = (value: string): string => Buffer.from(value, 'utf8').toString('base64');
const unb64 = (value: string | undefined): string | undefined => (value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8'));

/** The Secret that stores a record (pure). */
export function renderRecordSecret(record: RegistrationRecord, namespace: string): SecretObject {
  const state: StoredState = {
    namespace: record.namespace,
    name: record.name,
    softwareId: record.softwareId,
    issuer: record.issuer,
    tokenEndpoint: record.tokenEndpoint,
    previousKey: record.previousKey,
    overlapUntil: record.overlapUntil,
    lastRotationTime: record.lastRotationTime,
    lastRotationRequest: record.lastRotationRequest,
    registeredAt: record.registeredAt,
    registeredScope: record.registeredScope,
    intent: record.intent,
    registeredMetadata: record.registeredMetadata,
  };
  const data: Record<string, string> = { [KEYS.state]: b64(JSON.stringify(state)) };
  const put = (key: string, value: string | undefined): void => {
    if (value !== undefined) data[key] = b64(value);
  };
  put(KEYS.clientId, record.clientId);
  put(KEYS.uri, record.registrationClientUri);
  put(KEYS.token, record.registrationAccessToken);
  put(KEYS.clientSecret, record.clientSecret);
  put(KEYS.key, record.key && JSON.stringify(record.key.privateJwk));
  put(KEYS.pendingKey, record.pendingKey && JSON.stringify(record.pendingKey.privateJwk));
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: recordSecretName(record.uid),
      namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [AGENTCLIENT_UID_LABEL]: record.uid, [STORE_COMPONENT_LABEL]: STORE_COMPONENT_VALUE },
      annotations: { [AGENTCLIENT_REF_ANNOTATION]: `${record.namespace}/${record.name}` },
      ...(record.resourceVersion ? { resourceVersion: record.resourceVersion } : {}),
    },
    data,
  };
}

/** Thrown when a stored record cannot be read; carries no stored value. */
export class CorruptRecordError extends Error {
  override readonly name = 'CorruptRecordError';
}

/** Parses a record Secret (pure). Throws {@link CorruptRecordError} on a record we cannot trust. */
export function parseRecordSecret(secret: SecretObject): RegistrationRecord {
  const uid = secret.metadata?.labels?.[AGENTCLIENT_UID_LABEL];
  const data = secret.data ?? {};
  if (!uid) throw new CorruptRecordError(`registration record ${secret.metadata?.name ?? '?'} lacks its uid label`);
  let state: StoredState;
  try {
    state = JSON.parse(unb64(data[KEYS.state]) ?? '') as StoredState;
  } catch {
    throw new CorruptRecordError(`registration record ${secret.metadata?.name ?? '?'} has no readable state`);
  }
  const key = (name: string): SigningKey | undefined => {
    const json = unb64(data[name]);
    return json === undefined ? undefined : parseSigningKey(json);
  };
  return {
    uid,
    namespace: state.namespace,
    name: state.name,
    softwareId: state.softwareId,
    issuer: state.issuer,
    tokenEndpoint: state.tokenEndpoint,
    clientId: unb64(data[KEYS.clientId]),
    registrationClientUri: unb64(data[KEYS.uri]),
    registrationAccessToken: unb64(data[KEYS.token]),
    clientSecret: unb64(data[KEYS.clientSecret]),
    key: key(KEYS.key),
    pendingKey: key(KEYS.pendingKey),
    previousKey: state.previousKey,
    overlapUntil: state.overlapUntil,
    lastRotationTime: state.lastRotationTime,
    lastRotationRequest: state.lastRotationRequest,
    registeredAt: state.registeredAt,
    registeredScope: state.registeredScope,
    intent: state.intent,
    registeredMetadata: state.registeredMetadata,
    resourceVersion: secret.metadata?.resourceVersion,
  };
}

/** What this process last wrote, read (or deleted) for one uid, and the versions it saw recently. */
interface Written {
  /** undefined: a write failed, so whatever is stored is unknown and the next load must read. */
  record: RegistrationRecord | null | undefined;
  versions: string[];
}

/** Versions of one record remembered as this process's own writes (a sync writes at most a few). */
const OWN_VERSIONS = 8;

export interface RegistrationStoreOptions {
  /**
   * Records remembered (LRU). They save the read right after a write or read (the syncs our own
   * writes trigger), so a few hundred cover a backlog; a miss is a GET.
   */
  maxRemembered?: number;
}

/**
 * Reads and writes records in the operator namespace through the API server.
 *
 * The record this process last wrote or read is returned by `load` without a GET, until a watch event
 * shows a version of the Secret this process did not write (or its deletion), a write fails, or
 * the entry ages out of the LRU. That is as current as a GET: every write here is conditional
 * (create, or replace on the resourceVersion we hold), so a record changed behind our back makes
 * the next write fail with 409, the entry is dropped and the retried sync reads afresh; and every
 * IdP call that must not be repeated (register, rotate) is preceded in the same sync by such a
 * write (the intent), or for a new AgentClient by the conditional finalizer patch carrying it.
 * After a restart nothing is remembered: the first load of each uid is a GET.
 */
export class RegistrationStore {
  readonly #client: KubeClient;
  readonly namespace: string;
  readonly #written = new Map<string, Written>();
  readonly #max: number;
  #reads = 0;

  constructor(client: KubeClient, namespace: string, options: RegistrationStoreOptions = {}) {
    this.#client = client;
    this.namespace = namespace;
    this.#max = Math.max(0, options.maxRemembered ?? 512);
  }

  /** Direct reads made so far (tests). */
  get reads(): number {
    return this.#reads;
  }

  /**
   * The record for an AgentClient uid, or null: what this process wrote last, else a direct
   * (quorum) read. `presumeAbsent`: the caller knows no record can exist yet unless something went
   * wrong (a new AgentClient without our finalizer); the read is skipped, and the first save is a
   * create, which fails with 409 if a record exists after all.
   */
  async load(uid: string, options: { presumeAbsent?: boolean } = {}): Promise<RegistrationRecord | null> {
    const written = this.#written.get(uid);
    if (written && written.record !== undefined) return written.record;
    if (options.presumeAbsent && !written) return null;
    this.#reads++;
    const secret = await this.#client.get<SecretObject>(Secrets, recordSecretName(uid), this.namespace);
    const record = secret ? parseRecordSecret(secret) : null;
    // What a quorum read returned is as good as our own write, under the same invalidation.
    this.#remember(uid, record, record?.resourceVersion);
    return record;
  }

  /**
   * Persists a record: create when new, otherwise an optimistic-concurrency replace (a 409 means
   * someone else wrote it; the caller's sync fails and starts again from a fresh read).
   */
  async save(record: RegistrationRecord): Promise<RegistrationRecord> {
    const body = renderRecordSecret(record, this.namespace);
    let written: SecretObject;
    try {
      written = record.resourceVersion ? await this.#client.replace<SecretObject>(Secrets, body) : await this.#client.create<SecretObject>(Secrets, body);
    } catch (error) {
      this.#mustRead(record.uid);
      throw error;
    }
    const saved = { ...record, resourceVersion: written.metadata?.resourceVersion };
    this.#remember(record.uid, saved, saved.resourceVersion);
    return saved;
  }

  /** Deletes the record; already gone is success. */
  async remove(uid: string): Promise<void> {
    try {
      await this.#client.delete(Secrets, recordSecretName(uid), this.namespace);
    } catch (error) {
      this.#mustRead(uid);
      throw error;
    }
    this.#remember(uid, null, undefined);
  }

  /**
   * Feed from a watch on the record Secrets: a version this process did not write, or a deletion
   * it did not make, drops what it remembers for that uid (the next load reads).
   */
  observe(secret: SecretObject, deleted = false): void {
    const uid = secret.metadata?.labels?.[AGENTCLIENT_UID_LABEL];
    if (!uid || secret.metadata?.namespace !== this.namespace) return;
    const written = this.#written.get(uid);
    if (!written || written.record === undefined) return;
    const ours = deleted ? written.record === null : written.versions.includes(secret.metadata?.resourceVersion ?? '');
    if (!ours) this.#written.delete(uid);
  }

  /** Forget everything remembered for a uid (the AgentClient is gone). */
  forget(uid: string): void {
    this.#written.delete(uid);
  }

  /** After a failed write: the stored record is unknown, so the next load reads (even a presumed-absent one). */
  #mustRead(uid: string): void {
    this.#written.delete(uid);
    this.#remember(uid, undefined, undefined);
  }

  #remember(uid: string, record: RegistrationRecord | null | undefined, version: string | undefined): void {
    if (this.#max === 0) return;
    const previous = this.#written.get(uid);
    this.#written.delete(uid);
    const versions = [...(previous?.versions ?? []), ...(version ? [version] : [])].slice(-OWN_VERSIONS);
    this.#written.set(uid, { record, versions });
    if (this.#written.size > this.#max) {
      const oldest = this.#written.keys().next();
      if (!oldest.done) this.#written.delete(oldest.value);
    }
  }
}
