/**
 * The operator process must not load `@kubernetes/client-node` (about 85 MiB of RSS just to
 * import; DESIGN.md budgets 200 MiB for 10,000 AgentClients). Type-only imports are erased and
 * fine; this catches a value import creeping back into the graph of `src/operator.ts`.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const script = `
import { registerHooks } from 'node:module';
const loaded = new Set();
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); loaded.add(r.url); return r; } });
await import(${JSON.stringify(new URL('./operator.ts', import.meta.url).href)});
process.stdout.write(JSON.stringify([...loaded]));
`;

describe('operator import graph', () => {
  it('loads no @kubernetes/client-node module', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 });
    const loaded = JSON.parse(stdout) as string[];
    expect(loaded.some((url) => url.endsWith('/src/operator.ts'))).toBe(true);
    expect(loaded.filter((url) => url.includes('@kubernetes/client-node'))).toEqual([]);
    // IdP calls use node:http (idp/oidc/http.ts): undici's fetch costs several times the CPU per call.
    expect(loaded.filter((url) => url.includes('/undici/'))).toEqual([]);
  });
});

describe('operator entry point', () => {
  it('logs asynchronously, yet a fatal line written just before exiting is not lost', async () => {
    const main = new URL('./main.ts', import.meta.url).pathname;
    const result = await promisify(execFile)(process.execPath, [main, '--concurrency=0'], { timeout: 60_000 }).then(
      () => ({ code: 0, stdout: '' }),
      (error: { code?: number; stdout?: string }) => ({ code: error.code, stdout: error.stdout ?? '' }),
    );
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout.trim())).toMatchObject({ level: 60, msg: '--concurrency must be a positive integer' });
  });
});
