/**
 * Runs the embedded development IdP standalone:
 *
 *   node src/idp/embedded/cli.ts [--host 127.0.0.1] [--port 9400] [--issuer URL]
 *
 * Tokens come from the environment (EMBEDDED_IDP_INITIAL_ACCESS_TOKEN, EMBEDDED_IDP_ADMIN_TOKEN)
 * or files (--initial-access-token-file, --admin-token-file), never from flags, so they stay out
 * of `ps`. When neither is given, random tokens are generated and written to --token-dir (mode
 * 0600) if given; they are never printed. Also honours EMBEDDED_IDP_HOST / EMBEDDED_IDP_PORT.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { startEmbeddedIdp } from './server.ts';

const { values } = parseArgs({
  options: {
    host: { type: 'string' },
    port: { type: 'string' },
    issuer: { type: 'string' },
    'initial-access-token-file': { type: 'string' },
    'admin-token-file': { type: 'string' },
    'token-dir': { type: 'string' },
  },
});

async function token(file: string | undefined, env: string | undefined): Promise<string | undefined> {
  if (file) return (await readFile(file, 'utf8')).trim();
  return env || undefined;
}

const logger = pino({ name: 'embedded-idp' });
const port = Number(values.port ?? process.env['EMBEDDED_IDP_PORT'] ?? 0);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  logger.error({ port: values.port }, 'invalid port');
  process.exit(2);
}
const initialAccessToken = await token(values['initial-access-token-file'], process.env['EMBEDDED_IDP_INITIAL_ACCESS_TOKEN']);
const adminToken = await token(values['admin-token-file'], process.env['EMBEDDED_IDP_ADMIN_TOKEN']);
const idp = await startEmbeddedIdp({
  host: values.host ?? process.env['EMBEDDED_IDP_HOST'] ?? '127.0.0.1',
  port,
  logger,
  ...(values.issuer ? { issuer: values.issuer } : {}),
  ...(initialAccessToken ? { initialAccessToken } : {}),
  ...(adminToken ? { adminToken } : {}),
});
if (values['token-dir']) {
  await mkdir(values['token-dir'], { recursive: true, mode: 0o700 });
  await writeFile(join(values['token-dir'], 'initial-access-token'), idp.initialAccessToken, { mode: 0o600 });
  await writeFile(join(values['token-dir'], 'admin-token'), idp.adminToken, { mode: 0o600 });
  logger.info({ tokenDir: values['token-dir'] }, 'tokens written');
}
logger.info({ issuer: idp.issuer, url: idp.url }, 'embedded IdP ready (default account alice)');

const shutdown = (): void => {
  idp.stop().then(() => process.exit(0), (error: unknown) => {
    logger.error({ err: { message: String(error) } }, 'stop failed');
    process.exit(1);
  });
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
