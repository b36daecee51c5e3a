/**
 * A ceiling the IdP cannot be made to hold (DESIGN.md "Blast radius": when a policy narrows, what
 * was granted beyond it is revoked). Two cases:
 *
 * - `narrowed`: the policies allow less than the registration carries, and the registration
 *   cannot be updated (the IdP offers no RFC 7592 management, or gave this registration no
 *   registration access token). The IdP keeps issuing tokens up to the old ceiling;
 * - `nothing`: the policies allow nothing and the IdP cannot disable the client
 *   (no `disableClient`; nothing-allowed.ts): the IdP keeps the last ceiling.
 *
 * What the operator still can do, it does: the grants holding the scopes the policy removed are
 * revoked once (a PolicyNarrowed GrantRevocation; every grant for `nothing`), and the agent Secret
 * is withheld (removed, not rewritten) as a GrantRevocation Suspend does, so the agent stops using
 * credentials a policy no longer backs. PolicyCompliant says what the IdP still accepts. Once the
 * policy allows the registered ceiling again, the Secret is written again.
 */
import { differenceScopes, normalizeScopes } from '../../policy/index.ts';
import type { CeilingEvaluation, ConditionResult } from './ceiling.ts';
import type { RegistrationRecord } from './registration-store.ts';
import type { DiscoveredProvider } from '../../idp/adapter.ts';

/** PolicyCompliant reason: narrower than registered, and the registration cannot be updated. */
export const CEILING_NOT_ENFORCEABLE = 'CeilingNotEnforceable';

/** A ceiling the IdP cannot be made to hold. */
export interface Unenforceable {
  kind: 'narrowed' | 'nothing';
  /** The scope the registration carries (what the IdP still issues up to). */
  registered: string[];
  /** Registered scopes the policies no longer allow. */
  removed: string[];
}

/** What {@link unenforceableCeiling} reads from the observation. */
export interface EnforcementInput {
  record: RegistrationRecord | null;
  provider: { discovered?: DiscoveredProvider | undefined };
  ceiling: Pick<CeilingEvaluation, 'held' | 'granted'>;
}

/**
 * The ceiling the IdP cannot be made to hold, or undefined. Undefined too while anything is
 * unknown (no registration, IdP not discovered, ceiling held): nothing is withheld on a guess.
 */
export function unenforceableCeiling(obs: EnforcementInput): Unenforceable | undefined {
  const { record, ceiling } = obs;
  const caps = obs.provider.discovered?.capabilities;
  if (!record?.clientId || !caps || ceiling.held || record.registeredScope === undefined) return undefined;
  const registered = normalizeScopes(record.registeredScope.split(' ').filter(Boolean));
  if (ceiling.granted.length === 0) return caps.disableClient ? undefined : { kind: 'nothing', registered, removed: registered };
  const updatable = caps.management && Boolean(record.registrationAccessToken && record.registrationClientUri);
  if (updatable) return undefined;
  const removed = differenceScopes(registered, ceiling.granted);
  return removed.length > 0 ? { kind: 'narrowed', registered, removed } : undefined;
}

/** PolicyCompliant for a narrowed ceiling the registration cannot take. */
export function notEnforceableCondition(evaluation: Pick<CeilingEvaluation, 'granted' | 'policyCompliant'>, u: Unenforceable): ConditionResult {
  return {
    status: 'False',
    reason: CEILING_NOT_ENFORCEABLE,
    message:
      `${evaluation.policyCompliant.message}; the policies allow ${evaluation.granted.join(' ')} but the IdP gave this registration no RFC 7592 management, ` +
      `so it still holds ${u.registered.join(' ')} and cannot be narrowed: grants holding ${u.removed.join(' ')} are revoked (PolicyNarrowed GrantRevocation) ` +
      'and the agent Secret is withheld; the credentials still authenticate at the IdP up to the old ceiling if copied elsewhere. ' +
      'Delete the AgentClient (and the client at the IdP) and recreate it to register under the new ceiling, or change the policy back',
  };
}

/** CredentialsReady while the Secret is withheld. */
export function secretWithheldCondition(secretName: string): ConditionResult {
  return {
    status: 'False',
    reason: 'SecretWithheld',
    message: `Secret ${secretName} is withheld: a ConsentPolicy allows less than the IdP holds for this client and the IdP cannot be made to narrow it (see PolicyCompliant)`,
  };
}
