/**
 * The container image, checked without a container engine: the Dockerfile's invariants
 * (multi-stage, distroless non-root runtime, exec-form entrypoint), and the build it runs
 * (`npm run build` = tsc -p tsconfig.build.json) producing a `dist/main.js` that starts, whose
 * module graph needs nothing `npm prune --omit=dev` removes.
 */
import { readFile, rm } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, run } from './tools.ts';

const OUT = path.join(ROOT, 'test-results', `build-check-${process.pid}`);

afterAll(async () => {
  await rm(OUT, { recursive: true, force: true });
});

interface Instruction {
  keyword: string;
  args: string;
}

/** Dockerfile instructions (line continuations joined, comments dropped). */
function instructions(text: string): Instruction[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

describe('Dockerfile', () => {
  it('is multi-stage, with a small non-root runtime stage and an exec-form entrypoint', async () => {
    const all = instructions(await readFile(path.join(ROOT, 'Dockerfile'), 'utf8'));
    const args = new Map(all.filter((i) => i.keyword === 'ARG').map((i) => i.args.split('=') as [string, string]));
    const froms = all.flatMap((i, index) => (i.keyword === 'FROM' ? [index] : []));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    const build = all[froms[0]!]!.args;
    expect(build).toMatch(/ AS build$/i);
    expect(args.get('NODE_IMAGE')).toBe('node:22-bookworm-slim');
    const buildSteps = all.slice(froms[0], froms.at(-1)).map((i) => `${i.keyword} ${i.args}`).join('\n');
    expect(buildSteps).toMatch(/RUN npm ci/);
    expect(buildSteps).toMatch(/npm run build/);
    expect(buildSteps).toMatch(/npm prune --omit=dev/);

    const runtime = all.slice(froms.at(-1));
    expect(runtime[0]!.args).toBe('${RUNTIME_IMAGE}');
    expect(args.get('RUNTIME_IMAGE')).toMatch(/^gcr\.io\/distroless\/nodejs22-debian12:nonroot$/);
    // Only build output and production node_modules reach the runtime image.
    const copies = runtime.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) expect(copy).toMatch(/^--from=build /);
    expect(runtime.some((i) => i.keyword === 'RUN'), 'no RUN in the runtime stage (distroless has no shell)').toBe(false);
    const users = runtime.filter((i) => i.keyword === 'USER');
    expect(users).toHaveLength(1);
    const [uid, gid] = users[0]!.args.split(':');
    expect(Number(uid)).toBeGreaterThan(0);
    expect(Number(gid)).toBeGreaterThan(0);
    // The chart and config/manager run the pod as the same user.
    const chart = await readFile(path.join(ROOT, 'charts/agent-identity-operator/templates/deployment.yaml'), 'utf8');
    expect(chart).toContain(`runAsUser: ${uid}`);
    const entrypoint = runtime.filter((i) => i.keyword === 'ENTRYPOINT');
    expect(entrypoint).toHaveLength(1);
    expect(JSON.parse(entrypoint[0]!.args)).toEqual(['/nodejs/bin/node', 'dist/main.js']);
  });

  it('sends only what the build needs as the build context', async () => {
    const lines = (await readFile(path.join(ROOT, '.dockerignore'), 'utf8')).split('\n').filter((l) => l && !l.startsWith('#'));
    expect(lines[0]).toBe('*');
    expect(lines.filter((l) => l.startsWith('!')).sort()).toEqual(['!package-lock.json', '!package.json', '!src/', '!tsconfig.build.json', '!tsconfig.json']);
  });
});

describe('the build the image runs', () => {
  it('compiles src/ into a dist/main.js that starts and needs production dependencies only', async () => {
    const tsc = await run(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', OUT]);
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.code).toBe(0);
    const help = await run(process.execPath, [path.join(OUT, 'main.js'), '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--leader-elect');
    expect(help.stdout).toContain('--health-probe-bind-address');

    const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const external = await bareImports(path.join(OUT, 'main.js'));
    expect([...external]).toEqual(expect.arrayContaining(['pino', 'prom-client', 'yaml']));
    for (const name of external) expect(Object.keys(pkg.dependencies), `dist/main.js imports ${name}`).toContain(name);
  }, 300_000);
});

/** Package names imported (statically or dynamically) anywhere in the module graph of `entry`. */
async function bareImports(entry: string): Promise<Set<string>> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const queue = [entry];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    const text = await readFile(file, 'utf8');
    // `... from 'x'` (also after a multi-line import list), `import('x')` and `import 'x'`.
    for (const match of text.matchAll(/\bfrom\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm)) {
      const spec = match[1] ?? match[2] ?? match[3] ?? '';
      // A string that merely contains "from '...'" is no module specifier.
      if (!/^[@a-z0-9.][\w@./-]*$/i.test(spec)) continue;
      if (spec.startsWith('.')) queue.push(path.resolve(path.dirname(file), spec));
      else if (!spec.startsWith('node:') && !builtinModules.includes(spec)) {
        packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
      }
    }
  }
  return packages;
}
