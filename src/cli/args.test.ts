import { describe, expect, it } from 'vitest';
import { parseActions, parseCommandLine, parseOutput, parseTimeout } from './args.ts';
import { CliError, Exit } from './exit.ts';

function usage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(Exit.Usage);
    return (error as CliError).message;
  }
  throw new Error('expected a usage error');
}

describe('parseCommandLine', () => {
  it('takes global flags before or after the command', () => {
    const a = parseCommandLine(['-n', 'team-a', 'revoke', 'coder', '--reason', 'leak', '--suspend', '--scope', 'a', '--scope', 'b']);
    expect(a.command).toBe('revoke');
    expect(a.positionals).toEqual(['coder']);
    expect(a.values).toMatchObject({ namespace: 'team-a', reason: 'leak', suspend: true, scope: ['a', 'b'] });
    expect(parseCommandLine(['status', '-A', '-o', 'json']).values).toMatchObject({ 'all-namespaces': true, output: 'json' });
  });
  it('treats no command and -h as help', () => {
    expect(parseCommandLine([]).command).toBe('help');
    expect(parseCommandLine(['revoke', '--help'])).toMatchObject({ command: 'help', positionals: ['revoke'] });
  });
  it('understands --no-wait', () => {
    expect(parseCommandLine(['rotate', 'x', '--no-wait']).values['wait']).toBe(false);
  });
  it('rejects unknown commands, unknown flags and flags of other commands', () => {
    expect(usage(() => parseCommandLine(['frobnicate']))).toContain('unknown command "frobnicate"');
    expect(usage(() => parseCommandLine(['status', '--bogus']))).toContain("'--bogus'");
    expect(usage(() => parseCommandLine(['status', '--reason', 'x']))).toContain("'--reason'");
    expect(usage(() => parseCommandLine(['history', 'x', '-A']))).toContain("'-A'");
  });
});

describe('flag values', () => {
  it('parses --timeout as a positive Go duration', () => {
    expect(parseTimeout(undefined)).toBe(60_000);
    expect(parseTimeout('90s')).toBe(90_000);
    expect(parseTimeout('1m30s')).toBe(90_000);
    expect(usage(() => parseTimeout('60'))).toContain('--timeout');
    expect(usage(() => parseTimeout('0s'))).toContain('greater than zero');
  });
  it('parses -o', () => {
    expect(parseOutput(undefined)).toBe('table');
    expect(parseOutput('json')).toBe('json');
    expect(usage(() => parseOutput('yaml'))).toContain('-o must be json or table');
  });
  it('defaults actions to RevokeGrants, adds Suspend for --suspend, and validates', () => {
    expect(parseActions(undefined, false)).toEqual(['RevokeGrants']);
    expect(parseActions(undefined, true)).toEqual(['RevokeGrants', 'Suspend']);
    expect(parseActions(['DeleteRegistration,RevokeGrants'], false)).toEqual(['RevokeGrants', 'DeleteRegistration']);
    expect(usage(() => parseActions(['Nuke'], false))).toContain('"Nuke"');
  });
});
