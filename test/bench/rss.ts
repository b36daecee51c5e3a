/**
 * Resident set size of another process, read from /proc/<pid>/status (VmRSS, in kB): what the
 * kernel really holds for the operator, heap plus code plus buffers, as a container limit sees it.
 */
import { readFileSync } from 'node:fs';

const MIB = 1024 * 1024;

/** VmRSS in bytes, or undefined when the process is gone. */
export function readRss(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
    return match?.[1] ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export const toMiB = (bytes: number): number => Math.round((bytes / MIB) * 10) / 10;

/** Samples one pid's RSS at a fixed interval; `mark()` starts a new window for peak and last value. */
export class RssSampler {
  readonly #pid: number;
  readonly #timer: NodeJS.Timeout;
  #peak = 0;
  #last = 0;
  #samples = 0;

  constructor(pid: number, intervalMs = 200) {
    this.#pid = pid;
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), intervalMs);
    this.#timer.unref();
  }

  #sample(): void {
    const rss = readRss(this.#pid);
    if (rss === undefined) return;
    this.#last = rss;
    this.#peak = Math.max(this.#peak, rss);
    this.#samples += 1;
  }

  /** Peak since the last mark, and the current value (sampled now), in bytes. */
  window(): { peakBytes: number; currentBytes: number; samples: number } {
    this.#sample();
    return { peakBytes: this.#peak, currentBytes: this.#last, samples: this.#samples };
  }

  mark(): void {
    this.#sample();
    this.#peak = this.#last;
    this.#samples = 0;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat; undefined when gone. */
export function readCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 here; in clock ticks (100/s on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}
