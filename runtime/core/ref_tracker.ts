/**
 * Counts, per thread, the live ObjectRefs and zero-copy views of each
 * object, and tells the node when a thread starts or stops holding one.
 * Objects are freed when nothing holds them anywhere: not a thread, not a
 * queued task's arguments, not another stored object that contains a ref.
 *
 * A thread reports transitions only (0 -> 1 "hold", 1 -> 0 "release"), so a
 * loop that makes a million refs to one object sends one message. Releases
 * come from a FinalizationRegistry, so they follow garbage collection.
 *
 * @module
 */
import type { ObjectId } from "../common/mod.ts";
import type { RefOp } from "../protocol/mod.ts";

/** Op kinds by name (see RefOp). */
export const REF_OP = { hold: 0, release: 1, unpin: 2 } as const;

/** Receives a thread's ref ops, one at a time, in order. */
export type RefSink = (kind: RefOp[0], id: ObjectId) => void;

/** Per-thread counts of what holds each object. */
class RefTracker {
  readonly #counts = new Map<ObjectId, number>();
  readonly #registry = new FinalizationRegistry<ObjectId>((id) => this.#release(id));
  #sink: RefSink | undefined;

  /** Where ops go from now on (undefined: nowhere, e.g. after shutdown). */
  setSink(sink: RefSink | undefined): void {
    this.#sink = sink;
    if (!sink) this.#counts.clear();
  }

  /** `holder` (an ObjectRef or a zero-copy view) keeps object `id` alive until collected. */
  track(holder: object, id: ObjectId): void {
    if (!this.#sink) return;
    this.#registry.register(holder, id);
    const n = this.#counts.get(id) ?? 0;
    this.#counts.set(id, n + 1);
    if (n === 0) this.#sink(REF_OP.hold, id);
  }

  /** Gives back the pin the node put on fetched objects, once they are decoded. */
  unpin(ids: readonly ObjectId[]): void {
    if (!this.#sink) return;
    for (const id of ids) this.#sink(REF_OP.unpin, id);
  }

  /** How many holders of `id` this thread has (for tests). */
  count(id: ObjectId): number {
    return this.#counts.get(id) ?? 0;
  }

  #release(id: ObjectId): void {
    const n = this.#counts.get(id);
    if (n === undefined || !this.#sink) return;
    if (n > 1) {
      this.#counts.set(id, n - 1);
      return;
    }
    this.#counts.delete(id);
    this.#sink(REF_OP.release, id);
  }
}

/** This thread's tracker. */
export const refTracker = new RefTracker();
