/**
 * `make dev` / `make dev-up` / `make dev-down`:
 *   node src/dev/cli.ts run [--tour]   foreground; Ctrl-C (or SIGTERM) stops everything
 *   node src/dev/cli.ts up             start `run` detached, return once ready
 *   node src/dev/cli.ts down           stop the detached stack (harmless when none runs)
 * State lives in `.dev/` (override with DEV_DIR); the IdP port with DEV_IDP_PORT (another port than
 * 4444 applies the sample IdentityProvider with that issuer; the file is unchanged).
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { DEFAULT_IDP_PORT, startDevStack, type DevStack } from './stack.ts';
import { tour } from './tour.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const devDir = path.resolve(process.env.DEV_DIR ?? path.join(repoRoot, '.dev'));
const pidFile = path.join(devDir, 'dev.pid');
const logFile = path.join(devDir, 'dev.log');
const readyFile = path.join(devDir, 'ready');
/** How the tour names the state folder: relative to where make runs (the repository root). */
const shownDir = path.relative(process.cwd(), devDir) || '.';
const tourFile = path.join(devDir, 'tour');
const UP_TIMEOUT_MS = 30 * 60_000; // the first run may build kube-apiserver from source

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function runningPid(): Promise<number | undefined> {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number((await readFile(pidFile, 'utf8')).trim());
  return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
}

async function tailOf(file: string, lines = 40): Promise<string> {
  return existsSync(file) ? (await readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n') : '';
}

async function run(withTour: boolean): Promise<void> {
  const other = await runningPid();
  if (other !== undefined && other !== process.pid) {
    throw new Error(`a dev stack already runs (pid ${other}); stop it with make dev-down`);
  }
  await mkdir(devDir, { recursive: true });
  await writeFile(pidFile, `${process.pid}\n`);
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' }, pino.destination({ dest: logFile, append: true, sync: true }));
  let stack: DevStack | undefined;
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    if (withTour) console.log(`\n${signal}: stopping the dev stack...`);
    logger.info({ signal }, 'dev: stopping');
    void (stack?.stop() ?? Promise.resolve())
      .then(() => rm(pidFile, { force: true }))
      .then(() => process.exit(0), (error: unknown) => {
        console.error(error);
        process.exit(1);
      });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  if (withTour) console.log(`Starting the dev stack (logs: ${path.relative(process.cwd(), logFile)})...`);
  try {
    stack = await startDevStack({
      dataDir: devDir,
      crdsDir: path.join(repoRoot, 'crds'),
      idpPort: Number(process.env.DEV_IDP_PORT ?? DEFAULT_IDP_PORT),
      tour: (started) => tour(started, shownDir, 'background'),
      logger,
    });
  } catch (error) {
    await rm(pidFile, { force: true });
    throw error;
  }
  if (stopping) return; // a signal arrived during startup; shutdown() stops what started
  logger.info({ server: stack.controlPlane.server, issuer: stack.issuer }, 'dev: ready');
  if (withTour) console.log(tour(stack, shownDir, 'foreground'));
}

async function up(): Promise<void> {
  const running = await runningPid();
  if (running !== undefined && existsSync(readyFile)) {
    console.log(`dev stack already running (pid ${running})`);
    if (existsSync(tourFile)) console.log(await readFile(tourFile, 'utf8'));
    return;
  }
  if (running !== undefined) throw new Error(`a dev stack is starting or stuck (pid ${running}); try make dev-down`);
  await mkdir(devDir, { recursive: true });
  await rm(readyFile, { force: true });
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'run'], {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: process.env,
  });
  closeSync(fd);
  child.unref();
  let exitCode: number | null | undefined;
  child.once('exit', (code) => (exitCode = code ?? -1));
  console.log(`dev stack starting in the background (pid ${child.pid}, log ${logFile})`);
  const deadline = Date.now() + UP_TIMEOUT_MS;
  let lastNote = Date.now();
  while (!(existsSync(readyFile) && (await readFile(readyFile, 'utf8')).trim() === String(child.pid))) {
    if (exitCode !== undefined || Date.now() > deadline) {
      if (exitCode === undefined && child.pid) process.kill(child.pid, 'SIGTERM');
      throw new Error(`dev stack did not become ready (exit ${String(exitCode)}); last log lines:\n${await tailOf(logFile)}`);
    }
    if (Date.now() - lastNote > 60_000) {
      console.log(`... still starting (see ${logFile})`);
      lastNote = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  console.log(existsSync(tourFile) ? await readFile(tourFile, 'utf8') : `dev stack ready; environment: source ${shownDir}/env`);
}

async function down(): Promise<void> {
  const pid = await runningPid();
  if (pid === undefined) {
    await rm(pidFile, { force: true });
    await rm(readyFile, { force: true });
    console.log('dev stack not running');
    return;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
  // Its control plane processes are reaped by their watchdog once the stack process is gone.
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  await rm(pidFile, { force: true });
  await rm(readyFile, { force: true });
  console.log(`dev stack stopped (pid ${pid})`);
}

const command = process.argv[2];
const main = command === 'run' ? run(process.argv.includes('--tour')) : command === 'up' ? up() : command === 'down' ? down() : undefined;
if (!main) {
  console.error('usage: node src/dev/cli.ts run [--tour] | up | down');
  process.exit(2);
}
main.catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
