/**
 * The node's reference counts. An object's count is the sum of what holds it:
 * threads (the driver, each worker: held while the thread has any ObjectRef
 * or zero-copy view of it, plus frames in flight to it), queued and running
 * tasks (their arguments), and stored objects that contain a ref to it.
 * When the count falls to zero the object is freed, at once if it exists,
 * or as soon as it is sealed if its task has not finished yet.
 *
 * @module
 */
import type { ObjectId } from "../common/mod.ts";

/** Reference counts with per-holder accounts, so a dead worker's holds can be dropped. */
export class RefCounts {
  readonly #counts = new Map<ObjectId, number>();
  readonly #holders = new Map<string, Map<ObjectId, number>>();
  readonly #onZero: (id: ObjectId) => void;

  /** @param onZero called when nothing holds `id` any more */
  constructor(onZero: (id: ObjectId) => void) {
    this.#onZero = onZero;
  }

  /** Adds one reference to `id`, on behalf of `holder` if given. */
  inc(id: ObjectId, holder?: string): void {
    this.#counts.set(id, (this.#counts.get(id) ?? 0) + 1);
    if (holder === undefined) return;
    let account = this.#holders.get(holder);
    if (!account) this.#holders.set(holder, account = new Map());
    account.set(id, (account.get(id) ?? 0) + 1);
  }

  /** Drops one reference to `id`, on behalf of `holder` if given; ignores what was never held. */
  dec(id: ObjectId, holder?: string): void {
    if (holder !== undefined) {
      const account = this.#holders.get(holder);
      const n = account?.get(id);
      if (!account || n === undefined) return;
      if (n > 1) account.set(id, n - 1);
      else account.delete(id);
    }
    const n = this.#counts.get(id);
    if (n === undefined) return;
    if (n > 1) {
      this.#counts.set(id, n - 1);
      return;
    }
    this.#counts.delete(id);
    this.#onZero(id);
  }

  /** Drops everything `holder` held (a worker died). */
  dropHolder(holder: string): void {
    const account = this.#holders.get(holder);
    if (!account) return;
    this.#holders.delete(holder);
    for (const [id, n] of account) {
      for (let i = 0; i < n; i++) this.dec(id);
    }
  }

  /** References to `id` (0 when none). */
  count(id: ObjectId): number {
    return this.#counts.get(id) ?? 0;
  }

  /** Objects with at least one reference. */
  get size(): number {
    return this.#counts.size;
  }
}
