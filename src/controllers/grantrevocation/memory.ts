/**
 * Which held suspensions this process has asserted at the IdP, per GrantRevocation and per
 * AgentClient (uid, client_id, generation). A suspension is asserted again only when that changes
 * (a GitOps re-apply that edits the spec, a re-registration under a new client_id) or after a
 * restart, so a resync of an unchanged suspension makes no IdP call.
 */
import type { AgentClient } from '../agentclient/types.ts';

function fingerprint(agentClient: AgentClient): string {
  return `${agentClient.metadata.uid}|${agentClient.status?.clientId ?? ''}|${agentClient.metadata.generation ?? 0}`;
}

export class SuspensionMemory {
  readonly #seen = new Map<string, Map<string, string>>();

  asserted(grevKey: string, agentClient: AgentClient): boolean {
    return this.#seen.get(grevKey)?.get(agentClient.metadata.name) === fingerprint(agentClient);
  }

  remember(grevKey: string, agentClient: AgentClient): void {
    let targets = this.#seen.get(grevKey);
    if (!targets) this.#seen.set(grevKey, (targets = new Map()));
    targets.set(agentClient.metadata.name, fingerprint(agentClient));
  }

  forget(grevKey: string): void {
    this.#seen.delete(grevKey);
  }
}
