/**
 * Which held suspensions this process has asserted at the IdP, per GrantRevocation and per
 * AgentClient (uid, client_id, generation, observed generation). A suspension is asserted again
 * only when that changes (a GitOps re-apply that edits the spec, a re-registration under a new
 * client_id) or after a restart, so a resync of an unchanged suspension makes no IdP call.
 */
import type { AgentClient } from '../agentclient/types.ts';

/**
 * Includes the generation the AgentClient controller last processed: a spec change can lead it
 * to update the registration (RFC 7592 PUT), and asserting again after that update (not only
 * when the spec changes) closes the race with an IdP whose update would re-enable the client.
 */
function fingerprint(agentClient: AgentClient): string {
  const { metadata, status } = agentClient;
  return `${metadata.uid}|${status?.clientId ?? ''}|${metadata.generation ?? 0}|${status?.observedGeneration ?? 0}`;
}

export class SuspensionMemory {
  readonly #seen = new Map<string, Map<string, string>>();

  asserted(grevKey: string, agentClient: AgentClient): boolean {
    return this.#seen.get(grevKey)?.get(agentClient.metadata.name) === fingerprint(agentClient);
  }

  remember(grevKey: string, agentClient: AgentClient): void {
    let targets = this.#seen.get(grevKey);
    if (!targets) this.#seen.set(grevKey, (targets = new Map<string, string>()));
    targets.set(agentClient.metadata.name, fingerprint(agentClient));
  }

  forget(grevKey: string): void {
    this.#seen.delete(grevKey);
  }
}

/**
 * The resourceVersion of this process's last write to each GrantRevocation (by key and uid). When the
 * cache holds exactly that version, it is not behind our own writes and the direct re-read before
 * acting can be skipped: under a large backlog that read can cost more than the revocation.
 */
export class WrittenVersions {
  readonly #versions = new Map<string, { uid: string; resourceVersion: string }>();

  /** Whether the cached object (by `namespace/name`) is known to include every write of ours. */
  fresh(key: string, uid: string | undefined, resourceVersion: string | undefined, hasStatus: boolean): boolean {
    const last = this.#versions.get(key);
    if (last === undefined || last.uid !== uid) return !hasStatus;
    return last.resourceVersion === resourceVersion;
  }

  wrote(key: string, uid: string | undefined, resourceVersion: string | undefined): void {
    if (uid !== undefined && resourceVersion !== undefined) this.#versions.set(key, { uid, resourceVersion });
  }

  forget(key: string): void {
    this.#versions.delete(key);
  }
}
