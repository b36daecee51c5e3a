/**
 * A registered AgentClient whose ConsentPolicies now allow NOTHING (DESIGN.md "Blast radius":
 * when a policy narrows, what was granted beyond it is revoked). That is a narrowing of every
 * scope, and RFC 7591 cannot express it as a ceiling: an absent `scope` means the IdP's default
 * (section 2), and oidc-provider 9 accepts `scope: ""` but stores it as absent. So:
 *
 * - where the IdP can disable a client (`disableClient`), it is disabled: it can neither
 *   authenticate nor obtain tokens, and its effective ceiling (`status.grantedScopes`) is empty.
 *   The history records PolicyNarrowed with every scope removed, and a PolicyNarrowed
 *   GrantRevocation revokes every grant (policy.ts). Once a policy allows a scope again the
 *   registration is updated to the new ceiling first and the client is re-enabled after, unless a
 *   GrantRevocation `Suspend` holds it (its lift re-enables it; the lift in turn leaves a client
 *   disabled here alone: grantrevocation/lift.ts). Users consent afresh: their grants are gone;
 * - elsewhere the IdP keeps the last ceiling, every grant is still revoked once, the agent Secret
 *   is withheld (enforcement.ts), and PolicyCompliant says plainly what still works
 *   (client_credentials up to that ceiling, for whoever copied the credentials).
 *
 * Whether this operator disabled the client is read from status (PolicyCompliant reason
 * {@link NOTHING_ALLOWED}): written only after the IdP call succeeded, so a crash in between
 * repeats an idempotent call and nothing else.
 */
import type { RevocationHolds } from '../grantrevocation/holds.ts';
import type { CeilingEvaluation, ConditionResult } from './ceiling.ts';
import type { Action, Observation } from './plan.ts';
import type { SyncState } from './state.ts';
import { unenforceableCeiling } from './enforcement.ts';
import type { Unenforceable } from './enforcement.ts';
import type { AgentClient } from './types.ts';

/** PolicyCompliant reason: nothing is allowed and the client is disabled at the IdP. */
export const NOTHING_ALLOWED = 'NothingAllowed';
/** PolicyCompliant reason: nothing is allowed, the IdP cannot disable the client, it keeps its ceiling. */
export const NOTHING_ALLOWED_CEILING_KEPT = 'NothingAllowedCeilingKept';

/** What the status and the ceiling change need to know about the client's access. */
export interface ClientAccess {
  /** This operator holds the client disabled at the IdP because nothing is allowed. */
  disabled: boolean;
  /** The IdP has `disableClient`; undefined while it is not discovered. */
  disableSupported: boolean | undefined;
  /** The IdP cannot be made to hold the evaluated ceiling: the Secret is withheld (enforcement.ts). */
  unenforceable?: Unenforceable;
}

/** Whether policies allow nothing to a registered client (an invalid selector holds instead). */
export function allowsNothing(evaluation: Pick<CeilingEvaluation, 'held' | 'granted'>): boolean {
  return !evaluation.held && evaluation.granted.length === 0;
}

function policyCompliantReason(agent: AgentClient): string | undefined {
  return (agent.status?.conditions)?.find((c) => c.type === 'PolicyCompliant')?.reason;
}

/** Whether status already records the all-grants revocation of a client whose IdP keeps its ceiling. */
export function ceilingKeptRecorded(agent: AgentClient): boolean {
  return policyCompliantReason(agent) === NOTHING_ALLOWED_CEILING_KEPT;
}

/** `lastTransitionTime` of PolicyCompliant: stable until status records a new decision. */
export function policyCompliantSince(agent: AgentClient): string {
  return (agent.status?.conditions)?.find((c) => c.type === 'PolicyCompliant')?.lastTransitionTime ?? '';
}

/**
 * Whether the client is disabled by this operator, as a sync starts: status says so, unless a
 * policy allows scopes again while a GrantRevocation suspends it (then the suspension owns the
 * disabled state and its lift re-enables the client).
 */
export function initiallyDisabled(agent: AgentClient, ceiling: CeilingEvaluation, holds: RevocationHolds | undefined): boolean {
  if (!agent.status?.clientId || policyCompliantReason(agent) !== NOTHING_ALLOWED) return false;
  return !(ceiling.granted.length > 0 && !ceiling.held && (holds?.suspendedBy.length ?? 0) > 0);
}

/** Whether an AgentClient's status says the operator holds its client disabled (for the suspension lift). */
export function disabledByPolicy(agent: AgentClient): boolean {
  return policyCompliantReason(agent) === NOTHING_ALLOWED;
}

/**
 * The access step of the planner: `disable` runs before any other IdP work of a registered
 * client (cut first), `enable` only after the registration holds the new ceiling (the planner
 * calls it last), never while a suspension holds the client.
 */
export function clientAccessStep(obs: Observation, phase: 'disable' | 'enable'): Action | undefined {
  if (!obs.provider.discovered?.capabilities.disableClient || !obs.record?.clientId || obs.ceiling.held) return undefined;
  const nothing = obs.ceiling.granted.length === 0;
  const disabled = obs.policyDisabled === true;
  if (phase === 'disable') return nothing && !disabled ? { type: 'setPolicyDisabled', disabled: true } : undefined;
  if (nothing || !disabled || (obs.holds?.suspendedBy.length ?? 0) > 0) return undefined;
  return { type: 'setPolicyDisabled', disabled: false };
}

/** Applies the access step: one IdP call, audited, then folded into the observation. */
export async function applyClientAccess(state: SyncState, disabled: boolean): Promise<void> {
  const clientId = state.obs.record?.clientId;
  if (!clientId) throw new Error('no registered client to disable or enable');
  await state.adapter().setDisabled(clientId, disabled, state.signal);
  state.obs.policyDisabled = disabled;
  state.audit(disabled ? 'disable' : 'enable', { clientId, why: disabled ? 'no ConsentPolicy allows any scope' : 'a ConsentPolicy allows scopes again' });
  state.event(
    disabled ? 'Warning' : 'Normal',
    disabled ? 'ClientDisabledByPolicy' : 'ClientEnabledByPolicy',
    disabled
      ? `no ConsentPolicy allows any requested scope: client ${clientId} disabled at the IdP; every grant is revoked`
      : `a ConsentPolicy allows ${state.obs.ceiling.granted.join(' ')} again: client ${clientId} re-enabled at the IdP; users consent afresh`,
  );
}

/** The client's access for status, from the final observation. */
export function clientAccess(obs: Observation): ClientAccess {
  const unenforceable = unenforceableCeiling(obs);
  return { disabled: obs.policyDisabled === true, disableSupported: obs.provider.discovered?.capabilities.disableClient, ...(unenforceable ? { unenforceable } : {}) };
}

/** PolicyCompliant for a registered client that nothing is allowed to, or while it is re-enabled; undefined otherwise. */
export function nothingAllowedCondition(evaluation: CeilingEvaluation, registered: readonly string[], access: ClientAccess): ConditionResult | undefined {
  const base = evaluation.policyCompliant.message;
  if (!allowsNothing(evaluation)) {
    if (!access.disabled || evaluation.held) return undefined;
    return { status: 'Unknown', reason: 'CeilingPending', message: `the client is still disabled at the IdP; it is re-enabled with ${evaluation.granted.join(' ')} once the IdP holds that ceiling` };
  }
  if (access.disabled) {
    return {
      status: 'False',
      reason: NOTHING_ALLOWED,
      message: `${base}; the client is disabled at the IdP (no authentication, no token) and every grant is revoked (PolicyNarrowed GrantRevocation); it is re-enabled once a ConsentPolicy allows a scope, and users consent afresh`,
    };
  }
  if (access.disableSupported === false) {
    return {
      status: 'False',
      reason: NOTHING_ALLOWED_CEILING_KEPT,
      message:
        `${base}; every grant is revoked (PolicyNarrowed GrantRevocation) and the agent Secret is withheld, but this IdP cannot disable a client and an empty ceiling cannot be registered ` +
        `(RFC 7591 section 2: an absent scope means the IdP's default; oidc-provider stores scope "" as absent), so the IdP keeps ${registered.join(' ') || '(none)'}: ` +
        'whoever holds a copy of the credentials can still obtain client_credentials tokens up to it; delete the AgentClient to remove the registration',
    };
  }
  return { status: 'Unknown', reason: 'CeilingPending', message: `${base}; disabling the client at the IdP` };
}

/** Ready while nothing is allowed to a registered client: it cannot (or must not) work. */
export function nothingAllowedReady(obs: Observation): ConditionResult | undefined {
  if (!obs.record?.clientId || !allowsNothing(obs.ceiling)) return undefined;
  const access = clientAccess(obs);
  const what = access.disabled
    ? 'the client is disabled at the IdP'
    : access.disableSupported === false
    ? 'the IdP keeps its last ceiling, the agent Secret is withheld (see PolicyCompliant)'
    : 'the client is being disabled at the IdP';
  return { status: 'False', reason: NOTHING_ALLOWED, message: `no ConsentPolicy allows any requested scope: ${what}` };
}
