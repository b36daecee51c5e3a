/**
 * `kubectl agentid rotate AGENT`: rotate credentials now (like `cmctl renew`). Sets the
 * agentidentity.dev/rotate annotation to a new value and waits until the operator has rotated
 * (see {@link rotationOutcome}): the request being recorded as handled is not enough, because the
 * operator records it before the IdP call and also when it declines to rotate.
 */
import { Annotations, conditionOf, type AgentClient } from '../api.ts';
import { booleanFlag, expectPositionals, parseTimeout, stringFlag } from '../args.ts';
import { CliError, Exit, type ExitCode } from '../exit.ts';
import { Progress } from '../progress.ts';
import { formatDuration } from '../render/duration.ts';
import { rotationReport, rotationText } from '../render/rotation.ts';
import { waitFor, type WaitOutcome } from '../wait.ts';
import { json, type CommandContext } from './context.ts';

export async function rotateCommand(ctx: CommandContext): Promise<ExitCode> {
  const [name] = expectPositionals(ctx.args.positionals, ['AGENT']) as [string];
  const timeoutMs = parseTimeout(stringFlag(ctx.args.values, 'timeout'));
  const wait = booleanFlag(ctx.args.values, 'wait') !== false;
  const ns = ctx.kube.namespace;

  const { request, requestedAt, patched } = await requestRotation(ctx, name);
  if (!wait) {
    if (ctx.output === 'json') ctx.stdout.write(json({ namespace: ns, name, request, handled: false }));
    return Exit.Ok;
  }
  const outcome = await waitHandled(ctx, patched, request, requestedAt, timeoutMs);
  if (outcome.kind === 'deleted') throw new CliError(Exit.NotFoundOrForbidden, `agentclient ${ns}/${name} was deleted while waiting`);
  if (outcome.kind === 'timeout') {
    ctx.stderr.write(
      `error: timed out after ${formatDuration(timeoutMs)}: ${timeoutReason(outcome.object, request)}; ` +
        `the request stays and will be handled when the operator can\n`,
    );
    return Exit.Timeout;
  }

  const agent = outcome.object;
  if (rotationOutcome(agent, request, requestedAt) === 'declined') {
    if (ctx.output === 'json') ctx.stdout.write(json(rotationReport(agent, request)));
    const why = agent.status?.credentials?.rotationMessage ?? 'the IdP does not support rotation';
    ctx.stderr.write(`error: agentclient ${ns}/${name}: the operator did not rotate (rotation ${request} declined as Unsupported): ${why}\n`);
    return Exit.Failed;
  }
  if (ctx.output === 'json') ctx.stdout.write(json(rotationReport(agent, request)));
  else ctx.stdout.write(rotationText(agent, request, ctx.now()));
  const credentialsReady = conditionOf(agent, 'CredentialsReady');
  if (credentialsReady?.status === 'False') {
    ctx.stderr.write(`error: credentials not ready after rotation: ${credentialsReady.reason} ${credentialsReady.message}\n`);
    return Exit.Failed;
  }
  return Exit.Ok;
}

/** Sets the annotation to a value never used before on this agent. */
async function requestRotation(ctx: CommandContext, name: string): Promise<{ request: string; requestedAt: number; patched: AgentClient }> {
  const ns = ctx.kube.namespace;
  const before = await ctx.kube.get<AgentClient>('agentclients', ns, name);
  if (!before) throw new CliError(Exit.NotFoundOrForbidden, `agentclient ${ns}/${name} not found`);
  const credentials = before.status?.credentials;
  if (credentials?.rotationSupport === 'Unsupported') {
    ctx.stderr.write(`warning: ${ns}/${name}: the IdP does not support rotation (${credentials.rotationMessage ?? 'see status'})\n`);
  }
  // A timestamp is unique per request and tells a reader when rotation was asked for.
  const requestedAt = ctx.now();
  let request = new Date(requestedAt).toISOString();
  if (request === before.metadata.annotations?.[Annotations.rotate]) request = `${request}-1`;
  const patched = await ctx.kube.mergePatch<AgentClient>('agentclients', ns, name, {
    metadata: { annotations: { [Annotations.rotate]: request } },
  });
  ctx.stderr.write(`agentclient ${ns}/${name}: rotation requested (${Annotations.rotate}=${request})\n`);
  return { request, requestedAt, patched };
}

/**
 * Where a rotation request stands on `agent`:
 * - `rotated`: the operator handled this request and `lastRotationTime` is not older than the
 *   request (compared at whole seconds: the operator writes RFC 3339 times without fractions);
 * - `declined`: it handled this request without rotating, because the IdP cannot
 *   (`rotationSupport: Unsupported`);
 * - `pending`: not handled yet, or handled but not rotated yet (the operator records the request
 *   before its IdP call, and retries a failed call).
 */
export function rotationOutcome(agent: AgentClient, request: string, requestedAt: number): 'rotated' | 'declined' | 'pending' {
  const c = agent.status?.credentials;
  if (c?.lastRotationRequest !== request) return 'pending';
  const rotated = Date.parse(c.lastRotationTime ?? '');
  if (!Number.isNaN(rotated) && rotated >= Math.floor(requestedAt / 1000) * 1000) return 'rotated';
  return c.rotationSupport === 'Unsupported' ? 'declined' : 'pending';
}

function timeoutReason(agent: AgentClient | undefined, request: string): string {
  if (agent?.status?.credentials?.lastRotationRequest !== request) return `the operator has not handled rotation request ${request} (is it running?)`;
  const ready = conditionOf(agent, 'CredentialsReady');
  const detail = ready?.status === 'False' ? ` (CredentialsReady False: ${ready.reason} ${ready.message})` : '';
  return `the operator took rotation request ${request} but has not rotated yet${detail}`;
}

function waitHandled(ctx: CommandContext, patched: AgentClient, request: string, requestedAt: number, timeoutMs: number): Promise<WaitOutcome<AgentClient>> {
  const ns = ctx.kube.namespace;
  const name = patched.metadata.name ?? '';
  const started = ctx.now();
  const progress = new Progress(ctx.stderr);
  const line = (): string => `agentclient ${ns}/${name}: waiting for the operator to rotate, ${formatDuration(ctx.now() - started)}`;
  progress.update(line(), 'waiting');
  progress.tick(line);
  return waitFor<AgentClient>(ctx.kube, 'agentclients', ns, name, {
    initial: patched,
    timeoutMs,
    done: (agent) => rotationOutcome(agent, request, requestedAt) !== 'pending',
  }).finally(() => progress.end());
}
