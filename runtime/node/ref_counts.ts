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

/**
 * One object's count, and how much of it each holder gave. Nearly always one
 * holder (the thread that made the ref), kept inline; more go to a map.
 */
interface Count {
  n: number;
  holder?: string;
  held: number;
  others?: Map<string, number>;
}

/**
 * Reference counts with per-holder accounts, so a dead worker's holds can be
 * dropped. One map lookup per change: a worker's death, which is rare, scans
 * every count instead of keeping a second map per holder.
 */
export class RefCounts {
  readonly #counts = new Map<ObjectId, Count>();
  readonly #onZero: (id: ObjectId) => void;

  /** @param onZero called when nothing holds `id` any more */
  constructor(onZero: (id: ObjectId) => void) {
    this.#onZero = onZero;
  }

  /** Adds one reference to `id`, on behalf of `holder` if given. */
  inc(id: ObjectId, holder?: string): void {
    let c = this.#counts.get(id);
    if (!c) {
      this.#counts.set(id, c = { n: 0, holder, held: 0 });
    }
    c.n++;
    if (holder === undefined) return;
    if (c.holder === holder || c.held === 0) {
      c.holder = holder;
      c.held++;
    } else {
      c.others ??= new Map();
      c.others.set(holder, (c.others.get(holder) ?? 0) + 1);
    }
  }

  /** Drops one reference to `id`, on behalf of `holder` if given; ignores what was never held. */
  dec(id: ObjectId, holder?: string): void {
    const c = this.#counts.get(id);
    if (!c) return;
    if (holder !== undefined) {
      if (c.holder === holder && c.held > 0) {
        c.held--;
      } else {
        const n = c.others?.get(holder);
        if (n === undefined) return;
        if (n > 1) c.others!.set(holder, n - 1);
        else c.others!.delete(holder);
      }
    }
    if (--c.n > 0) return;
    this.#counts.delete(id);
    this.#onZero(id);
  }

  /** Drops everything `holder` held (a worker died). */
  dropHolder(holder: string): void {
    const drops: [ObjectId, number][] = [];
    for (const [id, c] of this.#counts) {
      const n = (c.holder === holder ? c.held : 0) + (c.others?.get(holder) ?? 0);
      if (n > 0) drops.push([id, n]);
    }
    for (const [id, n] of drops) {
      for (let i = 0; i < n; i++) this.dec(id, holder);
    }
  }

  /** The objects each holder whose name starts with `prefix` holds (a scan: for rare uses). */
  heldBy(prefix: string): Map<string, ObjectId[]> {
    const out = new Map<string, ObjectId[]>();
    const add = (holder: string, id: ObjectId) => {
      const list = out.get(holder);
      if (list) list.push(id);
      else out.set(holder, [id]);
    };
    for (const [id, c] of this.#counts) {
      if (c.holder?.startsWith(prefix) && c.held > 0) add(c.holder, id);
      for (const [holder, n] of c.others ?? []) {
        if (n > 0 && holder.startsWith(prefix)) add(holder, id);
      }
    }
    return out;
  }

  /** References to `id` (0 when none). */
  count(id: ObjectId): number {
    return this.#counts.get(id)?.n ?? 0;
  }

  /** Objects with at least one reference. */
  get size(): number {
    return this.#counts.size;
  }
}
