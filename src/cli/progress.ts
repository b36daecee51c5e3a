/**
 * The live progress line while a command waits. On a TTY one line is redrawn in place (and
 * ticks every second); elsewhere (CI logs, pipes) a line is printed only when something changed,
 * so logs stay readable. Permanent lines (each per-target result) scroll above the live line.
 */
import { stripAnsi } from './render/color.ts';
import { truncate } from './render/table.ts';

export interface OutputStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export class Progress {
  readonly #stream: OutputStream;
  readonly #live: boolean;
  #line = '';
  #lastKey: string | undefined;
  #ticker: ReturnType<typeof setInterval> | undefined;

  constructor(stream: OutputStream) {
    this.#stream = stream;
    this.#live = stream.isTTY === true;
  }

  /** Redraws the live line; `key` says what the line means without the clock, for non-TTY output. */
  update(line: string, key: string): void {
    this.#line = line;
    if (this.#live) this.#draw();
    else if (key !== this.#lastKey) this.#stream.write(`${stripAnsi(line)}\n`);
    this.#lastKey = key;
  }

  /** On a TTY, call `render` every second so the elapsed time moves while nothing happens. */
  tick(render: () => string): void {
    if (!this.#live || this.#ticker) return;
    this.#ticker = setInterval(() => {
      this.#line = render();
      this.#draw();
    }, 1000);
    this.#ticker.unref();
  }

  /** A permanent line, printed above the live line. */
  log(line: string): void {
    if (this.#live) this.#stream.write('\r\u001b[2K');
    this.#stream.write(`${this.#live ? line : stripAnsi(line)}\n`);
    if (this.#live && this.#line) this.#draw();
  }

  /** Stops ticking and clears the live line. */
  end(): void {
    if (this.#ticker) clearInterval(this.#ticker);
    this.#ticker = undefined;
    if (this.#live && this.#line) this.#stream.write('\r\u001b[2K');
    this.#line = '';
  }

  #draw(): void {
    const columns = this.#stream.columns ?? 100;
    const fits = stripAnsi(this.#line).length < columns;
    this.#stream.write(`\r\u001b[2K${fits ? this.#line : truncate(stripAnsi(this.#line), columns - 1)}`);
  }
}
