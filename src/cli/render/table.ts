/**
 * Plain-text tables in the kubectl style (upper-case headers, columns separated by spaces, no
 * borders) that fit a given width (100 columns by default) by shortening the widest shrinkable
 * columns with an ellipsis rather than wrapping.
 */
import type { Style } from './color.ts';

export interface Column {
  header: string;
  /** Never shortened below this many characters, nor below the header. */
  min?: number;
  /** False keeps the column at its natural width (names, states). Default true. */
  shrink?: boolean;
  /** How much width this column keeps relative to others when shrinking (default 1). */
  weight?: number;
}

/** A cell: its text, and optionally a style applied after layout. */
export type Cell = string | { text: string; style?: Style };

export interface TableOptions {
  /** Total width to fit (default 100). The table may exceed it only if every column is at its minimum. */
  width?: number;
}

const GAP = '  ';
export const DEFAULT_WIDTH = 100;

function textOf(cell: Cell | undefined): string {
  if (cell === undefined) return '';
  return typeof cell === 'string' ? cell : cell.text;
}

/** Shortens `text` to `width` characters, marking the cut with "…". */
export function truncate(text: string, width: number): string {
  if (text.length <= width) return text;
  if (width <= 1) return text.slice(0, width);
  return `${text.slice(0, width - 1)}…`;
}

/**
 * Column widths that fit `width`: one character at a time is taken from the shrinkable column
 * that is widest for its weight.
 */
export function fitWidths(columns: readonly Column[], rows: readonly (readonly Cell[])[], width: number): number[] {
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...rows.map((row) => textOf(row[i]).replace(/\n/g, ' ').length)),
  );
  const floors = columns.map((column) => Math.max(column.min ?? 0, column.header.length, 1));
  const total = (): number => widths.reduce((sum, w) => sum + w, 0) + GAP.length * (columns.length - 1);
  while (total() > width) {
    let widest = -1;
    columns.forEach((column, i) => {
      const w = widths[i] ?? 0;
      if (column.shrink === false || w <= (floors[i] ?? 1)) return;
      const share = w / (column.weight ?? 1);
      if (widest === -1 || share > (widths[widest] ?? 0) / (columns[widest]?.weight ?? 1)) widest = i;
    });
    if (widest === -1) break;
    widths[widest] = (widths[widest] ?? 1) - 1;
  }
  return widths;
}

/** Renders a table, one line per row, without trailing spaces; ends with a newline. */
export function renderTable(columns: readonly Column[], rows: readonly (readonly Cell[])[], options: TableOptions = {}): string {
  const widths = fitWidths(columns, rows, options.width ?? DEFAULT_WIDTH);
  const line = (cells: readonly Cell[]): string => {
    const parts = columns.map((_, i) => {
      const w = widths[i] ?? 0;
      const cell = cells[i];
      const text = truncate(textOf(cell).replace(/\n/g, ' '), w);
      const padded = i === columns.length - 1 ? text : text.padEnd(w);
      const style = typeof cell === 'object' ? cell.style : undefined;
      // Style the text only, not the padding, so underlines and backgrounds never bleed.
      return style && text ? style(text) + padded.slice(text.length) : padded;
    });
    return parts.join(GAP).trimEnd();
  };
  return [line(columns.map((c) => c.header)), ...rows.map(line)].join('\n') + '\n';
}
