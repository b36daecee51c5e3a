/**
 * `kubectl agentid rotate AGENT`: rotate credentials now (like `cmctl renew`). Sets the
 * agentidentity.dev/rotate annotation to a new value and waits until the operator reports it
 * handled (status.credentials.lastRotationRequest equals it).
 */
import { Annotations, conditionOf, type AgentClient } from '../api.ts';
import { booleanFlag, expectPositionals, parseTimeout, stringFlag } from '../args.ts';
import { CliError, Exit, type ExitCode } from '../exit.ts';
import { Progress } from '../progress.ts';
import { formatDuration, formatRelative } from '../render/duration.ts';
import { waitFor } from '../wait.ts';
import { json, type CommandContext } from './context.ts';

export async function rotateCommand(ctx: CommandContext): Promise<ExitCode> {
  const [name] = expectPositionals(ctx.args.positionals, ['AGENT']) as [string];
  const timeoutMs = parseTimeout(stringFlag(ctx.args.values, 'timeout'));
  const wait = booleanFlag(ctx.args.values, 'wait') !== false;
  const ns = ctx.kube.namespace;

  const before = await ctx.kube.get<AgentClient>('agentclients', ns, name);
  if (!before) throw new CliError(Exit.NotFoundOrForbidden, `agentclient ${ns}/${name} not found`);
  if (before.status?.credentials?.rotationSupport === 'Unsupported') {
    ctx.stderr.write(`warning: ${ns}/${name}: the IdP does not support rotation (${before.status.credentials.rotationMessage ?? 'see status'})\n`);
  }
  // A timestamp is unique per request and tells a reader when rotation was asked for.
  let request = new Date(ctx.now()).toISOString();
  if (request === before.metadata.annotations?.[Annotations.rotate]) request = `${request}-1`;
  const patched = await ctx.kube.mergePatch<AgentClient>('agentclients', ns, name, {
    metadata: { annotations: { [Annotations.rotate]: request } },
  });
  ctx.stderr.write(`agentclient ${ns}/${name}: rotation requested (${Annotations.rotate}=${request})\n`);
  if (!wait) {
    if (ctx.output === 'json') ctx.stdout.write(json({ namespace: ns, name, request, handled: false }));
    return Exit.Ok;
  }

  const started = ctx.now();
  const progress = new Progress(ctx.stderr);
  const line = (): string => `agentclient ${ns}/${name}: waiting for the operator to rotate, ${formatDuration(ctx.now() - started)}`;
  progress.update(line(), 'waiting');
  progress.tick(line);
  let outcome;
  try {
    outcome = await waitFor<AgentClient>(ctx.kube, 'agentclients', ns, name, {
      initial: patched,
      timeoutMs,
      done: (agent) => agent.status?.credentials?.lastRotationRequest === request,
    });
  } finally {
    progress.end();
  }
  if (outcome.kind === 'deleted') throw new CliError(Exit.NotFoundOrForbidden, `agentclient ${ns}/${name} was deleted while waiting`);
  if (outcome.kind === 'timeout') {
    ctx.stderr.write(
      `error: timed out after ${formatDuration(timeoutMs)}: the operator has not handled rotation request ${request} ` +
        `(is it running?); the request stays and will be handled when it does\n`,
    );
    return Exit.Timeout;
  }

  const agent = outcome.object;
  const c = agent.status?.credentials ?? {};
  const credentialsReady = conditionOf(agent, 'CredentialsReady');
  const failed = credentialsReady?.status === 'False';
  if (ctx.output === 'json') {
    ctx.stdout.write(
      json({
        namespace: ns,
        name,
        request,
        handled: true,
        credentialsReady: credentialsReady?.status ?? 'Unknown',
        credentialsReason: credentialsReady?.reason ?? null,
        keyId: c.keyId ?? null,
        previousKeyId: c.previousKeyId ?? null,
        lastRotationTime: c.lastRotationTime ?? null,
        overlapUntil: c.overlapUntil ?? null,
        rotationSupport: c.rotationSupport ?? null,
      }),
    );
  } else {
    const now = ctx.now();
    const lines = [
      `agentclient ${ns}/${name}: rotation ${request} handled`,
      `  rotated:   ${formatRelative(c.lastRotationTime, now)}${c.keyId ? `, key ${c.keyId}` : ''}`,
      ...(c.previousKeyId || c.overlapUntil
        ? [`  previous:  ${c.previousKeyId ?? '-'} accepted until ${c.overlapUntil ?? '-'} (${formatRelative(c.overlapUntil, now)})`]
        : []),
      ...(c.rotationSupport ? [`  support:   ${c.rotationSupport}${c.rotationMessage ? `: ${c.rotationMessage}` : ''}`] : []),
    ];
    ctx.stdout.write(`${lines.join('\n')}\n`);
  }
  if (failed) {
    ctx.stderr.write(`error: credentials not ready after rotation: ${credentialsReady.reason ?? ''} ${credentialsReady.message ?? ''}\n`);
    return Exit.Failed;
  }
  return Exit.Ok;
}
