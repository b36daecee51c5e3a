/**
 * `kubectl agentid revoke AGENT --reason ...`: creates a GrantRevocation and waits, with live
 * progress, until it is Completed (exit 0) or Failed (exit 1). Re-running with the same --name is
 * harmless: an existing revocation with the same spec is waited on, not duplicated.
 */
import { Annotations, API_VERSION, isFinished, phaseOf, type GrantRevocation, type GrantRevocationSpec } from '../api.ts';
import { booleanFlag, expectPositionals, parseActions, parseTimeout, stringFlag, stringsFlag } from '../args.ts';
import { CliError, Exit, usageError, type ExitCode } from '../exit.ts';
import { statusCode, toCliError, type UserInfo } from '../kube.ts';
import { Progress } from '../progress.ts';
import { formatDuration } from '../render/duration.ts';
import { allResults, progressLine, resultKey, resultLine, revocationSummary, targetsTable } from '../render/revocation.ts';
import { waitFor } from '../wait.ts';
import { json, type CommandContext } from './context.ts';
import { currentUser, requireReason } from './shared.ts';

const MAX_NAME = 253;

/** `<agent>-<yyyymmddhhmmss>` (UTC), the agent part shortened so the name stays a valid object name. */
export function revocationName(agent: string, now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const head = agent.slice(0, MAX_NAME - stamp.length - 1).replace(/[-.]+$/, '');
  return `${head}-${stamp}`;
}

/** The spec `revoke` asks for, from its flags. */
export function buildSpec(ctx: CommandContext, agent: string): GrantRevocationSpec {
  const v = ctx.args.values;
  const spec: GrantRevocationSpec = {
    target: { agentClientName: agent },
    actions: parseActions(stringsFlag(v, 'action'), booleanFlag(v, 'suspend') === true),
    reason: requireReason(stringFlag(v, 'reason')),
  };
  const subject = stringFlag(v, 'subject');
  if (subject !== undefined) {
    if (!subject) throw usageError('--subject must not be empty');
    spec.subject = subject;
  }
  const scopes = [...new Set(stringsFlag(v, 'scope').flatMap((s) => s.split(/[\s,]+/)).filter(Boolean))];
  if (scopes.length) spec.scopes = scopes;
  const incident = stringFlag(v, 'incident');
  if (incident !== undefined) {
    if (!incident || incident.length > 253) throw usageError('--incident must be 1 to 253 characters');
    spec.incidentRef = incident;
  }
  return spec;
}

/** Whether two specs ask for the same revocation (sets compared as sets). */
export function sameSpec(a: GrantRevocationSpec, b: GrantRevocationSpec): boolean {
  const norm = (s: GrantRevocationSpec): string =>
    JSON.stringify([
      s.target.agentClientName ?? null,
      s.target.clientId ?? null,
      s.target.selector ?? null,
      s.subject ?? null,
      [...(s.scopes ?? [])].sort(),
      [...s.actions].sort(),
      s.reason,
      s.incidentRef ?? null,
    ]);
  return norm(a) === norm(b);
}

export async function revokeCommand(ctx: CommandContext): Promise<ExitCode> {
  const [agentName] = expectPositionals(ctx.args.positionals, ['AGENT']) as [string];
  const spec = buildSpec(ctx, agentName);
  const timeoutMs = parseTimeout(stringFlag(ctx.args.values, 'timeout'));
  const wait = booleanFlag(ctx.args.values, 'wait') !== false;
  const ns = ctx.kube.namespace;
  const name = stringFlag(ctx.args.values, 'name') ?? revocationName(agentName, ctx.now());

  if (!(await ctx.kube.get('agentclients', ns, agentName))) {
    throw new CliError(Exit.NotFoundOrForbidden, `agentclient ${ns}/${agentName} not found`);
  }
  const user = await currentUser(ctx);
  const body: GrantRevocation = {
    apiVersion: API_VERSION,
    kind: 'GrantRevocation',
    metadata: { name, namespace: ns, ...(user ? { annotations: requesterAnnotations(user) } : {}) },
    spec,
  };
  const revocation = await createOrReuse(ctx, body);
  if (!wait) {
    if (ctx.output === 'json') ctx.stdout.write(json(revocation));
    else ctx.stdout.write(`grantrevocation ${ns}/${name} created\n`);
    return Exit.Ok;
  }
  return waitAndReport(ctx, revocation, timeoutMs);
}

/**
 * Who asked, as the admission policy checks it: each annotation must equal the request's own
 * user name, uid and groups (joined with commas, in the server's order), so they come verbatim
 * from the SelfSubjectReview.
 */
export function requesterAnnotations(user: UserInfo): Record<string, string> {
  const annotations: Record<string, string> = { [Annotations.requestedBy]: user.username };
  if (user.uid) annotations[Annotations.requestedByUid] = user.uid;
  if (user.groups?.length) annotations[Annotations.requestedByGroups] = user.groups.join(',');
  return annotations;
}

async function createOrReuse(ctx: CommandContext, body: GrantRevocation): Promise<GrantRevocation> {
  const ns = ctx.kube.namespace;
  const name = body.metadata.name ?? '';
  try {
    const created = await ctx.kube.create('grantrevocations', ns, body);
    ctx.stderr.write(`grantrevocation ${ns}/${name} created\n`);
    return created;
  } catch (error) {
    if (statusCode(error) !== 409) throw toCliError(error, `create grantrevocation ${ns}/${name}`);
  }
  const existing = await ctx.kube.get<GrantRevocation>('grantrevocations', ns, name);
  if (!existing) throw new CliError(Exit.Error, `grantrevocation ${ns}/${name} exists and vanished; run again`);
  if (!sameSpec(existing.spec, body.spec)) {
    throw usageError(`grantrevocation ${ns}/${name} already exists with a different spec; choose another --name`);
  }
  ctx.stderr.write(`grantrevocation ${ns}/${name} already exists with this spec; waiting for it\n`);
  return existing;
}

async function waitAndReport(ctx: CommandContext, initial: GrantRevocation, timeoutMs: number): Promise<ExitCode> {
  const ns = ctx.kube.namespace;
  const name = initial.metadata.name ?? '';
  const started = ctx.now();
  const progress = new Progress(ctx.stderr);
  const seen = new Set<string>();
  let latest = initial;
  const render = (): string => progressLine(latest, ctx.now() - started, ctx.errPalette);
  progress.tick(render);
  let outcome;
  try {
    outcome = await waitFor<GrantRevocation>(ctx.kube, 'grantrevocations', ns, name, {
      initial,
      timeoutMs,
      done: isFinished,
      onChange: (object) => {
        latest = object;
        for (const r of allResults(object)) {
          const key = resultKey(r);
          if (seen.has(key)) continue;
          seen.add(key);
          progress.log(resultLine(r, ctx.errPalette));
        }
        progress.update(render(), `${phaseOf(object)} ${seen.size}`);
      },
    });
  } finally {
    progress.end();
  }

  if (outcome.kind === 'deleted') {
    throw new CliError(Exit.NotFoundOrForbidden, `grantrevocation ${ns}/${name} was deleted while waiting`);
  }
  const final = outcome.object ?? latest;
  if (ctx.output === 'json') ctx.stdout.write(json(final));
  else {
    if (final.status?.targets?.length) ctx.stdout.write(targetsTable(final, { palette: ctx.palette, width: ctx.width }));
    ctx.stdout.write(`${revocationSummary(final, ctx.palette)}\n`);
  }
  if (outcome.kind === 'timeout') {
    ctx.stderr.write(
      `error: timed out after ${formatDuration(timeoutMs)} waiting for grantrevocation ${ns}/${name} ` +
        `(phase ${phaseOf(final)}); it stays in the cluster and may still finish: ` +
        `kubectl get grantrevocation -n ${ns} ${name}\n`,
    );
    return Exit.Timeout;
  }
  return phaseOf(final) === 'Completed' ? Exit.Ok : Exit.Failed;
}
