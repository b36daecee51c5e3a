/**
 * What one sync of one AgentClient carries between planning and applying: the observation the
 * planner reads, the dependencies the steps use, and the little this process remembers about
 * each AgentClient between syncs (never needed for correctness after a restart).
 */
import type { Logger } from 'pino';
import { parseDuration } from '../../api/duration.ts';
import type { DiscoveredProvider, IdpAdapter } from '../../idp/adapter.ts';
import { IdpError } from '../../idp/errors.ts';
import type { Clock } from '../../runtime/clock.ts';
import type { EventRecorder, EventType } from '../../runtime/events.ts';
import type { KubeClient } from '../../runtime/kube/client.ts';
import type { ResourceType, SecretObject } from '../../runtime/kube/types.ts';
import { privateKeyPem } from './credentials.ts';
import { effectiveAuthMethod } from './metadata.ts';
import type { Observation } from './plan.ts';
import type { PolicyDeps } from './policy.ts';
import type { RegistrationStore } from './registration-store.ts';
import { renderAgentSecret, secretOwnership } from './secret.ts';
import type { AgentCredentials } from './secret.ts';
import type { AgentClient } from './types.ts';
import type { RevocationHolds } from '../grantrevocation/holds.ts';

/** What the IdentityProvider controller knows about one IdentityProvider. */
export interface ProviderEntry {
  adapter?: IdpAdapter;
  discovered?: DiscoveredProvider;
  ready: boolean;
  reason?: string;
  message?: string;
}

export interface ProviderLookup {
  get(name: string): ProviderEntry | undefined;
}

/** Named points inside a sync where tests stop the operator dead to prove crash safety. */
export type SyncPoint = 'afterIntent' | 'afterRegister' | 'afterRecord' | 'afterSecret' | 'afterRotationKey' | 'afterRotationUpdate';

export interface SyncHooks {
  /** Awaited at each point; a test may hang here (a "crash") or throw. */
  at?(point: SyncPoint, agent: { namespace: string; name: string; uid: string }): Promise<void> | void;
}

export interface SyncDeps {
  client: KubeClient;
  agentClients: ResourceType;
  store: RegistrationStore;
  providers: ProviderLookup;
  recorder: EventRecorder;
  log: Logger;
  clock: Clock;
  clusterName: string;
  /** How often a registration is read back from the IdP to catch drift. */
  resyncPeriodMs: number;
  random: () => number;
  hooks?: SyncHooks;
  /** ConsentPolicy evaluation (policy.ts). */
  policy: PolicyDeps;
  /** GrantRevocation holds on an AgentClient (grantrevocation/holds.ts). */
  holds?: (agent: AgentClient) => RevocationHolds;
  /**
   * The IdentityProvider object of that name as cached, or undefined when there is none. Absent
   * dependency: every IdentityProvider counts as existing, with the default request timeout.
   */
  identityProvider?: (name: string) => { requestTimeoutMs: number } | undefined;
}

/** The IdentityProvider default `requestTimeoutSeconds`, in ms. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** Per-AgentClient memory of this process. Losing it (a restart) costs at most one IdP read. */
export interface Memory {
  uid: string;
  verifiedGeneration?: number;
  lastVerifiedAt?: number;
  /** The register intent (by its `at`) known not to have reached the IdP. */
  settledIntentAt?: string;
  /** A registration request went unanswered: searching for it before this time (ms) could miss it. */
  searchNotBefore?: number;
  blocked?: { generation: number | undefined; adapter: IdpAdapter | undefined; reason: string; message: string; until: number };
  pem?: { kid: string; pem: string };
  /** ConsentPolicy: the projected registration fields (policy.ts) last known to be at the IdP. */
  policyFingerprint?: string;
}

export class SyncState {
  readonly deps: SyncDeps;
  readonly obs: Observation;
  readonly memory: Memory;
  readonly signal: AbortSignal;
  readonly log: Logger;
  readonly provider: ProviderEntry | undefined;
  secret: SecretObject | undefined;
  finalized = false;
  readonly #pending: Promise<void>[] = [];
  #held: { type: EventType; reason: string; message: string } | undefined;

  constructor(init: { deps: SyncDeps; obs: Observation; memory: Memory; signal: AbortSignal; log: Logger; provider: ProviderEntry | undefined; secret: SecretObject | undefined }) {
    this.deps = init.deps;
    this.obs = init.obs;
    this.memory = init.memory;
    this.signal = init.signal;
    this.log = init.log;
    this.provider = init.provider;
    this.secret = init.secret;
  }

  now(): number {
    return this.deps.clock.now();
  }

  adapter(): IdpAdapter {
    const adapter = this.provider?.adapter;
    if (!adapter) throw new IdpError('Unreachable', `IdentityProvider ${this.obs.agent.spec.identityProviderRef.name} has no adapter yet`);
    return adapter;
  }

  discovered(): DiscoveredProvider {
    const discovered = this.provider?.discovered;
    if (!discovered) throw new IdpError('Unreachable', `IdentityProvider ${this.obs.agent.spec.identityProviderRef.name} is not discovered yet`);
    return discovered;
  }

  /** How long the IdP is given to answer one call (IdentityProvider `requestTimeoutSeconds`). */
  requestTimeoutMs(): number {
    return this.deps.identityProvider?.(this.obs.agent.spec.identityProviderRef.name)?.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  overlapMs(): number {
    return parseDuration(this.obs.agent.spec.credentials?.overlap ?? '1h');
  }

  /** The agent's credentials as the record holds them, or undefined before registration. */
  async credentials(): Promise<AgentCredentials | undefined> {
    const record = this.obs.record;
    if (!record?.clientId || !record.issuer || !record.tokenEndpoint) return undefined;
    const method = effectiveAuthMethod(this.obs.agent);
    const credentials: AgentCredentials = {
      clientId: record.clientId,
      issuer: record.issuer,
      tokenEndpoint: record.tokenEndpoint,
      scope: record.registeredScope ?? '',
      authMethod: method,
    };
    if (method === 'private_key_jwt' && record.key) {
      if (this.memory.pem?.kid !== record.key.kid) this.memory.pem = { kid: record.key.kid, pem: await privateKeyPem(record.key) };
      credentials.key = { kid: record.key.kid, jwk: JSON.stringify(record.key.privateJwk), pem: this.memory.pem.pem };
    }
    if (method === 'client_secret_basic' && record.clientSecret !== undefined) credentials.clientSecret = record.clientSecret;
    return credentials;
  }

  /** Re-derives whether the agent Secret says what the record holds. */
  async refreshSecret(): Promise<void> {
    const ownership = secretOwnership(this.obs.agent, this.secret);
    const credentials = await this.credentials();
    const upToDate = ownership === 'owned' && credentials !== undefined && renderAgentSecret(this.obs.agent, credentials, this.secret) === null;
    this.obs.secret = { ownership, upToDate };
  }

  async hook(point: SyncPoint): Promise<void> {
    const { namespace, name, uid } = this.obs.agent.metadata;
    await this.deps.hooks?.at?.(point, { namespace, name, uid });
  }

  /** Every credential value this sync may know, for scrubbing messages. */
  secrets(): string[] {
    const r = this.obs.record;
    const values = [r?.registrationAccessToken, r?.clientSecret, r?.key?.privateJwk.d, r?.pendingKey?.privateJwk.d];
    return values.filter((v): v is string => typeof v === 'string' && v.length >= 4);
  }

  event(type: EventType, reason: string, message: string): void {
    this.#pending.push(this.deps.recorder.event(this.obs.agent, type, reason, message));
  }

  /**
   * An Event held until the sync ends, so that a later step of the same sync can add to it: a
   * registration and the Secret written right after it are one Event, not two (each is an API
   * write, and a burst of new AgentClients is where the apiserver is busiest).
   */
  holdEvent(type: EventType, reason: string, message: string): void {
    this.#releaseHeld();
    this.#held = { type, reason, message };
  }

  /** Adds `more` to the held Event's message; false when no Event is held. */
  extendHeldEvent(more: string): boolean {
    if (!this.#held) return false;
    this.#held.message += more;
    return true;
  }

  #releaseHeld(): void {
    const held = this.#held;
    this.#held = undefined;
    if (held) this.event(held.type, held.reason, held.message);
  }

  /** One audit line per IdP action: which agent, which client, what was done. */
  audit(op: string, fields: Record<string, unknown>): void {
    const { namespace, name, uid } = this.obs.agent.metadata;
    this.log.info({ audit: true, op, agentClient: `${namespace}/${name}`, uid, ...fields }, `idp ${op}`);
  }

  async flush(): Promise<void> {
    this.#releaseHeld();
    await Promise.all(this.#pending.splice(0));
  }
}
