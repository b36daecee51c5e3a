import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import net from 'node:net';

/** A child process running in a process group of its own, its output captured in a log file. */
export interface ManagedProcess {
  name: string;
  logFile: string;
  child: ChildProcess;
  /** Settles when the process has exited (never rejects). */
  exited: Promise<number | null>;
  /** SIGTERM to the whole group, SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ManagedProcess>();
let exitHookInstalled = false;

/**
 * Kill every group still running when this process exits, including on Ctrl-C and SIGTERM, so
 * no etcd or kube-apiserver outlives the test run or dev session that started it.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const p of live) killGroup(p.child, 'SIGKILL');
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/** Start `command` detached (own process group), stdout and stderr appended to `logFile`. */
export function startProcess(name: string, command: string, args: string[], logFile: string): ManagedProcess {
  installExitHook();
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, { detached: true, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(null));
  });
  const managed: ManagedProcess = {
    name,
    logFile,
    child,
    exited,
    async stop(graceMs = 10_000) {
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      live.delete(managed);
    },
  };
  live.add(managed);
  void exited.then(() => live.delete(managed));
  return managed;
}

/**
 * Start a tiny shell that kills the given process groups once `parentPid` is gone. The exit hook
 * cannot run when the parent is SIGKILLed (a vitest worker timing out, an OOM kill); this can.
 */
export function startOrphanReaper(parentPid: number, groups: number[]): { stop(): void } {
  const script = 'while kill -0 "$0" 2>/dev/null; do sleep 1; done; for g in "$@"; do kill -9 "-$g" 2>/dev/null; done';
  const child = spawn('sh', ['-c', script, String(parentPid), ...groups.map(String)], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  return {
    stop() {
      killGroup(child, 'SIGKILL');
    },
  };
}

/** Ask the kernel for a free loopback port. Racy by nature: callers retry on a bind failure. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/** Last `lines` lines of a log file, or a note that it could not be read. */
export async function tail(file: string, lines = 40): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch (error) {
    return `(could not read ${file}: ${String(error)})`;
  }
}
