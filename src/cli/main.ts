/**
 * The plugin as a function: argv in, exit code out, with the API connection and the streams
 * passed in so integration tests can run it in-process as well as as a child process.
 */
import { COMMANDS, parseCommandLine, parseOutput, stringFlag, type Command, type ParsedArgs } from './args.ts';
import { CliError, Exit, type ExitCode } from './exit.ts';
import { helpText } from './help.ts';
import { connect, type CliKube, type ConnectOptions } from './kube.ts';
import type { OutputStream } from './progress.ts';
import { palette, shouldColor } from './render/color.ts';
import { DEFAULT_WIDTH } from './render/table.ts';
import type { CommandContext } from './commands/context.ts';
import { historyCommand } from './commands/history.ts';
import { liftCommand } from './commands/lift.ts';
import { revokeCommand } from './commands/revoke.ts';
import { rotateCommand } from './commands/rotate.ts';
import { statusCommand } from './commands/status.ts';

export interface Io {
  stdout: OutputStream;
  stderr: OutputStream;
  env: Readonly<Record<string, string | undefined>>;
}

export interface Dependencies {
  connect: (options: ConnectOptions) => CliKube;
  now: () => number;
}

const HANDLERS: Record<Exclude<Command, 'help'>, (ctx: CommandContext) => Promise<ExitCode>> = {
  status: statusCommand,
  history: historyCommand,
  revoke: revokeCommand,
  rotate: rotateCommand,
  lift: liftCommand,
};

/** Runs `kubectl agentid ARGV...` and resolves its exit code; never throws. */
export async function run(argv: string[], io: Io, deps: Dependencies = { connect, now: Date.now }): Promise<ExitCode> {
  const errPalette = palette(shouldColor(io.stderr, io.env));
  try {
    const args = parseCommandLine(argv);
    if (args.command === 'help') {
      const [topic] = args.positionals;
      io.stdout.write(helpText(topic && (COMMANDS as readonly string[]).includes(topic) ? (topic as Command) : undefined));
      return Exit.Ok;
    }
    const ctx = context(args, io, deps, errPalette);
    return await HANDLERS[args.command](ctx);
  } catch (error) {
    const failure = error instanceof CliError ? error : new CliError(Exit.Error, error instanceof Error ? error.message : String(error));
    io.stderr.write(`${errPalette.red('error:')} ${failure.message}\n`);
    if (failure.exitCode === Exit.Usage) io.stderr.write('Run "kubectl agentid --help" for usage.\n');
    return failure.exitCode;
  }
}

function context(args: ParsedArgs, io: Io, deps: Dependencies, errPalette: CommandContext['errPalette']): CommandContext {
  const output = parseOutput(stringFlag(args.values, 'output'));
  const namespace = stringFlag(args.values, 'namespace');
  if (namespace === '') throw new CliError(Exit.Usage, '-n/--namespace must not be empty');
  const options: ConnectOptions = {};
  const kubeconfig = stringFlag(args.values, 'kubeconfig');
  const kubeContext = stringFlag(args.values, 'context');
  if (kubeconfig) options.kubeconfig = kubeconfig;
  if (kubeContext) options.context = kubeContext;
  if (namespace) options.namespace = namespace;
  const columns = io.stdout.isTTY && io.stdout.columns ? io.stdout.columns : DEFAULT_WIDTH;
  return {
    kube: deps.connect(options),
    args,
    output,
    stdout: io.stdout,
    stderr: io.stderr,
    palette: palette(output === 'table' && shouldColor(io.stdout, io.env)),
    errPalette,
    width: Math.min(columns, DEFAULT_WIDTH),
    now: deps.now,
  };
}
