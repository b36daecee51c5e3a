/**
 * The four revocation actions, each applied to one target: one IdP call (plus, for Suspend,
 * removing the agent Secret) turned into an {@link ActionResult}.
 *
 * Error classes (STYLE.md rule 5):
 * - a transient IdP failure (down, 5xx, 429, timeout) is thrown: the sync reports it in the
 *   Ready condition and the key is retried with backoff; it is never recorded as a result;
 * - a missing capability becomes `Unsupported`, with what was and was not done;
 * - any other IdP refusal becomes `Failed` with the IdpError code (messages are secret-free by
 *   the adapter contract).
 * Kubernetes API failures are thrown (transient).
 */
import type { IdpAdapter, IdpCapabilities, RegistrationHandle } from '../../idp/adapter.ts';
import { isIdpError } from '../../idp/errors.ts';
import type { KubeClient } from '../../runtime/kube/client.ts';
import { Secrets } from '../../runtime/kube/types.ts';
import type { SecretObject } from '../../runtime/kube/types.ts';
import type { AgentClient } from '../agentclient/types.ts';
import { agentSecretName, secretOwnership } from '../agentclient/secret.ts';
import { immediateRotationRequest, isImmediateRotationRequest } from './suspension.ts';
import { AgentClients, ROTATE_ANNOTATION } from './types.ts';
import type { ActionResult, GrantRevocation, Outcome, RevocationAction } from './types.ts';

/** The IdP serving a target, as the IdentityProvider controller resolved it. */
export interface ProviderHandle {
  /** IdentityProvider name. */
  name: string;
  adapter: IdpAdapter;
  capabilities: IdpCapabilities;
}

/** The registration handle (RFC 7592 section 3) from the operator's own record, or null. */
export type LoadHandle = (agentClient: AgentClient) => Promise<RegistrationHandle | null>;

/**
 * The client the operator's own registration record (`agc-<uid>`) holds for an AgentClient, and
 * whether a registration was started there and has no IdP answer yet. The record is written
 * before the AgentClient's status, so it knows a client while `status.clientId` is still empty
 * (a crash between the two writes, a registration backlog).
 */
export interface RecordedClient {
  clientId?: string;
  registering: boolean;
}

export type LoadRecordedClient = (agentClient: AgentClient) => Promise<RecordedClient>;

export interface ActionDeps {
  client: KubeClient;
  loadHandle: LoadHandle;
  loadRecordedClient: LoadRecordedClient;
  /** Put an AgentClient key in the AgentClient controller's priority lane. */
  wakeAgentClient: (key: string) => void;
}

/** An action handed to another controller and not finished yet (no result is recorded). */
export interface Pending {
  pending: string;
}

export interface ActionInput {
  grev: GrantRevocation;
  agentClient: AgentClient;
  clientId: string | undefined;
  provider: ProviderHandle;
  now: () => string;
  signal: AbortSignal;
}

const MAX_MESSAGE = 1024;

function result(action: RevocationAction, call: string, outcome: Outcome, message: string, now: string, counts?: { grantsRevoked: number; tokensRevoked: number }): ActionResult {
  return { action, call, outcome, message: message.slice(0, MAX_MESSAGE), time: now, ...(counts ?? {}) };
}

/** Non-transient IdP errors as a result; transient ones and everything else rethrown. */
function refusal(action: RevocationAction, call: string, error: unknown, now: string): ActionResult {
  if (!isIdpError(error) || error.transient) throw error;
  const outcome: Outcome = error.code === 'Unsupported' ? 'Unsupported' : 'Failed';
  return result(action, call, outcome, `${error.code}: ${error.message}`, now);
}

const NOT_REGISTERED = 'the AgentClient has no registration at the IdP';

export async function runAction(deps: ActionDeps, action: RevocationAction, input: ActionInput): Promise<ActionResult | Pending> {
  switch (action) {
    case 'Suspend':
      return suspend(deps, input);
    case 'RevokeGrants':
      return revokeGrants(input);
    case 'RotateCredentials':
      return rotate(deps, input);
    case 'DeleteRegistration':
      return deleteRegistration(deps, input);
  }
}

/** RevokeGrants: every grant and derived token of the client (optionally one subject's, optionally by scope). */
async function revokeGrants(input: ActionInput): Promise<ActionResult> {
  const { grev, clientId, provider } = input;
  const subject = grev.spec.subject;
  const call = subject === undefined ? 'revokeClientGrants' : 'revokeSubjectGrants';
  if (clientId === undefined) return result('RevokeGrants', 'none', 'Succeeded', `${NOT_REGISTERED}: no grants exist`, input.now(), { grantsRevoked: 0, tokensRevoked: 0 });
  const capable = subject === undefined ? provider.capabilities.revokeClientGrants : provider.capabilities.revokeSubjectGrants;
  if (!capable) {
    const what = subject === undefined ? "all of a client's grants" : "one subject's grants";
    return result('RevokeGrants', call, 'Unsupported', `IdentityProvider ${provider.name} (${provider.adapter.type}) cannot revoke ${what}; nothing was revoked`, input.now());
  }
  try {
    const res = await provider.adapter.revokeGrants(
      { clientId, ...(subject === undefined ? {} : { subject }), ...(grev.spec.scopes?.length ? { scopes: grev.spec.scopes } : {}) },
      input.signal,
    );
    const scope = grev.spec.scopes?.length ? ` holding ${grev.spec.scopes.join(' ')}` : '';
    const who = subject === undefined ? 'all subjects' : `subject ${subject}`;
    return result('RevokeGrants', res.call, 'Succeeded', `revoked ${res.grantsRevoked} grants and ${res.tokensRevoked} tokens of ${who}${scope}`, input.now(), {
      grantsRevoked: res.grantsRevoked,
      tokensRevoked: res.tokensRevoked,
    });
  } catch (error) {
    return refusal('RevokeGrants', call, error, input.now());
  }
}

/**
 * Suspend: disable the client at the IdP, then remove the agent Secret (only ours: proven by an
 * ownerReference to this AgentClient's uid). Without `disableClient` the Secret is still removed
 * and held away, but the credentials the agent already copied keep working: Unsupported, honestly.
 */
async function suspend(deps: ActionDeps, input: ActionInput): Promise<ActionResult> {
  const { agentClient, clientId, provider } = input;
  const call = clientId === undefined ? 'none' : 'setDisabled(true)';
  let disabled: string;
  let outcome: Outcome = 'Succeeded';
  if (clientId === undefined) {
    disabled = `${NOT_REGISTERED}, so nothing to disable there`;
  } else if (!provider.capabilities.disableClient) {
    outcome = 'Unsupported';
    disabled = `IdentityProvider ${provider.name} (${provider.adapter.type}) cannot disable a client, so credentials already copied from the Secret still work (add RotateCredentials or DeleteRegistration)`;
  } else {
    try {
      await provider.adapter.setDisabled(clientId, true, input.signal);
      disabled = `client ${clientId} disabled at IdentityProvider ${provider.name}`;
    } catch (error) {
      return refusal('Suspend', call, error, input.now());
    }
  }
  const secret = await removeAgentSecret(deps.client, agentClient);
  return result('Suspend', call, outcome, `${disabled}; ${secret}`, input.now());
}

async function removeAgentSecret(client: KubeClient, agentClient: AgentClient): Promise<string> {
  const name = agentSecretName(agentClient);
  const namespace = agentClient.metadata.namespace;
  const secret = await client.get<SecretObject>(Secrets, name, namespace);
  const ownership = secretOwnership(agentClient, (secret ?? undefined));
  if (ownership === 'absent') return `agent Secret ${name} absent`;
  if (ownership === 'foreign') return `Secret ${name} is not owned by this AgentClient and was left alone`;
  // Preconditioned on uid: never delete a same-named Secret created in between by someone else.
  await client.delete(Secrets, name, namespace, { preconditions: { uid: secret?.metadata?.uid ?? '' } });
  return `agent Secret ${name} deleted`;
}

/**
 * RotateCredentials, done by the AgentClient controller's own rotation (write-ahead key, RFC 7592
 * PUT of the new `jwks`, agent Secret update) through its documented request annotation, with a
 * value marking it immediate: that rotation keeps no overlap, so the old key is refused at once.
 * Level-based: the annotation is (re)written until the AgentClient's status shows a revocation
 * rotation handled since this GrantRevocation was created.
 */
async function rotate(deps: ActionDeps, input: ActionInput): Promise<ActionResult | Pending> {
  const { agentClient, grev } = input;
  const call = 'RFC 7592 PUT (new jwks, no overlap) by the AgentClient controller';
  if (input.clientId === undefined) return result('RotateCredentials', 'none', 'Succeeded', `${NOT_REGISTERED}: no credentials to rotate`, input.now());
  const request = immediateRotationRequest(grev);
  const credentials = agentClient.status?.credentials;
  const state = rotationState(grev, credentials);
  if (state === 'unsupported') {
    return result('RotateCredentials', call, 'Unsupported', `the AgentClient controller could not rotate: ${credentials?.rotationMessage ?? 'rotation unsupported at this IdP'}`, input.now());
  }
  if (state === 'done') {
    return result('RotateCredentials', call, 'Succeeded', `new key ${credentials?.keyId ?? '?'} registered for client ${input.clientId}; the previous key was removed at once (no overlap)`, input.now());
  }
  const key = `${agentClient.metadata.namespace}/${agentClient.metadata.name}`;
  if (agentClient.metadata.annotations?.[ROTATE_ANNOTATION] !== request) {
    await deps.client.patch(AgentClients, agentClient.metadata.name, agentClient.metadata.namespace, 'merge', { metadata: { annotations: { [ROTATE_ANNOTATION]: request } } });
  }
  deps.wakeAgentClient(key);
  return { pending: `waiting for the AgentClient controller to rotate the credentials of ${agentClient.metadata.name}` };
}

/**
 * Whether the AgentClient's status shows the immediate rotation done: the request handled, a
 * rotation since this GrantRevocation was created, and no previous key left registered. (The
 * request is recorded before the IdP call, so `lastRotationRequest` alone would also be true for
 * a rotation whose RFC 7592 PUT failed.) Another revocation's immediate rotation since this one was
 * created satisfies it too, which also keeps two concurrent revocations from re-requesting each
 * other's rotation forever.
 */
export function rotationState(grev: GrantRevocation, credentials: NonNullable<AgentClient['status']>['credentials']): 'done' | 'unsupported' | 'pending' {
  const handled = credentials?.lastRotationRequest;
  const ours = handled === immediateRotationRequest(grev);
  if (ours && credentials?.rotationSupport === 'Unsupported') return 'unsupported';
  const created = Date.parse(grev.metadata.creationTimestamp ?? '');
  const rotated = Date.parse(credentials?.lastRotationTime ?? '');
  const rotatedSince = !Number.isNaN(created) && rotated >= created;
  const noOverlap = credentials?.previousKeyId === undefined;
  return (ours || isImmediateRotationRequest(handled)) && rotatedSince && noOverlap ? 'done' : 'pending';
}

/** DeleteRegistration: RFC 7592 section 2.3 DELETE with the registration access token on record. */
async function deleteRegistration(deps: ActionDeps, input: ActionInput): Promise<ActionResult> {
  const { clientId, provider } = input;
  const call = 'RFC 7592 DELETE';
  if (clientId === undefined) return result('DeleteRegistration', 'none', 'Succeeded', `${NOT_REGISTERED}: nothing to delete`, input.now());
  if (!provider.capabilities.management) {
    return result('DeleteRegistration', call, 'Unsupported', `IdentityProvider ${provider.name} (${provider.adapter.type}) offers no RFC 7592 management; the registration was not deleted`, input.now());
  }
  const handle = await deps.loadHandle(input.agentClient);
  if (!handle || handle.clientId !== clientId) {
    return result('DeleteRegistration', call, 'Failed', `no registration access token on record for client ${clientId}; the registration was not deleted`, input.now());
  }
  try {
    await provider.adapter.delete(handle, input.signal);
    return result('DeleteRegistration', call, 'Succeeded', `registration of client ${clientId} deleted`, input.now());
  } catch (error) {
    return refusal('DeleteRegistration', call, error, input.now());
  }
}
