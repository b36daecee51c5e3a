/**
 * Pieces several commands share.
 */
import { usageError } from '../exit.ts';
import type { UserInfo } from '../kube.ts';
import type { CommandContext } from './context.ts';

/** `--reason` is required, 1 to 1024 characters (the GrantRevocation schema's bounds). */
export function requireReason(reason: string | undefined): string {
  const trimmed = reason?.trim();
  if (!trimmed) throw usageError('--reason is required: say why (it is recorded for the audit trail)');
  if (trimmed.length > 1024) throw usageError('--reason must be at most 1024 characters');
  return trimmed;
}

/**
 * Who is running the plugin (SelfSubjectReview). When the server will not say, the request goes
 * ahead without the annotation, after a warning: the admission policy then has the last word.
 */
export async function currentUser(ctx: CommandContext): Promise<UserInfo | undefined> {
  try {
    return await ctx.kube.whoami();
  } catch (error) {
    ctx.stderr.write(`warning: cannot tell who you are (${error instanceof Error ? error.message : String(error)})\n`);
    return undefined;
  }
}
