/**
 * The informer's cache: objects by key (`namespace/name` or `name`), with a namespace index and
 * named indexers (an indexer maps an object to the index values it is filed under, e.g. an
 * AgentClient to its IdentityProvider name).
 */
import { objectKey } from '../kube/keys.ts';
import type { KubeObject } from '../kube/types.ts';

export type IndexFunc<T> = (obj: T) => string[];

export class Store<T extends KubeObject> {
  readonly #items = new Map<string, T>();
  readonly #indexers = new Map<string, IndexFunc<T>>();
  readonly #indices = new Map<string, Map<string, Set<string>>>();

  constructor(indexers: Record<string, IndexFunc<T>> = {}) {
    this.addIndexer('namespace', (obj) => [obj.metadata?.namespace ?? '']);
    for (const [name, fn] of Object.entries(indexers)) this.addIndexer(name, fn);
  }

  /** Add an indexer (existing items are filed at once). Re-adding a name is an error. */
  addIndexer(name: string, fn: IndexFunc<T>): void {
    if (this.#indexers.has(name)) throw new Error(`indexer ${name} already exists`);
    this.#indexers.set(name, fn);
    const index = new Map<string, Set<string>>();
    this.#indices.set(name, index);
    for (const [key, obj] of this.#items) file(index, fn(obj), key);
  }

  hasIndexer(name: string): boolean {
    return this.#indexers.has(name);
  }

  get size(): number {
    return this.#items.size;
  }

  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  keys(): IterableIterator<string> {
    return this.#items.keys();
  }

  values(): IterableIterator<T> {
    return this.#items.values();
  }

  /** Objects filed under `value` in index `name`. */
  byIndex(name: string, value: string): T[] {
    const keys = this.#indices.get(name)?.get(value);
    if (!keys) {
      if (!this.#indices.has(name)) throw new Error(`no indexer ${name}`);
      return [];
    }
    const out: T[] = [];
    for (const key of keys) {
      const obj = this.#items.get(key);
      if (obj) out.push(obj);
    }
    return out;
  }

  /** Insert or replace; returns the previous object. */
  upsert(obj: T): T | undefined {
    const key = objectKey(obj);
    const old = this.#items.get(key);
    if (old) this.#unfile(key, old);
    this.#items.set(key, obj);
    for (const [name, fn] of this.#indexers) file(this.#indices.get(name)!, fn(obj), key);
    return old;
  }

  remove(key: string): T | undefined {
    const old = this.#items.get(key);
    if (!old) return undefined;
    this.#unfile(key, old);
    this.#items.delete(key);
    return old;
  }

  #unfile(key: string, obj: T): void {
    for (const [name, fn] of this.#indexers) {
      const index = this.#indices.get(name)!;
      for (const value of fn(obj)) {
        const set = index.get(value);
        set?.delete(key);
        if (set?.size === 0) index.delete(value);
      }
    }
  }
}

function file(index: Map<string, Set<string>>, values: string[], key: string): void {
  for (const value of values) {
    let set = index.get(value);
    if (!set) index.set(value, (set = new Set()));
    set.add(key);
  }
}
