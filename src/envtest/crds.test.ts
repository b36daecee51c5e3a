import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCrds } from './crds.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'crds-test-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const crd = (name: string) => `apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: ${name}\n`;

describe('readCrds', () => {
  it('returns nothing for a missing folder', async () => {
    expect(await readCrds(path.join(dir, 'missing'))).toEqual([]);
  });

  it('reads every CRD from multi-document YAML files, ignoring other kinds and files', async () => {
    await writeFile(path.join(dir, 'b.yaml'), `${crd('bs.example.dev')}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n`);
    await writeFile(path.join(dir, 'a.yml'), `---\n${crd('as.example.dev')}---\n${crd('cs.example.dev')}`);
    await writeFile(path.join(dir, 'README.md'), crd('not.read'));
    const names = (await readCrds(dir)).map((c) => c.metadata?.name);
    expect(names).toEqual(['as.example.dev', 'cs.example.dev', 'bs.example.dev']);
  });

  it('rejects invalid YAML naming the file', async () => {
    const bad = await mkdtemp(path.join(os.tmpdir(), 'crds-bad-'));
    await writeFile(path.join(bad, 'broken.yaml'), 'kind: [unclosed\n');
    await expect(readCrds(bad)).rejects.toThrow(/broken\.yaml/);
    await rm(bad, { recursive: true, force: true });
  });
});
