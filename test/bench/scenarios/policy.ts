/**
 * Scenario 6 (ConsentPolicy issue item 6): a policy change affecting the backlog's AgentClients
 * (1,000 by default), all selected by one ConsentPolicy (`bench-agents`, created with the stack
 * so they were registered through it). The policy drops one scope of the three it allowed, a
 * narrowing: every agent's ceiling must be narrowed at the IdP (RFC 7592 PUT), its grants
 * holding that scope revoked (one PolicyNarrowed GrantRevocation each) and its status updated.
 *
 * Measured from just before the policy update, on the server side of each step:
 * - at the IdP: an RFC 7592 PUT for a client seen by the IdP proxy marks it; its stored
 *   registration in the embedded IdP is then checked every few ms until its `scope` no longer
 *   carries the dropped scope (a registration changes only through a PUT, so none is missed);
 * - in status: a watch on the AgentClients until each `status.grantedScopes` is the new ceiling;
 * - GrantRevocations: a watch on the namespace, labelled PolicyNarrowed by `bench-agents`,
 *   until each is Completed (or Failed).
 * Then every registration in the IdP store is checked once more against the exact new ceiling.
 */
import type { KubeObject } from '../../../src/runtime/kube/types.ts';
import type { AgentObject } from '../agents.ts';
import { percentile, seconds, sleep } from '../context.ts';
import type { BenchContext } from '../context.ts';
import { countApiWrites, countIdpCalls, idpOperation } from '../proxy.ts';
import { AGENTS_POLICY, AgentClients, ConsentPolicies, DROPPED_SCOPE, GrantRevocations, SCOPES } from '../stack.ts';
import { watchObjects } from '../watch.ts';
import { AGENTS_NAMESPACE } from './backlog.ts';
import { waitDrained } from './quiet.ts';

/** Labels the operator puts on the GrantRevocations it creates (consentpolicy/narrowing.ts). */
const DECISION_LABEL = 'agentidentity.dev/decision';
const CONSENTPOLICY_LABEL = 'agentidentity.dev/consentpolicy';
/** Period of the IdP store check for clients whose PUT has arrived. */
const IDP_POLL_MS = 5;

interface PolicyAgent extends AgentObject {
  status?: AgentObject['status'] & { grantedScopes?: string[] };
}

interface RevocationObject extends KubeObject {
  status?: { phase?: string; targets?: Array<{ results?: Array<{ action?: string; outcome?: string; grantsRevoked?: number; tokensRevoked?: number }> }> };
}

export interface PolicyResult {
  policy: string;
  agents: number;
  droppedScope: string;
  ceilingBefore: string[];
  ceilingAfter: string[];
  /** Policy update -> the IdP holds the narrowed ceiling for every agent. The headline figure. */
  idpAllNarrowedSeconds: number;
  idpNarrowedP50Seconds: number;
  idpNarrowedP99Seconds: number;
  /** Policy update -> every AgentClient's status.grantedScopes is the new ceiling. */
  statusAllUpdatedSeconds: number;
  grantRevocations: {
    created: number;
    completed: number;
    failed: number;
    /** Policy update -> the last of them Completed (or Failed). */
    allFinishedSeconds: number;
    /** False: fewer than one per agent were created, or some never finished, within the timeout. */
    complete: boolean;
    grantsRevoked: number;
    tokensRevoked: number;
    note: string;
  };
  /** Final check of every registration in the IdP store: exactly the new ceiling. */
  verifiedAtIdp: { narrowed: number; mismatches: string[] };
  idpCalls: ReturnType<typeof countIdpCalls>;
  apiWrites: ReturnType<typeof countApiWrites>;
  observation: string;
}

const sameScopes = (a: readonly string[] | undefined, b: readonly string[]): boolean => JSON.stringify([...(a ?? [])].sort()) === JSON.stringify([...b].sort());
const scopeList = (scope: unknown): string[] => (typeof scope === 'string' ? scope.split(' ').filter(Boolean) : []);

/** Resolves true when `done()` holds, false after `timeoutMs`; checks every `pollMs`. */
async function until(done: () => boolean, timeoutMs: number, pollMs = 50): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) return false;
    await sleep(pollMs);
  }
  return true;
}

/** Every backlog agent registered with the full ceiling, at the IdP and in status: name -> client_id. */
async function preconditions(ctx: BenchContext, before: readonly string[]): Promise<Map<string, string>> {
  const { stack, options } = ctx;
  const agents = (await stack.client.list<PolicyAgent>(AgentClients, { namespace: AGENTS_NAMESPACE })).items;
  const store = stack.idp().store;
  const clientOf = new Map<string, string>();
  for (const agent of agents) {
    const name = agent.metadata?.name ?? '';
    const clientId = agent.status?.clientId;
    if (!clientId) throw new Error(`policy: ${name} has no clientId`);
    if (!sameScopes(agent.status?.grantedScopes, before)) throw new Error(`policy: ${name} grantedScopes ${JSON.stringify(agent.status?.grantedScopes)}, expected ${before.join(' ')}`);
    if (!sameScopes(scopeList(store.client(clientId)?.['scope']), before)) throw new Error(`policy: ${name}'s registration at the IdP does not hold ${before.join(' ')}`);
    clientOf.set(name, clientId);
  }
  if (agents.length !== options.agents) throw new Error(`policy: ${agents.length} AgentClients in ${AGENTS_NAMESPACE}, expected ${options.agents}`);
  return clientOf;
}

/** Totals over the GrantRevocations seen. */
function revocationTotals(grevs: Iterable<RevocationObject>): { completed: number; grantsRevoked: number; tokensRevoked: number } {
  const out = { completed: 0, grantsRevoked: 0, tokensRevoked: 0 };
  for (const grev of grevs) {
    if (grev.status?.phase === 'Completed') out.completed += 1;
    for (const r of (grev.status?.targets ?? []).flatMap((t) => t.results ?? [])) {
      out.grantsRevoked += r.grantsRevoked ?? 0;
      out.tokensRevoked += r.tokensRevoked ?? 0;
    }
  }
  return out;
}

export async function runPolicyChange(ctx: BenchContext): Promise<PolicyResult> {
  const { stack, options } = ctx;
  const operator = ctx.operator;
  if (!operator) throw new Error('policy: no operator running');
  const before = [...SCOPES].sort();
  const after = before.filter((s) => s !== DROPPED_SCOPE);

  const clientOf = await preconditions(ctx, before);
  const store = stack.idp().store;
  await waitDrained(operator, { timeoutMs: 300_000 });

  // Observers, all started (and synced) before the change.
  const statusAt = new Map<string, number>();
  const agentWatch = watchObjects<PolicyAgent>(stack.client, AgentClients, AGENTS_NAMESPACE, (kind, obj) => {
    const name = obj.metadata?.name ?? '';
    if (kind === 'upsert' && clientOf.has(name) && !statusAt.has(name) && sameScopes(obj.status?.grantedScopes, after)) statusAt.set(name, performance.now());
  });
  const grevSeen = new Map<string, RevocationObject>();
  const grevFinishedAt = new Map<string, number>();
  const grevWatch = watchObjects<RevocationObject>(stack.client, GrantRevocations, AGENTS_NAMESPACE, (kind, obj) => {
    const labels = obj.metadata?.labels ?? {};
    const name = obj.metadata?.name ?? '';
    if (kind !== 'upsert' || labels[DECISION_LABEL] !== 'PolicyNarrowed' || labels[CONSENTPOLICY_LABEL] !== AGENTS_POLICY) return;
    grevSeen.set(name, obj);
    const phase = obj.status?.phase;
    if ((phase === 'Completed' || phase === 'Failed') && !grevFinishedAt.has(name)) grevFinishedAt.set(name, performance.now());
  });
  const expected = new Set(clientOf.values());
  const putSeen = new Set<string>();
  const idpAt = new Map<string, number>();
  let polling = true;
  const poll = (async () => {
    while (polling) {
      for (const clientId of putSeen) {
        if (!sameScopes(scopeList(store.client(clientId)?.['scope']), before)) {
          idpAt.set(clientId, performance.now());
          putSeen.delete(clientId);
        }
      }
      await sleep(IDP_POLL_MS);
    }
  })();
  try {
    await Promise.all([agentWatch.synced, grevWatch.synced]);
    const preexisting = grevSeen.size;
    if (preexisting > 0) throw new Error(`policy: ${preexisting} PolicyNarrowed GrantRevocations exist before the change`);
    stack.idpProxy.onRequest((request) => {
      if (idpOperation(request) !== 'update') return;
      const clientId = decodeURIComponent(request.path.slice('/reg/'.length));
      if (expected.has(clientId) && !idpAt.has(clientId)) putSeen.add(clientId);
    });
    stack.apiProxy.reset();
    stack.idpProxy.reset();

    const start = performance.now();
    await stack.client.patch(ConsentPolicies, AGENTS_POLICY, undefined, 'merge', { spec: { allowedScopes: after } });
    const timeoutMs = options.timeoutSeconds * 1000;
    const idpDone = await until(() => idpAt.size === expected.size, timeoutMs, 20);
    const statusDone = await until(() => statusAt.size === clientOf.size, Math.max(1, timeoutMs - (performance.now() - start)));
    const grevDone = await until(() => grevSeen.size >= clientOf.size && grevFinishedAt.size === grevSeen.size, Math.max(1, timeoutMs - (performance.now() - start)));
    if (!idpDone) throw new Error(`policy: ${expected.size - idpAt.size}/${expected.size} registrations still carry ${DROPPED_SCOPE} after ${options.timeoutSeconds}s`);
    if (!statusDone) throw new Error(`policy: ${clientOf.size - statusAt.size} AgentClients' status not updated after ${options.timeoutSeconds}s`);

    const mismatches: string[] = [];
    for (const [name, clientId] of clientOf) {
      const held = scopeList(store.client(clientId)?.['scope']);
      if (!sameScopes(held, after) && mismatches.length < 10) mismatches.push(`${name}: ${held.join(' ')}`);
    }
    const idpTimes = [...idpAt.values()].map((t) => t - start);
    const { completed, grantsRevoked, tokensRevoked } = revocationTotals(grevSeen.values());
    return {
      policy: AGENTS_POLICY,
      agents: clientOf.size,
      droppedScope: DROPPED_SCOPE,
      ceilingBefore: before,
      ceilingAfter: after,
      idpAllNarrowedSeconds: seconds(Math.max(...idpTimes)),
      idpNarrowedP50Seconds: seconds(percentile(idpTimes, 50) ?? 0),
      idpNarrowedP99Seconds: seconds(percentile(idpTimes, 99) ?? 0),
      statusAllUpdatedSeconds: seconds(Math.max(...statusAt.values()) - start),
      grantRevocations: {
        created: grevSeen.size,
        completed,
        failed: grevSeen.size - completed,
        allFinishedSeconds: grevFinishedAt.size > 0 ? seconds(Math.max(...grevFinishedAt.values()) - start) : 0,
        complete: grevDone,
        grantsRevoked,
        tokensRevoked,
        note: 'the bench agents use client_credentials only, so no user grant exists to revoke: each GrantRevocation still makes its IdP revocation call',
      },
      verifiedAtIdp: { narrowed: clientOf.size - mismatches.length, mismatches },
      idpCalls: countIdpCalls(stack.idpProxy.requests()),
      apiWrites: countApiWrites(stack.apiProxy.requests()),
      observation:
        `from just before the ConsentPolicy patch; IdP: an RFC 7592 PUT seen by the IdP proxy, then the embedded IdP store checked every ${IDP_POLL_MS} ms until ` +
        `the registration's scope no longer carries ${DROPPED_SCOPE}; status and GrantRevocations by watch`,
    };
  } finally {
    polling = false;
    await poll;
    stack.idpProxy.onRequest(undefined);
    agentWatch.stop();
    grevWatch.stop();
  }
}
