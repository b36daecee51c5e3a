/**
 * Colours only where a person reads them: on a TTY, and never when NO_COLOR is set to a non-empty
 * value (https://no-color.org). Styles are applied after a table is laid out, so widths never
 * count escape codes.
 */

export type Style = (text: string) => string;

export interface Palette {
  readonly enabled: boolean;
  readonly green: Style;
  readonly red: Style;
  readonly yellow: Style;
  readonly dim: Style;
  readonly bold: Style;
}

/** Whether to colour output written to `stream`, given the process environment. */
export function shouldColor(stream: { isTTY?: boolean }, env: Readonly<Record<string, string | undefined>>): boolean {
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  return stream.isTTY === true;
}

const sgr = (open: number, close: number): Style => (text) => `\u001b[${open}m${text}\u001b[${close}m`;
const plain: Style = (text) => text;

/** A palette that colours when `enabled`, and returns text unchanged otherwise. */
export function palette(enabled: boolean): Palette {
  if (!enabled) return { enabled, green: plain, red: plain, yellow: plain, dim: plain, bold: plain };
  return { enabled, green: sgr(32, 39), red: sgr(31, 39), yellow: sgr(33, 39), dim: sgr(2, 22), bold: sgr(1, 22) };
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** Text with colour escapes removed (for measuring and for tests). */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** The style for a condition status or a GrantRevocation phase / result outcome. */
export function styleForState(p: Palette, state: string | undefined): Style {
  switch (state) {
    case 'True':
    case 'Completed':
    case 'Succeeded':
      return p.green;
    case 'False':
    case 'Failed':
      return p.red;
    case 'Unknown':
    case 'Pending':
    case 'InProgress':
    case 'Unsupported':
      return p.yellow;
    default:
      return plain;
  }
}
