/**
 * A GrantRevocation test bed on real parts: the shared kube-apiserver, a real embedded IdP
 * (oidc-provider) behind a fault proxy, and the GrantRevocation controller running in-process in
 * a real Manager. The test plays the AgentClient controller's part (register at the IdP, write
 * the AgentClient's status.clientId), so these tests depend on nothing but this controller.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from 'pino';
import type { IdpCapabilities, Registration, RegistrationHandle } from '../../../src/idp/adapter.ts';
import { createEmbeddedAdapter } from '../../../src/idp/embedded/adapter.ts';
import { startEmbeddedIdp } from '../../../src/idp/embedded/server.ts';
import type { EmbeddedIdp } from '../../../src/idp/embedded/server.ts';
import { loadKubeConfig } from '../../../src/envtest/index.ts';
import { HttpKubeClient } from '../../../src/runtime/kube/http.ts';
import { CoreEvents, Namespaces, Secrets } from '../../../src/runtime/kube/types.ts';
import type { KubeObject } from '../../../src/runtime/kube/types.ts';
import { Manager } from '../../../src/runtime/manager.ts';
import { startFaultProxy } from '../../../src/testing/faultproxy.ts';
import type { FaultProxy } from '../../../src/testing/faultproxy.ts';
import { createGrantRevocationController } from '../../../src/controllers/grantrevocation/controller.ts';
import { AgentClients, GrantRevocations } from '../../../src/controllers/grantrevocation/types.ts';
import type { GrantRevocation, GrantRevocationSpec } from '../../../src/controllers/grantrevocation/types.ts';
import * as oidc from 'openid-client';
import { authorizeWithConsent, introspect, refresh } from '../idp/flows.ts';

export const REDIRECT_URI = 'http://127.0.0.1:9/callback';

/** Every JSON line the operator logged (audit records included). */
export class LogCapture {
  readonly lines: Record<string, unknown>[] = [];
  readonly raw: string[] = [];
  readonly logger: Logger;
  constructor() {
    const stream = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        const text = chunk.toString('utf8');
        this.raw.push(text);
        this.lines.push(JSON.parse(text) as Record<string, unknown>);
        done();
      },
    });
    this.logger = pino({ level: 'debug' }, stream);
  }
  audits(): Record<string, unknown>[] {
    return this.lines.filter((l) => l['audit'] === true);
  }
}

export interface WebAgent {
  name: string;
  clientId: string;
  secret: string;
  handle: RegistrationHandle;
}

export interface Env {
  namespace: string;
  idp: EmbeddedIdp;
  proxy: FaultProxy;
  client: HttpKubeClient;
  manager: Manager;
  logs: LogCapture;
  /** Every credential value the test created: none may show up in logs, Events or status. */
  secrets: Set<string>;
  /** Capability overrides (to exercise an IdP lacking one). */
  capabilityOverrides: Partial<IdpCapabilities>;
  registerAgent(name: string, labels?: Record<string, string>, scope?: string): Promise<WebAgent>;
  /** An AgentClient whose (simulated) registration record holds a register intent with no IdP answer yet. */
  createRegisteringAgent(name: string, labels?: Record<string, string>): Promise<void>;
  userToken(agent: WebAgent, user: 'alice' | 'bob', scope: string): Promise<string>;
  /** Refresh works (true) or is refused with invalid_grant / invalid_client (false). */
  canRefresh(agent: WebAgent, refreshToken: string): Promise<boolean>;
  active(token: string): Promise<boolean>;
  apply(name: string, spec: Partial<GrantRevocationSpec>, annotations?: Record<string, string>): Promise<void>;
  get(name: string): Promise<GrantRevocation | null>;
  waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs?: number): Promise<T>;
  events(): Promise<{ reason: string; message: string; involvedObject: { kind: string; name: string } }[]>;
  stop(): Promise<void>;
}

const PASSWORDS = { alice: 'wonderland', bob: 'builder' } as const;

export async function startEnv(kubeconfigPath: string, prefix: string): Promise<Env> {
  const namespace = `${prefix}-${randomBytes(3).toString('hex')}`;
  const logs = new LogCapture();
  const proxy = await startFaultProxy();
  const idp = await startEmbeddedIdp({
    issuer: proxy.url,
    logger: pino({ level: 'silent' }),
    accounts: { alice: { password: PASSWORDS.alice, name: 'Alice' }, bob: { password: PASSWORDS.bob, name: 'Bob' } },
  });
  proxy.setTarget(idp.url);
  const secrets = new Set<string>([idp.adminToken, idp.initialAccessToken]);
  const adapter = createEmbeddedAdapter({ issuer: idp.issuer, initialAccessToken: idp.initialAccessToken, adminToken: idp.adminToken, timeoutMs: 2000 });
  const discovered = await adapter.discover();
  const capabilityOverrides: Partial<IdpCapabilities> = {};

  const client = new HttpKubeClient(loadKubeConfig(kubeconfigPath));
  await client.create(Namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  const manager = new Manager({ client, log: logs.logger });
  const handles = new Map<string, RegistrationHandle>();
  /** AgentClients whose (simulated) registration record holds an open register intent. */
  const registering = new Set<string>();
  manager.add(createGrantRevocationController({
    client, informers: manager.informers, recorder: manager.recorder, clock: manager.clock, metrics: manager.metrics, log: logs.logger, namespace,
    providers: (name) => (name === 'dev' ? { provider: { name, adapter, capabilities: { ...discovered.capabilities, ...capabilityOverrides } } } : { waiting: 'NotFound: no such IdentityProvider' }),
    loadHandle: async (ac) => handles.get(ac.metadata.name) ?? null,
    loadRecordedClient: async (ac) => {
      const handle = handles.get(ac.metadata.name);
      return handle ? { clientId: handle.clientId, registering: false } : { registering: registering.has(ac.metadata.name) };
    },
    wakeAgentClient: () => undefined,
  }));
  await manager.start();

  let resourceServer: Registration | undefined;
  const env: Env = {
    namespace, idp, proxy, client, manager, logs, secrets, capabilityOverrides,
    async registerAgent(name, labels = {}, scope = 'repo:read repo:write') {
      const registration = await adapter.register({
        client_name: name, grant_types: ['authorization_code', 'refresh_token'], redirect_uris: [REDIRECT_URI], response_types: ['code'],
        scope, token_endpoint_auth_method: 'client_secret_basic', software_id: `test/${namespace}/${name}`,
      });
      secrets.add(registration.clientSecret!);
      secrets.add(registration.handle.registrationAccessToken);
      handles.set(name, registration.handle);
      const created = await client.create<KubeObject>(AgentClients, {
        apiVersion: 'agentidentity.dev/v1alpha1', kind: 'AgentClient',
        metadata: { name, namespace, labels },
        spec: {
          identityProviderRef: { name: 'dev' }, clientName: name, grantTypes: ['authorization_code', 'refresh_token'],
          redirectUris: [REDIRECT_URI], scopes: scope.split(' '), tokenEndpointAuthMethod: 'client_secret_basic', agentMetadata: { owner: 'team@example.com' },
        },
      } as KubeObject);
      await client.patch(AgentClients, name, namespace, 'merge', { status: { clientId: registration.handle.clientId } }, { subresource: 'status' });
      // The agent's Secret, owned by the AgentClient as the AgentClient controller would make it.
      await client.create(Secrets, {
        apiVersion: 'v1', kind: 'Secret', metadata: { name: `${name}-oauth`, namespace, ownerReferences: [{ apiVersion: 'agentidentity.dev/v1alpha1', kind: 'AgentClient', name, uid: created.metadata!.uid! }] },
        stringData: { client_id: registration.handle.clientId, client_secret: registration.clientSecret! },
      });
      return { name, clientId: registration.handle.clientId, secret: registration.clientSecret!, handle: registration.handle };
    },
    async createRegisteringAgent(name, labels = {}) {
      registering.add(name);
      await client.create<KubeObject>(AgentClients, {
        apiVersion: 'agentidentity.dev/v1alpha1', kind: 'AgentClient',
        metadata: { name, namespace, labels },
        spec: {
          identityProviderRef: { name: 'dev' }, clientName: name, grantTypes: ['authorization_code', 'refresh_token'],
          redirectUris: [REDIRECT_URI], scopes: ['repo:read'], tokenEndpointAuthMethod: 'client_secret_basic', agentMetadata: { owner: 'team@example.com' },
        },
      } as KubeObject);
    },
    async userToken(agent, user, scope) {
      const result = await authorizeWithConsent({
        issuer: idp.issuer, clientId: agent.clientId, auth: { secret: agent.secret }, redirectUri: REDIRECT_URI, scope, login: user, password: PASSWORDS[user],
      });
      const token = result.tokens?.refresh_token;
      if (!token) throw new Error(`no refresh token for ${user}: ${result.error ?? 'none'}`);
      secrets.add(token);
      if (result.tokens?.access_token) secrets.add(result.tokens.access_token);
      return token;
    },
    async canRefresh(agent, refreshToken) {
      try {
        const t = await refresh(idp.issuer, agent.clientId, { secret: agent.secret }, refreshToken);
        secrets.add(t.access_token);
        if (t.refresh_token) secrets.add(t.refresh_token);
        return true;
      } catch (error) {
        if (error instanceof oidc.ResponseBodyError && (error.error === 'invalid_grant' || error.error === 'invalid_client')) return false;
        // A disabled client fails authentication: 401 with a WWW-Authenticate challenge.
        if (error instanceof oidc.WWWAuthenticateChallengeError && error.cause.some((c) => c.parameters.error === 'invalid_client')) return false;
        throw error;
      }
    },
    async active(token) {
      resourceServer ??= await adapter.register({
        client_name: 'resource-server', grant_types: ['client_credentials'], redirect_uris: [], response_types: [], scope: 'rs', token_endpoint_auth_method: 'client_secret_basic', software_id: `test/${namespace}/rs`,
      });
      secrets.add(resourceServer.clientSecret!);
      return (await introspect(idp.issuer, resourceServer.handle.clientId, resourceServer.clientSecret!, token)).active;
    },
    async apply(name, spec, annotations = {}) {
      await client.create(GrantRevocations, {
        apiVersion: 'agentidentity.dev/v1alpha1', kind: 'GrantRevocation', metadata: { name, namespace, annotations },
        spec: { target: { agentClientName: 'coding-agent' }, actions: ['RevokeGrants'], reason: 'integration test', ...spec },
      } as KubeObject);
    },
    async get(name) {
      return (await client.get(GrantRevocations, name, namespace)) as unknown as GrantRevocation | null;
    },
    async waitFor(what, probe, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = await probe();
        if (value !== undefined && value !== null && value !== false) return value;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async events() {
      const list = await client.list<KubeObject>(CoreEvents, { namespace });
      return list.items as unknown as { reason: string; message: string; involvedObject: { kind: string; name: string } }[];
    },
    async stop() {
      await manager.stop(5000);
      await client.delete(Namespaces, namespace).catch(() => undefined);
      await idp.stop();
      await proxy.close();
    },
  };
  return env;
}

/** Fails when any credential value appears in the text. */
export function leakedSecrets(secrets: Set<string>, text: string): string[] {
  return [...secrets].filter((s) => s.length >= 8 && text.includes(s)).map((s) => `${s.slice(0, 4)}…`);
}
