/**
 * `kubectl agentid status [AGENT]`: agents, their ceilings, rotation, policy and suspension.
 */
import type { AgentClient } from '../api.ts';
import { booleanFlag } from '../args.ts';
import { CliError, Exit, usageError, type ExitCode } from '../exit.ts';
import { agentDetails, agentsTable, summarizeAgent } from '../render/agents.ts';
import { json, type CommandContext } from './context.ts';

export async function statusCommand(ctx: CommandContext): Promise<ExitCode> {
  const { kube, args } = ctx;
  const all = booleanFlag(args.values, 'all-namespaces') === true;
  if (args.positionals.length > 1) throw usageError(`status takes at most one AGENT, got ${args.positionals.join(' ')}`);
  const [name] = args.positionals;

  if (name !== undefined) {
    if (all) throw usageError('status AGENT cannot be combined with -A (give -n NAMESPACE)');
    const agent = await kube.get<AgentClient>('agentclients', kube.namespace, name);
    if (!agent) throw new CliError(Exit.NotFoundOrForbidden, `agentclient ${kube.namespace}/${name} not found`);
    if (ctx.output === 'json') ctx.stdout.write(json(summarizeAgent(agent)));
    else ctx.stdout.write(agentDetails(agent, { now: ctx.now(), palette: ctx.palette }));
    return Exit.Ok;
  }

  const { items } = await kube.list<AgentClient>('agentclients', all ? undefined : kube.namespace);
  const summaries = items
    .map(summarizeAgent)
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  if (ctx.output === 'json') {
    ctx.stdout.write(json(summaries));
  } else if (summaries.length === 0) {
    ctx.stderr.write(all ? 'No AgentClients found.\n' : `No AgentClients found in ${kube.namespace} namespace.\n`);
  } else {
    ctx.stdout.write(agentsTable(summaries, { now: ctx.now(), palette: ctx.palette, allNamespaces: all, width: ctx.width }));
  }
  return Exit.Ok;
}
