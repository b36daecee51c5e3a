import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { palette, stripAnsi } from './color.ts';
import { fitWidths, renderTable, truncate, type Column } from './table.ts';

describe('renderTable', () => {
  it('lays out kubectl-style columns without trailing spaces', () => {
    const out = renderTable([{ header: 'NAME' }, { header: 'READY' }], [['a', 'True'], ['longer-name', 'False']]);
    expect(out).toBe('NAME         READY\na            True\nlonger-name  False\n');
  });

  it('shrinks the widest shrinkable column with an ellipsis to fit the width', () => {
    const scopes = Array.from({ length: 20 }, (_, i) => `scope:${i}`).join(',');
    const out = renderTable([{ header: 'NAME', shrink: false }, { header: 'CEILING' }], [['agent', scopes]], { width: 40 });
    const lines = out.trimEnd().split('\n');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(40);
    expect(lines[1]).toMatch(/^agent {2}scope:0,scope:1,.*…$/);
  });

  it('never shrinks a column below its minimum, even if the table then overflows', () => {
    const widths = fitWidths([{ header: 'A', min: 10 }, { header: 'B', min: 10 }], [['x'.repeat(30), 'y'.repeat(30)]], 5);
    expect(widths).toEqual([10, 10]);
  });

  it('applies styles after layout so colour never changes widths', () => {
    const p = palette(true);
    const rows = [[{ text: 'True', style: p.green }, 'x'], ['False', 'y']];
    const coloured = renderTable([{ header: 'READY' }, { header: 'V' }], rows);
    expect(coloured).toContain('\u001b[32mTrue\u001b[39m');
    expect(stripAnsi(coloured)).toBe(renderTable([{ header: 'READY' }, { header: 'V' }], [['True', 'x'], ['False', 'y']]));
  });

  it('fits any content into 100 columns when the minimums allow it (property)', () => {
    const columns: Column[] = [{ header: 'NAME', min: 10 }, { header: 'A' }, { header: 'B' }, { header: 'STATE', shrink: false }];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ maxLength: 120 }), fc.string({ maxLength: 120 }), fc.string({ maxLength: 200 }), fc.constantFrom('True', 'False')), {
          maxLength: 8,
        }),
        (rows) => {
          for (const line of renderTable(columns, rows).trimEnd().split('\n')) expect(line.length).toBeLessThanOrEqual(100);
        },
      ),
    );
  });
});

describe('truncate', () => {
  it('marks the cut', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abc', 4)).toBe('abc');
    expect(truncate('abc', 1)).toBe('a');
  });
});
