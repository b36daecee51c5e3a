/**
 * `kubectl agentid history AGENT`: how the agent came to hold its scopes (ceiling changes, newest
 * first) and every GrantRevocation that targeted it.
 */
import type { AgentClient, GrantRevocation } from '../api.ts';
import { expectPositionals } from '../args.ts';
import { CliError, Exit, type ExitCode } from '../exit.ts';
import { ceilingHistoryTable, newestFirst, revocationsTable, targetsAgent } from '../render/history.ts';
import { json, type CommandContext } from './context.ts';

export async function historyCommand(ctx: CommandContext): Promise<ExitCode> {
  const [name] = expectPositionals(ctx.args.positionals, ['AGENT']) as [string];
  const ns = ctx.kube.namespace;
  const agent = await ctx.kube.get<AgentClient>('agentclients', ns, name);
  if (!agent) throw new CliError(Exit.NotFoundOrForbidden, `agentclient ${ns}/${name} not found`);
  const { items } = await ctx.kube.list<GrantRevocation>('grantrevocations', ns);
  const revocations = items
    .filter((r) => targetsAgent(r, agent))
    .sort((a, b) => Date.parse(b.metadata.creationTimestamp ?? '') - Date.parse(a.metadata.creationTimestamp ?? ''));
  const history = newestFirst(agent.status?.ceilingHistory ?? []);

  if (ctx.output === 'json') {
    ctx.stdout.write(
      json({
        namespace: ns,
        name,
        clientId: agent.status?.clientId ?? null,
        ceiling: agent.status?.grantedScopes ?? [],
        ceilingHistory: history,
        revocations: revocations.map((r) => ({
          name: r.metadata.name,
          phase: r.status?.phase ?? 'Pending',
          createdAt: r.metadata.creationTimestamp ?? null,
          spec: r.spec,
          requestedBy: r.status?.requestedBy?.username ?? null,
          startTime: r.status?.startTime ?? null,
          completionTime: r.status?.completionTime ?? null,
        })),
      }),
    );
    return Exit.Ok;
  }

  const p = ctx.palette;
  const out: string[] = [`${p.bold('Ceiling')} of ${ns}/${name}: ${agent.status?.grantedScopes?.join(' ') || '-'}`, ''];
  out.push(p.bold('Ceiling history (newest first):'));
  out.push(history.length ? ceilingHistoryTable(history, { palette: p, width: ctx.width }) : '  none recorded yet\n');
  out.push(p.bold('GrantRevocations that targeted it:'));
  out.push(revocations.length ? revocationsTable(revocations, { palette: p, now: ctx.now(), width: ctx.width }) : '  none\n');
  ctx.stdout.write(out.join('\n'));
  return Exit.Ok;
}
