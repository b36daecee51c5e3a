/**
 * Shared informers: one list+watch per (kind, namespace, selectors), however many controllers
 * use it, so the operator holds each object once and opens each watch once.
 */
import type { Logger } from 'pino';
import type { Clock } from './clock.ts';
import type { InformerSpec } from './controller.ts';
import { Informer } from './informer/informer.ts';
import type { KubeClient } from './kube/client.ts';
import type { KubeObject } from './kube/types.ts';

export class InformerFactory {
  readonly #client: KubeClient;
  readonly #log: Logger;
  readonly #clock: Clock | undefined;
  readonly #informers = new Map<string, Informer>();
  #started = false;

  constructor(client: KubeClient, log: Logger, clock?: Clock) {
    this.#client = client;
    this.#log = log;
    this.#clock = clock;
  }

  /**
   * The informer for `spec`, created on first use (and started at once if the factory runs). The
   * first caller's `transform` wins for a shared informer.
   */
  get<T extends KubeObject>(spec: InformerSpec<T>): Informer<T> {
    const id = informerId(spec);
    let informer = this.#informers.get(id) as Informer<T> | undefined;
    if (!informer) {
      informer = new Informer<T>(this.#client, this.#log, { ...spec, ...(this.#clock ? { clock: this.#clock } : {}) });
      this.#informers.set(id, informer as unknown as Informer);
      if (this.#started) informer.start();
    }
    return informer;
  }

  all(): Informer[] {
    return [...this.#informers.values()];
  }

  start(): void {
    this.#started = true;
    for (const informer of this.#informers.values()) informer.start();
  }

  hasSynced(): boolean {
    return this.all().every((i) => i.hasSynced());
  }

  async waitForSync(): Promise<void> {
    await Promise.all(this.all().map((i) => i.waitForSync()));
  }

  async stop(): Promise<void> {
    this.#started = false;
    await Promise.all(this.all().map((i) => i.stop()));
  }
}

function informerId(spec: Omit<InformerSpec, "transform">): string {
  const t = spec.type;
  return [t.group, t.version, t.plural, spec.namespace ?? '', spec.labelSelector ?? '', spec.fieldSelector ?? ''].join('|');
}
