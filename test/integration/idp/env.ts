/**
 * A real embedded IdP behind a fault proxy placed at its issuer address (the IdP advertises the
 * proxy's URL as issuer, so RFC 8414 issuer validation holds and faults can be injected).
 */
import { pino } from 'pino';
import type { Logger } from 'pino';
import type { IdpAdapterConfig } from '../../../src/idp/adapter.ts';
import { startEmbeddedIdp } from '../../../src/idp/embedded/server.ts';
import { createAdapter } from '../../../src/idp/registry.ts';
import { startFaultProxy } from '../../../src/testing/faultproxy.ts';
import type { ConformanceEnv } from './conformance.ts';

export const TEST_ACCOUNTS = {
  alice: { password: 'wonderland', name: 'Alice' },
  bob: { password: 'builder', name: 'Bob' },
};

/** Starts proxy + IdP; `adminToken` is passed to the adapter only when `withAdmin`. */
export async function startIdpBehindProxy(
  type: string,
  options: { withAdmin: boolean; logger?: Logger },
): Promise<ConformanceEnv> {
  const proxy = await startFaultProxy();
  const idp = await startEmbeddedIdp({ issuer: proxy.url, logger: options.logger ?? pino({ level: process.env['IDP_TEST_LOG'] ?? 'silent' }), accounts: TEST_ACCOUNTS });
  proxy.setTarget(idp.url);
  return {
    idp,
    proxy,
    makeAdapter: (overrides: Partial<IdpAdapterConfig> = {}) =>
      createAdapter(type, {
        issuer: idp.issuer,
        initialAccessToken: idp.initialAccessToken,
        ...(options.withAdmin ? { adminToken: idp.adminToken } : {}),
        timeoutMs: 5000,
        ...overrides,
      }),
    teardown: async () => {
      await proxy.close();
      await idp.stop();
    },
  };
}
