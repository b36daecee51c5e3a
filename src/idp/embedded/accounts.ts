/**
 * The embedded IdP's fixed user directory (development only): accounts given at start-up, with
 * passwords compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Account } from 'oidc-provider';

export interface AccountEntry {
  password: string;
  name?: string;
  email?: string;
}

/** Constant-time string equality (hashes first so lengths do not leak either). */
export function constantTimeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

export class AccountBook {
  readonly #entries: Map<string, AccountEntry>;

  constructor(entries: Record<string, AccountEntry>) {
    this.#entries = new Map(Object.entries(entries));
  }

  /** The account id when the password matches, else undefined. */
  verify(login: string, password: string): string | undefined {
    const entry = this.#entries.get(login);
    // Compare even for an unknown login so response time does not reveal which logins exist.
    const ok = constantTimeEqual(password, entry?.password ?? '\u0000unknown');
    return entry && ok ? login : undefined;
  }

  /** oidc-provider's findAccount: the subject is the login name. */
  find(sub: string): Account | undefined {
    const entry = this.#entries.get(sub);
    if (!entry) return undefined;
    return {
      accountId: sub,
      claims: () => ({
        sub,
        ...(entry.name === undefined ? {} : { name: entry.name }),
        ...(entry.email === undefined ? {} : { email: entry.email }),
      }),
    };
  }
}
