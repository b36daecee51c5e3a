/**
 * `make bench`: the performance figures of DESIGN.md "Performance", measured on loopback against
 * a real kube-apiserver + etcd and the embedded IdP, with the operator as a separate process.
 * Not part of `make test`: figures are reported, never asserted by a timed test.
 *
 * Phases, in order: the floor (bare script, no operator; without and with the finalizer patch, --rounds times); the operator with N AgentClients
 * applied at once and GrantRevocations during that backlog; idle; a process restart; memory at
 * --scale AgentClients; a ConsentPolicy narrowing over the backlog's AgentClients. See each file under scenarios/.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { parseBenchArgs, USAGE } from './args.ts';
import type { BenchContext } from './context.ts';
import { buildProduct } from './product-build.ts';
import { perAgent, renderTable, targets } from './report.ts';
import type { BenchResults, NotMeasured } from './report.ts';
import { runBacklog } from './scenarios/backlog.ts';
import { runFloor } from './scenarios/floor.ts';
import { runIdle } from './scenarios/idle.ts';
import { runPolicyChange } from './scenarios/policy.ts';
import { runRestart } from './scenarios/restart.ts';
import { runExtraBurst } from './scenarios/rounds.ts';
import { runScale } from './scenarios/scale.ts';
import { startBenchStack } from './stack.ts';

const parsed = parseBenchArgs(process.argv.slice(2));
if (parsed === 'help') {
  process.stdout.write(USAGE);
  process.exit(0);
}
const options = parsed;
const log = pino({ level: process.env['BENCH_LOG_LEVEL'] ?? 'warn' }, pino.destination(2));
const say = (message: string): void => void process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** 1-minute load average per phase (start, end): the machine is shared, so figures move with it. */
const phaseLoad: Record<string, number[]> = {};
const load1 = (): number => Math.round((os.loadavg()[0] ?? 0) * 100) / 100;

/** Runs one phase; a failure becomes `notMeasured` with its message, and the run goes on. */
async function phase<T>(name: string, run: () => Promise<T>): Promise<T | NotMeasured> {
  say(`${name}: start (load ${load1()})`);
  const start = performance.now();
  phaseLoad[name] = [load1()];
  try {
    const result = await run();
    phaseLoad[name]?.push(load1());
    say(`${name}: done in ${((performance.now() - start) / 1000).toFixed(1)} s (load ${load1()})`);
    return result;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    say(`${name}: FAILED: ${message}`);
    return { notMeasured: `${name} failed: ${message}` };
  }
}

const ok = <T extends object>(r: T | NotMeasured | undefined): r is T => r !== undefined && !('notMeasured' in r);

const dir = await mkdtemp(path.join(os.tmpdir(), 'agentid-bench-'));
say('compiling the operator as the image does (tsc -p tsconfig.build.json)');
const product = await buildProduct(path.resolve(import.meta.dirname, '..', '..'));
const nodeFlags = product.nodeOptions || '(none)';
say(`operator: node ${path.relative(process.cwd(), product.entry)}; node flags: ${nodeFlags} (NODE_OPTIONS from the Dockerfile)`);
const results: BenchResults = {
  environment: {
    commit: commit(),
    node: process.version,
    cpus: os.cpus().length,
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
    options: { ...options, json: undefined },
    operator: `node dist/main.js (compiled as the image does) --concurrency=${options.concurrency} --log-level=${options.operatorLogLevel} (separate process, leader election off)`,
    nodeFlags: `${nodeFlags} (NODE_OPTIONS from the Dockerfile, as the image runs the operator)`,
    apiWrites: 'counted by a TLS reverse proxy in front of kube-apiserver that the operator and floor kubeconfigs point at',
    idpCalls: 'counted by a reverse proxy at the embedded IdP issuer address',
  },
};
say(`working folder ${dir}`);
const stack = await startBenchStack(log, dir);
const ctx: BenchContext = {
  stack,
  options,
  log,
  dir,
  ca: await readFile(path.join(stack.controlPlane.dir, 'certs', 'apiserver.crt'), 'utf8'),
  product,
};
const wallStart = performance.now();
try {
  // The bare floor first: the first burst against a fresh apiserver and IdP is the slowest, and
  // the ratio's own floor should not be flattered by that.
  // --rounds: each floor and the operator's burst are timed that many times; the ratio is the
  // ratio of the medians (a single burst moves by 20 % or more on a shared machine).
  const rounds: { bareFloor: number[]; floor: number[]; operator: number[] } = { bareFloor: [], floor: [], operator: [] };
  for (let r = 1; r <= options.rounds && !options.skipFloor; r++) {
    const suffix = options.rounds > 1 ? ` (round ${r}/${options.rounds})` : '';
    const bare = await phase(`bare floor (no finalizer)${suffix}`, () => runFloor(ctx, { finalizer: false }));
    const floor = await phase(`floor${suffix}`, () => runFloor(ctx, { finalizer: true }));
    if (ok(bare)) rounds.bareFloor.push(bare.seconds);
    if (ok(floor)) rounds.floor.push(floor.seconds);
    if (r === 1) {
      results.bareFloor = bare;
      results.floor = floor;
    }
  }
  if (options.skipFloor) results.floor = results.bareFloor = { notMeasured: '--skip-floor' };
  results.backlog = await phase('backlog + revocations', () => runBacklog(ctx));
  const needs = (what: string) => ({ notMeasured: `${what} needs the backlog scenario, which did not complete` });
  const backlogOk = ok(results.backlog);
  if (ok(results.backlog)) rounds.operator.push(results.backlog.seconds);
  for (let r = 2; r <= options.rounds && backlogOk; r++) {
    const extra = await phase(`operator burst (round ${r}/${options.rounds})`, () => runExtraBurst(ctx, r));
    if (typeof extra === 'number') rounds.operator.push(extra);
  }
  results.rounds = rounds;
  results.idle = backlogOk ? await phase('idle', () => runIdle(ctx)) : needs('idle');
  results.restart = backlogOk ? await phase('restart', () => runRestart(ctx)) : needs('restart');
  const existing = backlogOk ? options.agents + 1 : 0;
  results.scale =
    options.scale === 0 ? { notMeasured: '--scale 0' } : backlogOk ? await phase('scale', () => runScale(ctx, existing)) : needs('scale');
  results.policyChange = backlogOk ? await phase('policy change', () => runPolicyChange(ctx)) : needs('policy change');
} finally {
  await ctx.operator?.stop();
  ctx.rss?.stop();
  await stack.stop();
  await product.remove();
}
results.environment['loadAverage1mPerPhase'] = phaseLoad;
results.environment['wallSeconds'] = Math.round((performance.now() - wallStart) / 1000);
results.environment['operatorLog'] = options.keep ? path.join(dir, 'operator.log') : 'removed (use --keep)';

const rows = targets(results, options.agents, options.scale, options.idleSeconds);
const explain: string[] = [];
if (ok(results.bareFloor)) explain.push(`bare floor (no finalizer), per agent: API writes ${JSON.stringify(perAgent(results.bareFloor.apiWrites.byResource, results.bareFloor.agents))}`);
if (ok(results.floor)) explain.push(`floor, per agent: API writes ${JSON.stringify(perAgent(results.floor.apiWrites.byResource, results.floor.agents))}; API reads ${JSON.stringify(perAgent(results.floor.apiReads.byResource, results.floor.agents))}; bench process CPU ${results.floor.benchCpuSeconds} s; IdP ${JSON.stringify(perAgent(results.floor.idpCalls.byOperation, results.floor.agents))}`);
if (ok(results.backlog)) explain.push(`operator, per agent: API writes ${JSON.stringify(perAgent(results.backlog.apiWrites.byResource, results.backlog.agents))}; API reads ${JSON.stringify(perAgent(results.backlog.apiReads.byResource, results.backlog.agents))}; operator CPU ${results.backlog.operatorCpuSeconds} s, reconciles ${results.backlog.reconcilesPerAgent}, bench process CPU ${results.backlog.benchCpuSeconds} s; IdP ${JSON.stringify(perAgent(results.backlog.idpCalls.byOperation, results.backlog.agents))}`);
if (ok(results.restart)) explain.push(`restart: IdP calls ${JSON.stringify(results.restart.idpCalls.byOperation)}; API writes ${JSON.stringify(results.restart.apiWrites.byResource)}; not Ready after: ${results.restart.notReadyAfter}; status changed on ${results.restart.statusChanged}: ${JSON.stringify(results.restart.changedStatusFields)}`);
if (ok(results.idle) && results.idle.apiWrites.total + results.idle.idpCalls.total > 0) explain.push(`idle: API writes ${JSON.stringify(results.idle.apiWrites.byResource)}; IdP ${JSON.stringify(results.idle.idpCalls.byOperation)}`);
if (ok(results.scale)) explain.push(`scale: ${results.scale.measured}; settled: heap used ${results.scale.heapUsedMiB} of ${results.scale.heapTotalMiB} MiB, external ${results.scale.externalMiB} MiB; Events dropped ${results.scale.eventsDropped}`);
if (ok(results.policyChange)) {
  const p = results.policyChange;
  explain.push(`policy change: ${p.policy} dropped ${p.droppedScope} for ${p.agents} AgentClients; IdP narrowed p50 ${p.idpNarrowedP50Seconds} s, all ${p.idpAllNarrowedSeconds} s; status all ${p.statusAllUpdatedSeconds} s; GrantRevocations ${p.grantRevocations.created} created, ${p.grantRevocations.completed} Completed (last at ${p.grantRevocations.allFinishedSeconds} s), grants revoked ${p.grantRevocations.grantsRevoked}; IdP ${JSON.stringify(p.idpCalls.byOperation)}; API writes ${JSON.stringify(p.apiWrites.byResource)}; verified at the IdP ${p.verifiedAtIdp.narrowed}/${p.agents}`);
}
explain.push(`node flags: ${nodeFlags}`);
const table = `${renderTable(rows)}\n${explain.map((e) => `  ${e}`).join('\n')}\n`;
const json = JSON.stringify({ ...results, targets: rows }, null, 2);
if (options.json) {
  await writeFile(options.json, `${json}\n`);
  process.stdout.write(table);
  process.stdout.write(`JSON report: ${options.json}\n`);
} else {
  process.stderr.write(table);
  process.stdout.write(`${json}\n`);
}
if (!options.keep) await rm(dir, { recursive: true, force: true });
// Everything was stopped above; exit rather than wait on a straggling socket's keep-alive timer.
process.exit(0);
