import { describe, expect, it } from 'vitest';
import { palette, shouldColor, stripAnsi, styleForState } from './color.ts';

describe('shouldColor', () => {
  it('colours a TTY only', () => {
    expect(shouldColor({ isTTY: true }, {})).toBe(true);
    expect(shouldColor({ isTTY: false }, {})).toBe(false);
    expect(shouldColor({}, {})).toBe(false);
  });
  it('never colours with NO_COLOR set to a non-empty value', () => {
    expect(shouldColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(shouldColor({ isTTY: true }, { NO_COLOR: 'false' })).toBe(false);
    // no-color.org: an empty NO_COLOR does not count.
    expect(shouldColor({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
  });
});

describe('palette', () => {
  it('wraps text in SGR codes when enabled and leaves it alone otherwise', () => {
    expect(palette(true).red('x')).toBe('\u001b[31mx\u001b[39m');
    expect(palette(false).red('x')).toBe('x');
    expect(stripAnsi(palette(true).bold(palette(true).green('ok')))).toBe('ok');
  });
  it('styles states by meaning', () => {
    const p = palette(true);
    expect(styleForState(p, 'Completed')('a')).toBe(p.green('a'));
    expect(styleForState(p, 'Failed')('a')).toBe(p.red('a'));
    expect(styleForState(p, 'InProgress')('a')).toBe(p.yellow('a'));
    expect(styleForState(p, 'whatever')('a')).toBe('a');
  });
});
