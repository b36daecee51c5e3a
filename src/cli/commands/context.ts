/**
 * What every command receives: the API, where to write, how to format, and a clock.
 */
import type { ParsedArgs } from '../args.ts';
import type { CliKube } from '../kube.ts';
import type { OutputStream } from '../progress.ts';
import type { Palette } from '../render/color.ts';

export interface CommandContext {
  kube: CliKube;
  args: ParsedArgs;
  output: 'table' | 'json';
  stdout: OutputStream;
  stderr: OutputStream;
  /** Colours for stdout and for stderr (each only on its own TTY). */
  palette: Palette;
  errPalette: Palette;
  /** Width tables are fitted to. */
  width: number;
  now: () => number;
}

/** Pretty JSON with a trailing newline, as `kubectl -o json` prints. */
export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
