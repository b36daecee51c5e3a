/**
 * In-memory storage for the embedded IdP, with the indexes oidc-provider's own adapter lacks.
 *
 * oidc-provider 9.x can revoke by grant id but cannot find grants by client or by account, and
 * RFC 7592 DELETE leaves a client's grants and tokens alive. This store indexes every record by
 * grant, by client and (for grants) by subject, so "revoke all grants of this client / of this
 * user for this client / holding these scopes" really revokes them and every token derived from
 * them (access tokens, refresh tokens, authorization codes). Deleting a client cascades the same
 * way.
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';

interface StoredRecord {
  model: string;
  id: string;
  payload: AdapterPayload;
  /** Epoch milliseconds; Infinity when the record does not expire. */
  expiresAt: number;
}

/** Models whose records carry a grantId and die with their grant. */
const GRANT_BOUND = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

/** Models counted as tokens in a revocation result. */
const TOKEN_MODELS = new Set([...GRANT_BOUND, 'ClientCredentials']);

/** What a grant revocation should match (see GrantRevocationRequest in src/idp/adapter.ts). */
export interface RevokeFilter {
  clientId: string;
  subject?: string;
  scopes?: string[];
}

/**
 * The store's content as plain JSON, for keeping an embedded IdP's registrations and grants
 * across restarts (the dev stack keeps it in a 0600 file). It holds credentials (registration
 * access tokens, client secrets, refresh tokens): never log it.
 */
export interface StoreSnapshot {
  records: Array<{ model: string; id: string; payload: AdapterPayload; /** Epoch ms; null: never expires. */ expiresAt: number | null }>;
  disabled: string[];
}

export interface RevokeResult {
  grantsRevoked: number;
  tokensRevoked: number;
}

function addTo(index: Map<string, Set<string>>, name: string, key: string): void {
  let set = index.get(name);
  if (!set) {
    set = new Set();
    index.set(name, set);
  }
  set.add(key);
}

function removeFrom(index: Map<string, Set<string>>, name: string | undefined, key: string): void {
  if (name === undefined) return;
  const set = index.get(name);
  if (!set) return;
  set.delete(key);
  if (set.size === 0) index.delete(name);
}

/** Every scope a grant holds: its OpenID scopes and the scopes of each resource. */
export function grantScopes(payload: AdapterPayload): Set<string> {
  const scopes = new Set<string>();
  const add = (value: unknown): void => {
    if (typeof value === 'string') for (const s of value.split(' ')) if (s) scopes.add(s);
  };
  const openid = (payload as { openid?: { scope?: unknown } }).openid;
  add(openid?.scope);
  const resources = (payload as { resources?: Record<string, unknown> }).resources;
  if (resources) for (const value of Object.values(resources)) add(value);
  return scopes;
}

function holdsAny(held: Set<string>, wanted: string[] | undefined): boolean {
  if (!wanted || wanted.length === 0) return true;
  return wanted.some((scope) => held.has(scope));
}

/** The embedded IdP's storage: an oidc-provider adapter factory plus indexed queries. */
export class IndexedStore {
  readonly #records = new Map<string, StoredRecord>();
  readonly #byGrant = new Map<string, Set<string>>();
  readonly #byClient = new Map<string, Set<string>>();
  readonly #bySubject = new Map<string, Set<string>>();
  readonly #byUid = new Map<string, string>();
  readonly #byUserCode = new Map<string, string>();
  readonly #disabled = new Set<string>();
  readonly #now: () => number;
  /**
   * Decides whether a disabled client is hidden from the current lookup. The server wires this
   * to the request being served, so registration management and the admin API still see it.
   */
  hideDisabled: () => boolean = () => true;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** The factory oidc-provider's `adapter` configuration option expects. */
  readonly adapterFactory = (model: string): Adapter => this.#adapter(model);

  #key(model: string, id: string): string {
    return `${model}:${id}`;
  }

  #live(key: string): StoredRecord | undefined {
    const record = this.#records.get(key);
    if (!record) return undefined;
    if (record.expiresAt <= this.#now()) {
      this.#remove(key);
      return undefined;
    }
    return record;
  }

  #remove(key: string): StoredRecord | undefined {
    const record = this.#records.get(key);
    if (!record) return undefined;
    this.#records.delete(key);
    const p = record.payload;
    removeFrom(this.#byGrant, p.grantId, key);
    removeFrom(this.#byClient, p.clientId, key);
    if (record.model === 'Grant') removeFrom(this.#bySubject, p.accountId, key);
    if (p.uid !== undefined && this.#byUid.get(p.uid) === key) this.#byUid.delete(p.uid);
    if (p.userCode !== undefined && this.#byUserCode.get(p.userCode) === key) this.#byUserCode.delete(p.userCode);
    if (record.model === 'Client') this.#disabled.delete(record.id);
    return record;
  }

  #put(model: string, id: string, payload: AdapterPayload, expiresIn: number | undefined): void {
    const key = this.#key(model, id);
    // Re-saving a client (an RFC 7592 PUT) must not re-enable it: only a delete clears the flag.
    const keepDisabled = model === 'Client' && this.#disabled.has(id);
    this.#remove(key);
    if (keepDisabled) this.#disabled.add(id);
    const expiresAt = typeof expiresIn === 'number' ? this.#now() + expiresIn * 1000 : Infinity;
    this.#records.set(key, { model, id, payload, expiresAt });
    if (payload.grantId !== undefined && GRANT_BOUND.has(model)) addTo(this.#byGrant, payload.grantId, key);
    if (payload.clientId !== undefined) addTo(this.#byClient, payload.clientId, key);
    if (model === 'Grant' && payload.accountId !== undefined) addTo(this.#bySubject, payload.accountId, key);
    if (model === 'Session' && payload.uid !== undefined) this.#byUid.set(payload.uid, key);
    if (payload.userCode !== undefined) this.#byUserCode.set(payload.userCode, key);
  }

  #adapter(model: string): Adapter {
    const find = (key: string | undefined): AdapterPayload | undefined =>
      key === undefined ? undefined : this.#live(key)?.payload;
    return {
      upsert: async (id, payload, expiresIn) => {
        this.#put(model, id, payload, expiresIn);
      },
      find: async (id) => {
        if (model === 'Client' && this.#disabled.has(id) && this.hideDisabled()) return undefined;
        return find(this.#key(model, id));
      },
      findByUid: async (uid) => find(this.#byUid.get(uid)),
      findByUserCode: async (userCode) => find(this.#byUserCode.get(userCode)),
      consume: async (id) => {
        const record = this.#live(this.#key(model, id));
        if (record) record.payload.consumed = Math.floor(this.#now() / 1000);
      },
      destroy: async (id) => {
        // Unlike oidc-provider's own adapter, deleting a registration (RFC 7592 DELETE) also
        // revokes what the client holds: no token outlives the client it was issued to.
        if (model === 'Client') this.revokeGrants({ clientId: id });
        this.#remove(this.#key(model, id));
      },
      revokeByGrantId: async (grantId) => {
        for (const key of [...(this.#byGrant.get(grantId) ?? [])]) {
          if (this.#records.get(key)?.model === model) this.#remove(key);
        }
      },
    };
  }

  /** Removes a grant and every token bound to it; returns how many live tokens died. */
  #revokeGrant(grantKey: string): number {
    const record = this.#remove(grantKey);
    if (!record) return 0;
    let tokens = 0;
    for (const key of [...(this.#byGrant.get(record.id) ?? [])]) {
      if (this.#live(key)) tokens += 1;
      this.#remove(key);
    }
    return tokens;
  }

  /**
   * Revokes the grants of one client (optionally of one subject, optionally only grants holding
   * any of the scopes) and every token derived from them. Without a subject, the client's own
   * client_credentials tokens (matching the scope filter) are revoked too: they are grants the
   * client holds for itself.
   */
  revokeGrants(filter: RevokeFilter): RevokeResult {
    let grantsRevoked = 0;
    let tokensRevoked = 0;
    for (const key of [...(this.#byClient.get(filter.clientId) ?? [])]) {
      const record = this.#live(key);
      if (!record) continue;
      if (record.model === 'Grant') {
        if (filter.subject !== undefined && record.payload.accountId !== filter.subject) continue;
        if (!holdsAny(grantScopes(record.payload), filter.scopes)) continue;
        grantsRevoked += 1;
        tokensRevoked += this.#revokeGrant(key);
      } else if (record.model === 'ClientCredentials' && filter.subject === undefined) {
        const scopes = new Set((record.payload.scope ?? '').split(' ').filter(Boolean));
        if (!holdsAny(scopes, filter.scopes)) continue;
        this.#remove(key);
        tokensRevoked += 1;
      }
    }
    return { grantsRevoked, tokensRevoked };
  }

  /** Live grant payloads of a client, optionally of one subject, newest first. */
  grantsOf(clientId: string, subject?: string): Array<{ id: string; payload: AdapterPayload }> {
    const out: Array<{ id: string; payload: AdapterPayload; iat: number }> = [];
    for (const key of this.#byClient.get(clientId) ?? []) {
      const record = this.#live(key);
      if (record?.model !== 'Grant') continue;
      if (subject !== undefined && record.payload.accountId !== subject) continue;
      out.push({ id: record.id, payload: record.payload, iat: record.payload.iat ?? 0 });
    }
    return out.sort((a, b) => b.iat - a.iat).map(({ id, payload }) => ({ id, payload }));
  }

  /** Live tokens (access, refresh, codes, client credentials) issued to a client. */
  countTokens(clientId: string): number {
    let n = 0;
    for (const key of this.#byClient.get(clientId) ?? []) {
      const record = this.#live(key);
      if (record && TOKEN_MODELS.has(record.model)) n += 1;
    }
    return n;
  }

  /** Stored client metadata (dynamic registrations), whatever their disabled state. */
  clients(): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const record of this.#records.values()) {
      if (record.model === 'Client' && this.#live(this.#key('Client', record.id))) out.push({ ...record.payload });
    }
    return out;
  }

  client(clientId: string): Record<string, unknown> | undefined {
    const payload = this.#live(this.#key('Client', clientId))?.payload;
    return payload ? { ...payload } : undefined;
  }

  /** Destroys every registration access token of a client (before minting a fresh one). */
  destroyRegistrationTokens(clientId: string): number {
    let n = 0;
    for (const key of [...(this.#byClient.get(clientId) ?? [])]) {
      if (this.#records.get(key)?.model === 'RegistrationAccessToken') {
        this.#remove(key);
        n += 1;
      }
    }
    return n;
  }

  setDisabled(clientId: string, disabled: boolean): void {
    if (disabled) this.#disabled.add(clientId);
    else this.#disabled.delete(clientId);
  }

  isDisabled(clientId: string): boolean {
    return this.#disabled.has(clientId);
  }

  /** Drops expired records; the server calls it on a timer so memory stays bounded. */
  sweep(): number {
    let n = 0;
    const now = this.#now();
    for (const [key, record] of [...this.#records]) {
      if (record.expiresAt <= now) {
        this.#remove(key);
        n += 1;
      }
    }
    return n;
  }

  get size(): number {
    return this.#records.size;
  }

  /** Every live record and the disabled clients; see {@link StoreSnapshot}. */
  snapshot(): StoreSnapshot {
    const now = this.#now();
    const records = [...this.#records.values()]
      .filter((record) => record.expiresAt > now)
      .map(({ model, id, payload, expiresAt }) => ({ model, id, payload, expiresAt: Number.isFinite(expiresAt) ? expiresAt : null }));
    return { records, disabled: [...this.#disabled] };
  }

  /** Add a snapshot's records (indexes rebuilt, expiry times kept, expired ones skipped). */
  restore(snapshot: StoreSnapshot): void {
    const now = this.#now();
    for (const { model, id, payload, expiresAt } of snapshot.records) {
      if (expiresAt !== null && expiresAt <= now) continue;
      this.#put(model, id, payload, expiresAt === null ? undefined : (expiresAt - now) / 1000);
    }
    for (const clientId of snapshot.disabled) this.#disabled.add(clientId);
  }
}
