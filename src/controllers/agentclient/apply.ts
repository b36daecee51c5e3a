/**
 * One function per planned action: each makes exactly one external change (an IdP call or an
 * API write) and persists its result before returning, then folds it into the sync's state.
 * Ordering rules that make registration crash-safe live here:
 * - the key and the intent are saved BEFORE the IdP is asked to register (for a new AgentClient
 *   the intent is the annotation written with the finalizer, and the key is saved with the
 *   IdP's answer: a registration interrupted before that is found by software_id and adopted,
 *   and the update that follows puts the new key into it);
 * - the IdP's answer (client_id, registration token) is saved BEFORE the agent Secret is written;
 * - a rotation's new key is saved BEFORE the IdP learns it, and promoted only after.
 */
import type { ClientMetadata, Registration } from '../../idp/adapter.ts';
import { isIdpError } from '../../idp/errors.ts';
import { ensureFinalizer, removeFinalizer } from '../../runtime/finalizers.ts';
import { isConflict } from '../../runtime/kube/errors.ts';
import { Secrets } from '../../runtime/kube/types.ts';
import type { SecretObject } from '../../runtime/kube/types.ts';
import { generateSigningKey, publicJwk, registeredJwks } from './credentials.ts';
import { desiredMetadata, metadataDrift, normalizeScope, softwareId } from './metadata.ts';
import { FINALIZER, REGISTRATION_INTENT_ANNOTATION, ROTATE_ANNOTATION, SKIP_IDP_CLEANUP_ANNOTATION, manageable } from './plan.ts';
import type { Action } from './plan.ts';
import type { KeyAlgorithm } from './types.ts';
import type { RegistrationRecord } from './registration-store.ts';
import { AGENTCLIENT_NAME_LABEL, AGENTCLIENT_UID_LABEL, MANAGED_BY_LABEL, agentSecretName, renderAgentSecret } from './secret.ts';
import type { SyncState } from './state.ts';
import { policyMetadata } from './policy.ts';
import { applyClientAccess } from './nothing-allowed.ts';
import { isImmediateRotationRequest } from '../grantrevocation/suspension.ts';

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function desired(state: SyncState, record: RegistrationRecord, jwks?: ClientMetadata['jwks']): ClientMetadata {
  // ConsentPolicy: register the ceiling the policies allow (not spec.scopes) and, where the IdP
  // holds them, the policy's standing lifetimes and task-scoped rules.
  const { ceiling, ...projected } = policyMetadata(state.obs.ceiling, state.provider?.discovered?.capabilities, record.registeredScope);
  const metadata = desiredMetadata({
    agent: state.obs.agent,
    clusterName: state.deps.clusterName,
    ceiling,
    jwks: jwks ?? (record.key ? registeredJwks(record.key, record.previousKey) : undefined),
  });
  return { ...metadata, ...projected };
}

/**
 * Whether a failed RFC 7591 registration provably created nothing: a 4xx refusal (section 3.2.2)
 * other than 408 and 429. A 5xx (a gateway's 502/504 may follow a registration the IdP made), a
 * 2xx we could not read, or no answer at all prove nothing.
 */
export function refusedRegistration(status: number | undefined): boolean {
  return status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429;
}

function handleOf(record: RegistrationRecord): Registration['handle'] {
  return {
    clientId: record.clientId ?? '',
    registrationClientUri: record.registrationClientUri ?? '',
    registrationAccessToken: record.registrationAccessToken ?? '',
  };
}

/** Folds an IdP answer into the record: a rotated registration token or a new secret is kept. */
function absorb(record: RegistrationRecord, registration: Registration, scope: string): RegistrationRecord {
  return {
    ...record,
    clientId: registration.handle.clientId,
    registrationClientUri: registration.handle.registrationClientUri || record.registrationClientUri,
    registrationAccessToken: registration.handle.registrationAccessToken || record.registrationAccessToken,
    clientSecret: registration.clientSecret ?? record.clientSecret,
    registeredScope: normalizeScope((typeof registration.metadata.scope === 'string' ? registration.metadata.scope : scope).split(' ')),
  };
}

function handleChanged(before: RegistrationRecord, after: RegistrationRecord): boolean {
  return before.registrationAccessToken !== after.registrationAccessToken || before.registrationClientUri !== after.registrationClientUri || before.clientSecret !== after.clientSecret;
}

async function save(state: SyncState, record: RegistrationRecord): Promise<RegistrationRecord> {
  const saved = await state.deps.store.save(record);
  state.obs.record = saved;
  await state.refreshSecret();
  return saved;
}

/**
 * Records what the IdP now holds and, when it holds what we want (or `written`: we just sent it
 * and it accepted), that this generation is verified. A read that found drift verifies nothing:
 * if the PUT that follows fails, the retry must read and PUT again rather than report Ready.
 */
function observed(state: SyncState, registration: Registration | null, written = false): void {
  state.obs.remote = { registration };
  const record = state.obs.record;
  state.obs.drift = !manageable(record) ? unmanagedDrift(state) : registration && record ? metadataDrift(desired(state, record), registration.metadata) : undefined;
  if (!written && registration && (state.obs.drift?.length ?? 0) > 0) return;
  state.memory.verifiedGeneration = state.obs.agent.metadata.generation;
  state.memory.lastVerifiedAt = state.now();
}

/**
 * For a registration we cannot read back (no RFC 7592 token): the fields where the spec now asks
 * for something other than what was registered. Unknown (undefined) for records from before the
 * registered metadata was kept.
 */
export function unmanagedDrift(state: SyncState): string[] | undefined {
  const record = state.obs.record;
  if (!record?.clientId || manageable(record) || !record.registeredMetadata) return undefined;
  return metadataDrift(desired(state, record), record.registeredMetadata);
}

function requireRecord(state: SyncState): RegistrationRecord {
  const record = state.obs.record;
  if (!record) throw new Error('no registration record for this step');
  return record;
}

/** The register intent (with a new key where one is needed), saved before any IdP call. */
async function writeIntent(state: SyncState, keyAlgorithm: KeyAlgorithm | null): Promise<void> {
  const { record, unsettled } = await buildIntent(state, keyAlgorithm);
  await save(state, record);
  state.obs.intentSettled = !unsettled;
}

/** The intent record a register step needs, and whether an earlier attempt may have reached the IdP. */
async function buildIntent(state: SyncState, keyAlgorithm: KeyAlgorithm | null): Promise<{ record: RegistrationRecord; at: string; unsettled: boolean }> {
  const { agent } = state.obs;
  const previous = state.obs.record;
  const key = keyAlgorithm ? await generateSigningKey(keyAlgorithm) : previous?.key;
  const at = iso(state.now());
  // An intent we did not write in this process, or a registration status remembers but no
  // record holds, may have reached the IdP: keep it unsettled so the IdP is searched first.
  const unsettled = (previous?.intent?.op === 'register' && !state.obs.intentSettled) || (!previous && Boolean(agent.status?.clientId));
  const record: RegistrationRecord = {
    ...(previous ?? { uid: agent.metadata.uid, namespace: agent.metadata.namespace, name: agent.metadata.name }),
    softwareId: softwareId({ cluster: state.deps.clusterName, namespace: agent.metadata.namespace, name: agent.metadata.name, uid: agent.metadata.uid }),
    key,
    intent: { op: 'register', at },
    // A fresh registration satisfies any rotation request already on the object.
    lastRotationRequest: agent.metadata.annotations?.[ROTATE_ANNOTATION] ?? previous?.lastRotationRequest,
  };
  return { record, at, unsettled };
}

async function addOurFinalizer(state: SyncState, annotations?: Record<string, string>): Promise<void> {
  const updated = await ensureFinalizer(state.deps.client, state.deps.agentClients, state.obs.agent, FINALIZER, annotations);
  if (updated) state.obs.agent = { ...state.obs.agent, metadata: { ...state.obs.agent.metadata, ...updated.metadata } };
}

type Handler<A extends Action> = (state: SyncState, action: A) => Promise<void>;
type Handlers = { [K in Action['type']]: Handler<Extract<Action, { type: K }>> };

const handlers: Handlers = {
  setPolicyDisabled: (state, { disabled }) => applyClientAccess(state, disabled),

  async addFinalizer(state, action) {
    if (!action.withIntent) return addOurFinalizer(state);
    const { record, at, unsettled } = await buildIntent(state, action.withIntent.keyAlgorithm);
    if (unsettled) {
      // Status names a registration no record holds: the intent must be searchable at once.
      await addOurFinalizer(state);
      await save(state, record);
      state.obs.intentSettled = false;
    } else {
      // A new AgentClient: the intent rides on the finalizer patch (the annotation), and the record
      // (key included) stays in this sync until the IdP has answered; its first write is a create.
      // Nothing reached the IdP for this intent yet, as this process knows.
      await addOurFinalizer(state, { [REGISTRATION_INTENT_ANNOTATION]: at });
      state.obs.record = record;
      state.memory.settledIntentAt = at;
      state.obs.intentSettled = true;
    }
    await state.hook('afterIntent');
  },

  async prepareRegistration(state, action) {
    await writeIntent(state, action.keyAlgorithm);
    await state.hook('afterIntent');
  },

  async searchRegistrations(state) {
    const record = requireRecord(state);
    state.obs.search = await state.adapter().findBySoftwareId(record.softwareId, state.signal);
    delete state.memory.searchNotBefore;
  },

  async adopt(state, { registration, extras }) {
    const record = requireRecord(state);
    const discovered = state.discovered();
    const adopted = absorb(record, registration, registration.metadata.scope);
    adopted.issuer = discovered.issuer;
    adopted.tokenEndpoint = discovered.tokenEndpoint;
    adopted.registeredAt = iso(registration.clientIdIssuedAt ? registration.clientIdIssuedAt * 1000 : state.now());
    delete adopted.intent;
    await save(state, adopted);
    state.audit('adopt', { clientId: registration.handle.clientId, extras: extras.length });
    state.event('Normal', 'RegistrationAdopted', `adopted registration ${registration.handle.clientId} made by an interrupted attempt (software_id matches this AgentClient)`);
    for (const extra of extras) await deleteOne(state, extra, 'duplicate registration from an interrupted attempt');
    observed(state, registration);
  },

  async register(state, { possibleOrphan }) {
    const record = requireRecord(state);
    if (possibleOrphan) {
      state.event('Warning', 'PossibleOrphanRegistration', `an interrupted registration may have been left at the IdP: this IdP cannot list registrations by software_id (${record.softwareId}), so it can be neither adopted nor removed; registering afresh`);
    }
    const metadata = desired(state, record);
    let registration: Registration;
    // From here the intent may reach the IdP: only a refusal settles it again.
    delete state.memory.settledIntentAt;
    try {
      registration = await state.adapter().register(metadata, state.signal);
    } catch (error) {
      if (isIdpError(error) && refusedRegistration(error.status)) {
        // Only a refusal proves nothing was registered: no search needed next time.
        state.memory.settledIntentAt = record.intent?.at;
      } else if (isIdpError(error) && error.status === undefined) {
        // No answer: the request may still reach the IdP. Search only once it would have timed
        // out there too, or a registration landing late is missed and becomes an orphan.
        state.memory.searchNotBefore = state.now() + state.requestTimeoutMs();
      }
      throw error;
    }
    await state.hook('afterRegister');
    const discovered = state.discovered();
    const registered = absorb(record, registration, metadata.scope);
    registered.issuer = discovered.issuer;
    registered.tokenEndpoint = discovered.tokenEndpoint;
    registered.registeredAt = iso(state.now());
    delete registered.intent;
    // Without RFC 7592 the registration cannot be read back: keep what we sent to compare with.
    if (manageable(registered)) delete registered.registeredMetadata;
    else registered.registeredMetadata = metadata;
    await save(state, registered);
    state.audit('register', { clientId: registration.handle.clientId });
    state.holdEvent('Normal', 'Registered', `registered at ${discovered.issuer} as client ${registration.handle.clientId}`);
    await state.hook('afterRecord');
    observed(state, registration, true);
  },

  async readRegistration(state) {
    const record = requireRecord(state);
    const registration = await state.adapter().read(handleOf(record), state.signal);
    if (registration) {
      const next = absorb(record, registration, record.registeredScope ?? '');
      next.registeredScope = record.registeredScope;
      if (handleChanged(record, next)) await save(state, next);
    }
    observed(state, registration);
    // Not when a ConsentPolicy change forced the read: a narrowing over N agents would double its
    // IdP calls; the next periodic read sweeps as usual.
    if (registration && registration.metadata.software_id === record.softwareId && !state.obs.policyChanged) await deleteOrphans(state, record);
  },

  async updateRegistration(state, { fields }) {
    const record = requireRecord(state);
    const metadata = desired(state, record);
    const registration = await state.adapter().update(handleOf(record), metadata, state.signal);
    state.obs.updated = true;
    await save(state, absorb(record, registration, metadata.scope));
    state.audit('update', { clientId: record.clientId, fields });
    state.event('Normal', 'RegistrationUpdated', `updated the registration at the IdP (${fields.join(', ')})`);
    observed(state, registration, true);
  },

  async forgetRegistration(state) {
    const record = requireRecord(state);
    state.event('Warning', 'RegistrationLost', `registration ${record.clientId ?? '?'} is no longer accessible at the IdP; registering again`);
    const next: RegistrationRecord = { ...record, intent: { op: 'register', at: iso(state.now()) } };
    for (const field of ['clientId', 'registrationClientUri', 'registrationAccessToken', 'clientSecret', 'registeredAt'] as const) delete next[field];
    await save(state, next);
    state.obs.remote = undefined;
    state.obs.search = undefined;
    // The registration may still exist behind a token that no longer works: search before registering.
    state.obs.intentSettled = false;
  },

  async beginRotation(state, { keyAlgorithm, request }) {
    const record = requireRecord(state);
    const pendingKey = await generateSigningKey(keyAlgorithm);
    await save(state, { ...record, pendingKey, intent: { op: 'rotate', at: iso(state.now()) }, lastRotationRequest: request ?? record.lastRotationRequest });
    await state.hook('afterRotationKey');
  },

  async completeRotation(state) {
    const record = requireRecord(state);
    const pending = record.pendingKey;
    if (!pending) throw new Error('no pending key to rotate to');
    // A GrantRevocation's RotateCredentials (request `revocation:<uid>`) keeps no overlap: the old
    // key is presumed compromised, so it leaves the registration in this same PUT.
    const immediate = isImmediateRotationRequest(record.lastRotationRequest);
    const metadata = desired(state, record, registeredJwks(pending, immediate ? undefined : record.key && publicJwk(record.key.privateJwk)));
    const registration = await state.adapter().update(handleOf(record), metadata, state.signal);
    await state.hook('afterRotationUpdate');
    const now = state.now();
    const next = absorb(record, registration, metadata.scope);
    next.key = pending;
    delete next.pendingKey;
    delete next.intent;
    next.lastRotationTime = iso(now);
    if (record.key && !immediate) {
      next.previousKey = publicJwk(record.key.privateJwk);
      next.overlapUntil = iso(now + state.overlapMs());
    } else {
      delete next.previousKey;
      delete next.overlapUntil;
    }
    await save(state, next);
    state.audit('rotate', { clientId: record.clientId, keyId: pending.kid, previousKeyId: record.key?.kid });
    const previous = !record.key ? '' : immediate ? `; previous key ${record.key.kid} removed at once (GrantRevocation)` : `; previous key ${record.key.kid} stays registered until ${next.overlapUntil}`;
    state.event('Normal', 'CredentialsRotated', `new key ${pending.kid} registered${previous}`);
    observed(state, registration, true);
  },

  async endOverlap(state) {
    const record = requireRecord(state);
    const next: RegistrationRecord = { ...record };
    delete next.previousKey;
    delete next.overlapUntil;
    const metadata = desired(state, next);
    const registration = await state.adapter().update(handleOf(record), metadata, state.signal);
    await save(state, absorb(next, registration, metadata.scope));
    state.audit('endOverlap', { clientId: record.clientId, previousKeyId: record.previousKey?.kid });
    state.event('Normal', 'PreviousKeyRemoved', `previous key ${record.previousKey?.kid ?? '?'} removed from the registration after the overlap`);
    observed(state, registration, true);
  },

  async declineRotation(state, { request }) {
    const record = requireRecord(state);
    await save(state, { ...record, lastRotationRequest: request });
    state.event('Warning', 'RotationUnsupported', 'credential rotation was requested, but the client secret cannot be rotated through RFC 7592 at this IdP (see status.credentials.rotationMessage)');
  },

  async writeSecret(state) {
    const { agent } = state.obs;
    const name = agentSecretName(agent);
    // The Secret as this sync saw it (the cache, or a direct read when the cache had none) is
    // written against without reading it again: a create that finds one there, or a replace of an
    // older version, fails with 409, and only then is it read and the write decided again.
    for (let attempt = 0; ; attempt++) {
      const actual = attempt === 0 ? state.secret : ((await state.deps.client.get<SecretObject>(Secrets, name, agent.metadata.namespace)) ?? undefined);
      state.secret = actual;
      await state.refreshSecret();
      if (state.obs.secret.ownership === 'foreign' || state.obs.secret.upToDate) return;
      const credentials = await state.credentials();
      if (!credentials) return;
      const body = renderAgentSecret(agent, credentials, actual);
      if (!body) return;
      let written: SecretObject;
      try {
        written = actual ? await state.deps.client.replace<SecretObject>(Secrets, body) : await state.deps.client.create<SecretObject>(Secrets, body);
      } catch (error) {
        if (attempt === 0 && isConflict(error)) continue;
        throw error;
      }
      state.secret = written;
      await state.refreshSecret();
      if (!actual && !state.extendHeldEvent(`; credentials written to Secret ${name}`)) state.event('Normal', 'SecretCreated', `wrote credentials Secret ${name}`);
      await state.hook('afterSecret');
      return;
    }
  },

  async deleteRegistration(state) {
    const record = requireRecord(state);
    await state.adapter().delete(handleOf(record), state.signal);
    state.audit('delete', { clientId: record.clientId });
    state.event('Normal', 'RegistrationDeleted', `deleted registration ${record.clientId ?? '?'} at the IdP`);
    const next = { ...record };
    delete next.clientId;
    delete next.intent;
    state.obs.record = next;
  },

  async deleteRegistrations(state, { registrations }) {
    for (const registration of registrations) {
      await deleteOne(state, registration, 'registration left by an interrupted attempt that cannot be adopted');
      state.obs.search = (state.obs.search ?? []).filter((r) => r.handle.clientId !== registration.handle.clientId);
    }
  },

  async releaseSecret(state) {
    const { agent } = state.obs;
    const actual = await state.deps.client.get<SecretObject>(Secrets, agentSecretName(agent), agent.metadata.namespace);
    if (actual && (actual.metadata?.ownerReferences ?? []).some((ref) => ref.uid === agent.metadata.uid)) {
      const metadata = { ...actual.metadata };
      metadata.ownerReferences = (metadata.ownerReferences ?? []).filter((ref) => ref.uid !== agent.metadata.uid);
      const labels = { ...(metadata.labels ?? {}) };
      for (const label of [MANAGED_BY_LABEL, AGENTCLIENT_UID_LABEL, AGENTCLIENT_NAME_LABEL]) delete labels[label];
      metadata.labels = labels;
      metadata.annotations = { ...(metadata.annotations ?? {}), 'agentidentity.dev/orphaned-from': `${agent.metadata.namespace}/${agent.metadata.name}/${agent.metadata.uid}` };
      await state.deps.client.replace<SecretObject>(Secrets, { ...actual, metadata });
      state.event('Normal', 'SecretReleased', `deletionPolicy Orphan: the registration and Secret ${agentSecretName(agent)} are left in place`);
    }
    state.obs.secret = { ownership: 'absent', upToDate: false };
  },

  async deleteSecret(state) {
    const { agent } = state.obs;
    await state.deps.client.delete(Secrets, agentSecretName(agent), agent.metadata.namespace, state.secret?.metadata?.uid ? { preconditions: { uid: state.secret.metadata.uid } } : undefined);
    state.obs.secret = { ownership: 'absent', upToDate: false };
  },

  async deleteRecord(state) {
    const { agent, record } = state.obs;
    await state.deps.store.remove(agent.metadata.uid);
    const wanted = (agent.spec.deletionPolicy ?? 'Delete') === 'Delete' && agent.metadata.annotations?.[SKIP_IDP_CLEANUP_ANNOTATION] !== 'true';
    if (wanted && record?.clientId && !manageable(record)) {
      state.event('Warning', 'RegistrationLeftAtIdP', `registration ${record.clientId} was left at the IdP: it was made without an RFC 7592 registration access token, so the operator cannot delete it; remove it at the IdP`);
    }
    state.obs.record = null;
    // The intent annotation outlives the record: what it stood for is resolved, so a retried
    // finalizer removal does not search the IdP again (a restart does, once).
    const at = agent.metadata.annotations?.[REGISTRATION_INTENT_ANNOTATION];
    if (at) state.memory.settledIntentAt = at;
  },

  async removeFinalizer(state) {
    await removeFinalizer(state.deps.client, state.deps.agentClients, state.obs.agent, FINALIZER);
    state.finalized = true;
    state.obs.agent = { ...state.obs.agent, metadata: { ...state.obs.agent.metadata, finalizers: (state.obs.agent.metadata.finalizers ?? []).filter((f) => f !== FINALIZER) } };
  },
};

async function deleteOne(state: SyncState, registration: Registration, why: string, reason = 'RegistrationDeleted'): Promise<void> {
  await state.adapter().delete(registration.handle, state.signal);
  state.audit('delete', { clientId: registration.handle.clientId, why });
  state.event('Normal', reason, `deleted ${why}: ${registration.handle.clientId}`);
}

/**
 * With the drift read (periodic, or for a spec change; not one a ConsentPolicy change forced), where
 * the IdP can list by software_id: registrations carrying this AgentClient's exact software_id (cluster, namespace, name and uid: provably ours) other than the
 * recorded one are orphans, e.g. a registration that reached the IdP after our request had timed
 * out and a retry had registered again. Best effort: a failure is logged and tried next period.
 */
async function deleteOrphans(state: SyncState, record: RegistrationRecord): Promise<void> {
  try {
    const found = await state.adapter().findBySoftwareId(record.softwareId, state.signal, { exceptClientId: record.clientId });
    for (const orphan of found ?? []) {
      if (orphan.metadata.software_id !== record.softwareId || orphan.handle.clientId === record.clientId) continue;
      await deleteOne(state, orphan, 'orphaned registration carrying this AgentClient\'s software_id', 'OrphanRegistrationDeleted');
    }
  } catch (error) {
    const message = isIdpError(error) ? error.message : error instanceof Error ? error.message : String(error);
    state.log.warn({ err: redactAll(message, state.secrets()) }, 'could not look for orphaned registrations; trying again next period');
  }
}

function redactAll(message: string, secrets: string[]): string {
  let out = message;
  for (const secret of secrets) out = out.split(secret).join('[redacted]');
  return out;
}

/** Applies one action. */
export async function applyAction(state: SyncState, action: Action): Promise<void> {
  const handler = handlers[action.type] as Handler<Action>;
  await handler(state, action);
}
