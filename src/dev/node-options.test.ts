import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseNodeOptions, productNodeOptions } from './node-options.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

describe('parseNodeOptions', () => {
  it('reads a quoted or bare ENV NODE_OPTIONS, and nothing when absent', () => {
    expect(parseNodeOptions('FROM x\nENV NODE_OPTIONS="--max-old-space-size=128 --max-semi-space-size=4"\nUSER 1\n')).toBe('--max-old-space-size=128 --max-semi-space-size=4');
    expect(parseNodeOptions('ENV NODE_OPTIONS=--max-old-space-size=96\n')).toBe('--max-old-space-size=96');
    expect(parseNodeOptions('ENV NODE_ENV=production\n')).toBe('');
  });

  it("finds the repository Dockerfile's heap bound", () => {
    expect(productNodeOptions(ROOT)).toMatch(/--max-old-space-size=\d+ --max-semi-space-size=\d+/);
  });

  it('the chart default and config/manager run the operator with the same flags as the image', () => {
    const values = parse(readFileSync(`${ROOT}/charts/agent-identity-operator/values.yaml`, 'utf8')) as { operator: { heap: { maxOldSpaceMiB: number; maxSemiSpaceMiB: number } } };
    const { maxOldSpaceMiB, maxSemiSpaceMiB } = values.operator.heap;
    expect(`--max-old-space-size=${maxOldSpaceMiB} --max-semi-space-size=${maxSemiSpaceMiB}`).toBe(productNodeOptions(ROOT));
    const manager = readFileSync(`${ROOT}/config/manager/manager.yaml`, 'utf8');
    expect(manager).toContain(`value: "${productNodeOptions(ROOT)}"`);
  });
});
