/**
 * Bounded memories of recent keys: adding one past the capacity forgets the
 * oldest. A `Set` or `Map` used that way (deleting its first key, found with
 * `keys().next()`) costs, in V8, a walk over every entry deleted since the
 * table was last rebuilt, on each eviction: about 16 µs an add at 65,536
 * keys (3.8 s for 300,000 adds, against 0.16 s with the ring here), which
 * was 12% of a cluster driver's time (runtime/cluster/owners.ts, `freed`).
 *
 * @module
 */

/**
 * A map that keeps the last `capacity` keys set (a key set again keeps its
 * place and takes the new value, as in a `Map`; a deleted key's place stays
 * empty until the ring comes round).
 *
 * @example
 * ```ts
 * import { RecentMap } from "./recent.ts";
 * const gone = new RecentMap<string, string>(2);
 * gone.set("a", "killed");
 * gone.set("b", "exited");
 * gone.set("c", "killed"); // forgets "a"
 * gone.has("a"); // false
 * gone.get("c"); // "killed"
 * ```
 */
export class RecentMap<K, V> {
  readonly #slots = new Map<K, number>();
  readonly #keys: (K | undefined)[] = [];
  readonly #values: (V | undefined)[] = [];
  #next = 0;

  /**
   * @param capacity most keys kept (a positive integer)
   * @throws RangeError when `capacity` is not a positive integer
   */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`Invalid capacity: expected a positive integer, got ${capacity}`);
    }
  }

  /** Keys kept now. */
  get size(): number {
    return this.#slots.size;
  }

  /** True when `key` is kept. */
  has(key: K): boolean {
    return this.#slots.has(key);
  }

  /** The value of `key`, or undefined when it is not kept. */
  get(key: K): V | undefined {
    const slot = this.#slots.get(key);
    return slot === undefined ? undefined : this.#values[slot];
  }

  /** Keeps `key` with `value`, forgetting the oldest key when full. */
  set(key: K, value: V): this {
    const at = this.#slots.get(key);
    if (at !== undefined) {
      this.#values[at] = value;
      return this;
    }
    const slot = this.#next;
    const old = this.#keys[slot];
    if (old !== undefined && this.#slots.get(old) === slot) this.#slots.delete(old);
    this.#keys[slot] = key;
    this.#values[slot] = value;
    this.#slots.set(key, slot);
    this.#next = slot + 1 === this.capacity ? 0 : slot + 1;
    return this;
  }

  /** Forgets `key`; true when it was kept. */
  delete(key: K): boolean {
    const slot = this.#slots.get(key);
    if (slot === undefined) return false;
    this.#slots.delete(key);
    this.#keys[slot] = undefined;
    this.#values[slot] = undefined;
    return true;
  }
}

/**
 * A set that keeps the last `capacity` keys added (see `RecentMap`).
 *
 * @example
 * ```ts
 * import { RecentSet } from "./recent.ts";
 * const freed = new RecentSet<string>(65_536);
 * freed.add("o1");
 * freed.has("o1"); // true
 * ```
 */
export class RecentSet<K> {
  readonly #map: RecentMap<K, true>;

  /**
   * @param capacity most keys kept (a positive integer)
   * @throws RangeError when `capacity` is not a positive integer
   */
  constructor(capacity: number) {
    this.#map = new RecentMap(capacity);
  }

  /** Keys kept now. */
  get size(): number {
    return this.#map.size;
  }

  /** True when `key` is kept. */
  has(key: K): boolean {
    return this.#map.has(key);
  }

  /** Keeps `key`, forgetting the oldest key when full. */
  add(key: K): this {
    this.#map.set(key, true);
    return this;
  }

  /** Forgets `key`; true when it was kept. */
  delete(key: K): boolean {
    return this.#map.delete(key);
  }
}
