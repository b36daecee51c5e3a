import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { IndexedStore, StoreSnapshot } from '../idp/embedded/store.ts';

/** How often the IdP's state is saved besides on stop (a SIGKILLed stack loses at most this much). */
const SAVE_PERIOD_MS = 10_000;

/**
 * Keep the embedded IdP's registrations, grants and tokens in `file` (0600: it holds
 * credentials) across dev-stack restarts, so the AgentClients kept in etcd still name clients the
 * IdP knows. Loads the file now; saves periodically and on `stop()`.
 */
export async function persistIdpState(store: IndexedStore, file: string, logger: Logger): Promise<{ stop(): Promise<void> }> {
  if (existsSync(file)) {
    try {
      const snapshot = JSON.parse(await readFile(file, 'utf8')) as StoreSnapshot;
      store.restore(snapshot);
      logger.info({ records: snapshot.records.length }, 'dev: embedded IdP state restored');
    } catch (error) {
      // A torn or foreign file: start empty (the operator re-registers what it cannot find).
      logger.warn({ err: error instanceof Error ? error.message : String(error), file }, 'dev: embedded IdP state unreadable; starting empty');
    }
  }
  const save = async (): Promise<void> => {
    const temp = `${file}.tmp`;
    await writeFile(temp, JSON.stringify(store.snapshot()), { mode: 0o600 });
    await rename(temp, file);
  };
  const timer = setInterval(() => {
    save().catch((error: unknown) => logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'dev: cannot save embedded IdP state'));
  }, SAVE_PERIOD_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await save();
    },
  };
}
