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
 * An object's count as kept, without an object of its own in the common
 * cases (48 bytes less an object; a queued task's result is held once, by
 * the thread that submitted it): a number for that many references of no
 * holder (the driver's), a holder's name when that holder gave the one
 * reference, else a Count.
 */
type Kept = number | string | Count;

/**
 * Reference counts with per-holder accounts, so a dead worker's holds can be
 * dropped. One map lookup per change: a worker's death, which is rare, scans
 * every count instead of keeping a second map per holder.
 */
export class RefCounts {
  readonly #counts = new Map<ObjectId, Kept>();
  readonly #onZero: (id: ObjectId) => void;

  /** @param onZero called when nothing holds `id` any more */
  constructor(onZero: (id: ObjectId) => void) {
    this.#onZero = onZero;
  }

  /** Adds one reference to `id`, on behalf of `holder` if given. */
  inc(id: ObjectId, holder?: string): void {
    const kept = this.#counts.get(id);
    if (holder === undefined && (kept === undefined || typeof kept === "number")) {
      this.#counts.set(id, (kept ?? 0) + 1);
      return;
    }
    if (kept === undefined) {
      this.#counts.set(id, holder!);
      return;
    }
    const c = this.#count(id, kept);
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
    if (c === undefined) return;
    if (typeof c === "number") {
      if (holder !== undefined) return;
      if (c > 1) return void this.#counts.set(id, c - 1);
    } else if (typeof c === "string") {
      if (holder !== undefined && holder !== c) return;
    } else {
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
    }
    this.#counts.delete(id);
    this.#onZero(id);
  }

  /** Drops everything `holder` held (a worker died). */
  dropHolder(holder: string): void {
    const drops: [ObjectId, number][] = [];
    for (const [id, c] of this.#counts) {
      const n = typeof c === "number"
        ? 0
        : typeof c === "string"
        ? (c === holder ? 1 : 0)
        : (c.holder === holder ? c.held : 0) + (c.others?.get(holder) ?? 0);
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
      if (typeof c === "number") continue;
      if (typeof c === "string") {
        if (c.startsWith(prefix)) add(c, id);
        continue;
      }
      if (c.holder?.startsWith(prefix) && c.held > 0) add(c.holder, id);
      for (const [holder, n] of c.others ?? []) {
        if (n > 0 && holder.startsWith(prefix)) add(holder, id);
      }
    }
    return out;
  }

  /** `id`'s count as a Count, made from a short form (see Kept) or anew (not counted yet). */
  #count(id: ObjectId, kept: Kept | undefined): Count {
    if (typeof kept === "object") return kept;
    const c: Count = kept === undefined
      ? { n: 0, holder: undefined, held: 0 }
      : typeof kept === "number"
      ? { n: kept, holder: undefined, held: 0 }
      : { n: 1, holder: kept, held: 1 };
    this.#counts.set(id, c);
    return c;
  }

  /** References to `id` (0 when none). */
  count(id: ObjectId): number {
    const c = this.#counts.get(id);
    return c === undefined ? 0 : typeof c === "number" ? c : typeof c === "string" ? 1 : c.n;
  }

  /** Objects with at least one reference. */
  get size(): number {
    return this.#counts.size;
  }
}
