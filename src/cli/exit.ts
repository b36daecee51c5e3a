/**
 * Exit codes scripts can rely on (documented in `--help` and docs/kubectl-plugin.md).
 */
export const Exit = {
  /** Done: the revocation completed, the rotation was handled, the suspension lifted. */
  Ok: 0,
  /** The GrantRevocation ended Failed (some action failed at the IdP). */
  Failed: 1,
  /** Bad usage: unknown flag, missing argument, invalid value, or input the API server rejected. */
  Usage: 2,
  /** Timed out waiting (--timeout); the request stays in the cluster and may still finish. */
  Timeout: 3,
  /** The agent or GrantRevocation does not exist, or you are not allowed to see or change it. */
  NotFoundOrForbidden: 4,
  /** Anything else: the API server is unreachable, or answered with an unexpected error. */
  Error: 5,
} as const;

export type ExitCode = (typeof Exit)[keyof typeof Exit];

/** An error the plugin reports as one line on stderr, exiting with `exitCode`. */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: ExitCode;

  constructor(exitCode: ExitCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.exitCode = exitCode;
  }
}

export const usageError = (message: string): CliError => new CliError(Exit.Usage, message);
