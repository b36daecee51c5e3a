/**
 * `kubectl agentid lift AGENT|GRANTREVOCATION --reason ...`: lifts a suspension. A Suspend holds
 * while its GrantRevocation exists, so lifting is deleting that GrantRevocation; the reason (and
 * who lifted) is first recorded on it as annotations so the deletion is an explicit, recorded act
 * (the API server's audit log and the operator's Event keep it after the object is gone).
 */
import { Annotations, type AgentClient, type GrantRevocation } from '../api.ts';
import { booleanFlag, expectPositionals, parseTimeout, stringFlag } from '../args.ts';
import { CliError, Exit, usageError, type ExitCode } from '../exit.ts';
import { Progress } from '../progress.ts';
import { formatDuration } from '../render/duration.ts';
import { targetsAgent } from '../render/history.ts';
import { waitFor } from '../wait.ts';
import { json, type CommandContext } from './context.ts';
import { currentUser, requireReason } from './shared.ts';

interface Ref {
  namespace: string;
  name: string;
}

const suspends = (r: GrantRevocation): boolean => r.spec.actions.includes('Suspend');

/** The suspending GrantRevocations `arg` names: itself, or those holding the agent `arg`. */
async function resolve(ctx: CommandContext, arg: string): Promise<Ref[]> {
  const ns = ctx.kube.namespace;
  const revocation = await ctx.kube.get<GrantRevocation>('grantrevocations', ns, arg);
  if (revocation) {
    if (!suspends(revocation)) throw usageError(`grantrevocation ${ns}/${arg} does not suspend anything (actions: ${revocation.spec.actions.join(', ')})`);
    return [{ namespace: ns, name: arg }];
  }
  const agent = await ctx.kube.get<AgentClient>('agentclients', ns, arg);
  if (!agent) throw new CliError(Exit.NotFoundOrForbidden, `no grantrevocation or agentclient named ${arg} in namespace ${ns}`);
  const refs = new Map<string, Ref>();
  for (const ref of agent.status?.suspendedBy ?? []) {
    const [refNs, refName] = ref.includes('/') ? ref.split('/', 2) : [ns, ref];
    if (refNs && refName) refs.set(`${refNs}/${refName}`, { namespace: refNs, name: refName });
  }
  // Also those the operator has not reported yet: a fresh Suspend may not be in status.
  const { items } = await ctx.kube.list<GrantRevocation>('grantrevocations', ns);
  for (const r of items) {
    if (suspends(r) && targetsAgent(r, agent) && !r.metadata.deletionTimestamp) {
      refs.set(`${ns}/${r.metadata.name ?? ''}`, { namespace: ns, name: r.metadata.name ?? '' });
    }
  }
  return [...refs.values()];
}

export async function liftCommand(ctx: CommandContext): Promise<ExitCode> {
  const [arg] = expectPositionals(ctx.args.positionals, ['AGENT|GRANTREVOCATION']) as [string];
  const reason = requireReason(stringFlag(ctx.args.values, 'reason'));
  const timeoutMs = parseTimeout(stringFlag(ctx.args.values, 'timeout'));
  const wait = booleanFlag(ctx.args.values, 'wait') !== false;

  const refs = await resolve(ctx, arg);
  if (refs.length === 0) {
    ctx.stderr.write(`${ctx.kube.namespace}/${arg} is not suspended; nothing to lift\n`);
    if (ctx.output === 'json') ctx.stdout.write(json({ lifted: [] }));
    return Exit.Ok;
  }
  if (refs.length > 1 && booleanFlag(ctx.args.values, 'all') !== true) {
    const names = refs.map((r) => `${r.namespace}/${r.name}`).join(', ');
    throw usageError(`${arg} is suspended by ${refs.length} GrantRevocations (${names}): lift one by name, or all with --all`);
  }
  const user = await currentUser(ctx);
  const annotations: Record<string, string> = { [Annotations.liftReason]: reason };
  if (user) annotations[Annotations.liftedBy] = user.username;

  const lifted: (Ref & { reason: string; liftedBy: string | null; deleted: boolean })[] = [];
  let timedOut = false;
  for (const ref of refs) {
    const marked = await ctx.kube.mergePatch<GrantRevocation>('grantrevocations', ref.namespace, ref.name, { metadata: { annotations } });
    // The uid precondition makes sure what we delete is the object we just recorded the reason on.
    await ctx.kube.delete('grantrevocations', ref.namespace, ref.name, marked.metadata.uid ? { uid: marked.metadata.uid } : undefined);
    ctx.stderr.write(`grantrevocation ${ref.namespace}/${ref.name}: reason recorded, deleting\n`);
    let deleted = !wait;
    if (wait) {
      deleted = await waitGone(ctx, ref, timeoutMs);
      timedOut ||= !deleted;
    }
    lifted.push({ ...ref, reason, liftedBy: user?.username ?? null, deleted });
  }
  if (ctx.output === 'json') ctx.stdout.write(json({ lifted }));
  else for (const l of lifted) ctx.stdout.write(`suspension lifted: grantrevocation ${l.namespace}/${l.name} ${l.deleted ? 'deleted' : 'deleting'}\n`);
  return timedOut ? Exit.Timeout : Exit.Ok;
}

/** Waits until the GrantRevocation is gone (the operator's finalizer, if any, un-suspends first). */
async function waitGone(ctx: CommandContext, ref: Ref, timeoutMs: number): Promise<boolean> {
  const progress = new Progress(ctx.stderr);
  const started = ctx.now();
  const line = (): string => `grantrevocation ${ref.namespace}/${ref.name}: waiting for deletion, ${formatDuration(ctx.now() - started)}`;
  progress.update(line(), 'waiting');
  progress.tick(line);
  try {
    const outcome = await waitFor<GrantRevocation>(ctx.kube, 'grantrevocations', ref.namespace, ref.name, { timeoutMs, done: () => false });
    if (outcome.kind === 'deleted') return true;
    const finalizers = outcome.object?.metadata.finalizers?.join(', ') ?? '';
    progress.end();
    ctx.stderr.write(
      `error: timed out after ${formatDuration(timeoutMs)}: grantrevocation ${ref.namespace}/${ref.name} is still being deleted` +
        `${finalizers ? ` (finalizers: ${finalizers}; is the operator running?)` : ''}\n`,
    );
    return false;
  } finally {
    progress.end();
  }
}
