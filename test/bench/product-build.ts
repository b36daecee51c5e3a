/**
 * The operator as the product ships it: the image runs `node dist/main.js`, compiled by
 * `tsc -p tsconfig.build.json`, with the Node.js flags the Dockerfile sets in NODE_OPTIONS
 * (heap limits). Running `node src/main.ts` instead would measure Node's type stripping (about
 * 30 MiB of RSS for the TypeScript-to-JavaScript transformer) and no heap limit: not the product.
 */
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { productNodeOptions } from '../../src/dev/node-options.ts';

const run = promisify(execFile);

export interface ProductBuild {
  /** The compiled entry point (`<outDir>/main.js`). */
  entry: string;
  /** NODE_OPTIONS as the image sets them. */
  nodeOptions: string;
  remove(): Promise<void>;
}

/**
 * Compiles the operator like the image build does, into a folder under the repository (so
 * `node_modules` and package.json's `"type": "module"` apply as in the image).
 */
export async function buildProduct(repoRoot: string): Promise<ProductBuild> {
  const outDir = path.join(repoRoot, 'test-results', `bench-dist-${process.pid}`);
  await run(process.execPath, [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', outDir], { cwd: repoRoot });
  return {
    entry: path.join(outDir, 'main.js'),
    nodeOptions: productNodeOptions(repoRoot),
    remove: () => rm(outDir, { recursive: true, force: true }),
  };
}
