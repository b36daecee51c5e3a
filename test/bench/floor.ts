/**
 * The floor: a bare script, no operator, making the minimal calls one AgentClient needs, at the
 * operator's concurrency, against the same apiserver proxy and the same IdP. Per agent: read the
 * AgentClient; add a finalizer (when `finalizer` is set: an AgentClient must carry one before
 * anything is registered, or deleting it would leave its IdP client behind, so it is one of the
 * minimal calls); generate its ES256 key; RFC 7591 register (through the same `embedded` adapter
 * and with the same metadata the operator sends); create the registration Secret and the agent
 * Secret (same renderers); merge-patch the status Ready. No write-ahead intent, no Events, no
 * retries, no watches: what is left of the operator's time above this is its own overhead.
 * Without `finalizer` it is the bare floor of earlier reports (bench.ts runs both).
 */
import { generateSigningKey, privateKeyPem, registeredJwks } from '../../src/controllers/agentclient/credentials.ts';
import { desiredMetadata, normalizeScope, softwareId } from '../../src/controllers/agentclient/metadata.ts';
import { renderRecordSecret } from '../../src/controllers/agentclient/registration-store.ts';
import { agentSecretName, renderAgentSecret } from '../../src/controllers/agentclient/secret.ts';
import type { AgentClient } from '../../src/controllers/agentclient/types.ts';
import type { IdpAdapter } from '../../src/idp/adapter.ts';
import { ensureFinalizer } from '../../src/runtime/finalizers.ts';
import type { KubeClient } from '../../src/runtime/kube/client.ts';
import { Secrets } from '../../src/runtime/kube/types.ts';
import { AgentClients, OPERATOR_NAMESPACE } from './stack.ts';

export const FLOOR_CLUSTER = 'bench-floor';

export interface FloorDeps {
  /** Through the counting apiserver proxy, like the operator. */
  client: KubeClient;
  adapter: IdpAdapter;
  issuer: string;
  tokenEndpoint: string;
  /** Add this finalizer first (the operator's first write is its finalizer patch). */
  finalizer?: string;
}

/** The minimal calls for one AgentClient (1 GET, [1 finalizer PATCH,] 1 IdP POST, 2 Secret POSTs, 1 status PATCH). */
export async function floorOne(deps: FloorDeps, namespace: string, name: string): Promise<void> {
  const agent = await deps.client.get<AgentClient & { apiVersion: string }>(AgentClients, name, namespace);
  if (!agent) throw new Error(`floor: ${namespace}/${name} not found`);
  // The same conditional JSON patch the operator sends (runtime/finalizers.ts).
  if (deps.finalizer) await ensureFinalizer(deps.client, AgentClients, agent, deps.finalizer);
  const key = await generateSigningKey('ES256');
  const metadata = desiredMetadata({ agent, clusterName: FLOOR_CLUSTER, ceiling: agent.spec.scopes, jwks: registeredJwks(key) });
  const registration = await deps.adapter.register(metadata);
  const clientId = registration.handle.clientId;
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const scope = normalizeScope(agent.spec.scopes);
  await deps.client.create(
    Secrets,
    renderRecordSecret(
      {
        uid: agent.metadata.uid,
        namespace,
        name,
        softwareId: softwareId({ cluster: FLOOR_CLUSTER, namespace, name, uid: agent.metadata.uid }),
        issuer: deps.issuer,
        tokenEndpoint: deps.tokenEndpoint,
        clientId,
        registrationClientUri: registration.handle.registrationClientUri,
        registrationAccessToken: registration.handle.registrationAccessToken,
        key,
        registeredAt: now,
        registeredScope: scope,
      },
      OPERATOR_NAMESPACE,
    ),
  );
  const secret = renderAgentSecret(agent, {
    clientId,
    issuer: deps.issuer,
    tokenEndpoint: deps.tokenEndpoint,
    scope,
    authMethod: 'private_key_jwt',
    key: { kid: key.kid, jwk: JSON.stringify(key.privateJwk), pem: await privateKeyPem(key) },
  });
  if (secret) await deps.client.create(Secrets, secret);
  const generation = agent.metadata.generation ?? 1;
  const condition = (type: string, reason: string, message: string) => ({
    type, status: 'True', reason, message, lastTransitionTime: now, observedGeneration: generation,
  });
  await deps.client.patch(AgentClients, name, namespace, 'merge', {
    status: {
      observedGeneration: generation,
      clientId,
      identityProvider: deps.issuer,
      registeredAt: now,
      grantedScopes: agent.spec.scopes,
      credentials: { secretName: agentSecretName(agent), keyId: key.kid, rotationSupport: 'Overlap' },
      conditions: [
        condition('Ready', 'Ready', `registered as ${clientId}; credentials in Secret ${agentSecretName(agent)}`),
        condition('Registered', 'Registered', `registered at ${deps.issuer}`),
        condition('CredentialsReady', 'SecretWritten', `Secret ${agentSecretName(agent)} holds the credentials`),
      ],
    },
  }, { subresource: 'status' });
}

/**
 * A queue the apply burst feeds (each name as soon as its POST returns) and `concurrency`
 * workers drain, so the floor overlaps the apply exactly as the operator's watch lets it.
 */
export class FloorRunner {
  readonly #deps: FloorDeps;
  readonly #namespace: string;
  readonly #queue: string[] = [];
  readonly #idle: Array<() => void> = [];
  readonly #workers: Promise<void>[] = [];
  #closed = false;
  failures: string[] = [];

  constructor(deps: FloorDeps, namespace: string, concurrency: number) {
    this.#deps = deps;
    this.#namespace = namespace;
    for (let i = 0; i < concurrency; i++) this.#workers.push(this.#work());
  }

  push(name: string): void {
    this.#queue.push(name);
    this.#idle.shift()?.();
  }

  /** No more names will come; resolves when every worker is done. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const wake of this.#idle.splice(0)) wake();
    await Promise.all(this.#workers);
  }

  async #work(): Promise<void> {
    for (;;) {
      const name = this.#queue.shift();
      if (name === undefined) {
        if (this.#closed) return;
        await new Promise<void>((resolve) => this.#idle.push(resolve));
        continue;
      }
      try {
        await floorOne(this.#deps, this.#namespace, name);
      } catch (error) {
        // Counted, reported, and the run then fails its wait: a floor with errors is no floor.
        if (this.failures.length < 20) this.failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}
