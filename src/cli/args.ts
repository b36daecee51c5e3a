/**
 * Command-line parsing with node:util parseArgs. Global flags (kubectl's --kubeconfig, --context,
 * -n, -A, -o) are accepted before or after the command; each command then re-parses with only
 * the flags it knows, so a flag that means nothing to it is a usage error rather than ignored.
 */
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { parseDuration } from '../api/duration.ts';
import { REVOCATION_ACTIONS, type RevocationAction } from './api.ts';
import { usageError } from './exit.ts';

export const COMMANDS = ['status', 'history', 'revoke', 'rotate', 'lift', 'help'] as const;
export type Command = (typeof COMMANDS)[number];

const GLOBAL = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  output: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsOptionsConfig;

const WAIT = {
  timeout: { type: 'string' },
  wait: { type: 'boolean' },
} as const satisfies ParseArgsOptionsConfig;

const PER_COMMAND = {
  status: { 'all-namespaces': { type: 'boolean', short: 'A' } },
  history: {},
  revoke: {
    ...WAIT,
    reason: { type: 'string' },
    suspend: { type: 'boolean' },
    subject: { type: 'string' },
    scope: { type: 'string', multiple: true },
    action: { type: 'string', multiple: true },
    incident: { type: 'string' },
    name: { type: 'string' },
  },
  rotate: { ...WAIT },
  lift: { ...WAIT, reason: { type: 'string' }, all: { type: 'boolean' } },
  help: {},
} as const satisfies Record<Command, ParseArgsOptionsConfig>;

const ALL: ParseArgsOptionsConfig = Object.values(PER_COMMAND).reduce<ParseArgsOptionsConfig>(
  (all, own) => ({ ...all, ...own }),
  { ...GLOBAL },
);

export interface ParsedArgs {
  command: Command;
  positionals: string[];
  values: Values;
}

type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** A string flag's value. */
export function stringFlag(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A boolean flag's value (undefined when not given). */
export function booleanFlag(values: Values, name: string): boolean | undefined {
  const v = values[name];
  return typeof v === 'boolean' ? v : undefined;
}

/** A repeatable string flag's values. */
export function stringsFlag(values: Values, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function parse(args: string[], options: ParseArgsOptionsConfig): ReturnType<typeof parseArgs> {
  try {
    return parseArgs({ args, options, allowPositionals: true, allowNegative: true, strict: true });
  } catch (error) {
    throw usageError(error instanceof Error ? error.message : String(error));
  }
}

/** Parses argv (without node and script). No command, or `-h`, means help. */
export function parseCommandLine(argv: string[]): ParsedArgs {
  const first = parse(argv, ALL);
  const [name, ...rest] = first.positionals;
  if (name === undefined) return { command: 'help', positionals: [], values: first.values };
  if (!(COMMANDS as readonly string[]).includes(name)) {
    throw usageError(`unknown command "${name}" (expected one of: ${COMMANDS.join(', ')})`);
  }
  const command = name as Command;
  if (first.values['help'] === true) return { command: 'help', positionals: [command], values: first.values };
  const own = parse(argv, { ...GLOBAL, ...PER_COMMAND[command] });
  return { command, positionals: rest, values: own.values };
}

/** `--timeout` as kubectl takes it: a Go duration ("60s", "2m", "1m30s"), which must be positive. */
export function parseTimeout(value: string | undefined, fallbackMs = 60_000): number {
  if (value === undefined) return fallbackMs;
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch {
    throw usageError(`--timeout must be a duration such as 30s, 2m or 1m30s, got "${value}"`);
  }
  if (!(ms > 0)) throw usageError('--timeout must be greater than zero (use --no-wait not to wait)');
  return ms;
}

/** Output format: the human table (default) or JSON for scripts. */
export function parseOutput(value: string | undefined): 'table' | 'json' {
  if (value === undefined || value === 'table' || value === 'wide') return 'table';
  if (value === 'json') return 'json';
  throw usageError(`-o must be json or table, got "${value}"`);
}

/** Validates `--action` values; `--suspend` adds Suspend; the default is RevokeGrants. */
export function parseActions(actions: string[] | undefined, suspend: boolean): RevocationAction[] {
  const chosen = new Set<RevocationAction>();
  for (const raw of actions ?? []) {
    for (const a of raw.split(',').filter(Boolean)) {
      if (!(REVOCATION_ACTIONS as readonly string[]).includes(a)) {
        throw usageError(`--action must be one of ${REVOCATION_ACTIONS.join(', ')}, got "${a}"`);
      }
      chosen.add(a as RevocationAction);
    }
  }
  if (chosen.size === 0) chosen.add('RevokeGrants');
  if (suspend) chosen.add('Suspend');
  return REVOCATION_ACTIONS.filter((a) => chosen.has(a));
}

/** Exactly `count` positional arguments, named for the message. */
export function expectPositionals(positionals: string[], names: string[]): string[] {
  if (positionals.length !== names.length) {
    const want = names.length ? names.join(' ') : 'no arguments';
    throw usageError(`expected ${want}, got ${positionals.length ? positionals.join(' ') : 'none'}`);
  }
  return positionals;
}
