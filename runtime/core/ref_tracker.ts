/**
 * Counts, per thread, the live ObjectRefs and zero-copy views of each
 * object, and tells the node when a thread starts or stops holding one.
 * Objects are freed when nothing holds them anywhere: not a thread, not a
 * queued task's arguments, not another stored object that contains a ref.
 *
 * A thread reports transitions only (0 -> 1 "hold", 1 -> 0 "release"), so a
 * loop that makes a million refs to one object sends one message. Releases
 * come from a FinalizationRegistry (they follow garbage collection), from
 * `untrack` (a disposed ref: at once), or from `sweep` (watched refs that a
 * collection found dead: at once, without waiting for a turn of the event
 * loop for their finalizers).
 *
 * @module
 */
import type { ObjectId } from "../common/mod.ts";
import type { RefOp } from "../protocol/mod.ts";

/** Op kinds by name (see RefOp). */
export const REF_OP = { hold: 0, release: 1, unpin: 2 } as const;

/** Receives a thread's ref ops, one at a time, in order. */
export type RefSink = (kind: RefOp[0], id: ObjectId) => void;

/**
 * What a watched holder keeps, and only it: `weak` sees it go. A WeakRef
 * keeps its target alive until the turn of the event loop that made it
 * ends, so tokens are made ahead, in an earlier turn (see `#refill`).
 */
export interface Token {
  readonly weak: WeakRef<Token>;
  /** What it stands for, once handed to a holder. */
  watched?: Watched;
}

/** A watched holder of object `id`; `done` once released (swept, disposed or finalized). */
export interface Watched {
  readonly id: ObjectId;
  readonly weak: WeakRef<Token>;
  done: boolean;
}

/** Spare tokens made ahead at least (at the start, and after each turn that used them). */
const MIN_SPARE = 1024;
/** Spare tokens made ahead at most. */
const MAX_SPARE = 1 << 16;

/** Per-thread counts of what holds each object. */
class RefTracker {
  readonly #counts = new Map<ObjectId, number>();
  /**
   * Plain holders released by `untrack` whose finalizers have not run yet,
   * per object: a finalizer of that object skips its release while any are
   * left. (Holders are registered without an unregister token, which would
   * cost a table entry each: 40 bytes a ref.)
   */
  readonly #disposed = new Map<ObjectId, number>();
  /** Counts sinks set; a registry's finalizers act only while its generation is current. */
  #generation = 0;
  #registry = this.#newRegistry();
  /**
   * Holds of fresh objects (see `trackFresh`) not released yet: they are not
   * in `#counts`, so a release of an object that is not there is one of them.
   */
  #freshHeld = 0;
  #sink: RefSink | undefined;
  /** Tokens made in an earlier turn than the current one (see `Token`). */
  #spare: Token[] = [];
  /** Tokens handed out since the last refill. */
  #used = 0;
  #refillSoon = false;
  /** Watched holders, oldest first; released ones are dropped by `sweep` and `#compact`. */
  #watched: Watched[] = [];
  /** Watched holders not released yet. */
  #live = 0;

  /** Makes the first spare tokens when this module loads: a turn before the first puts. */
  constructor() {
    this.#refill();
  }

  /**
   * Where ops go from now on (undefined: nowhere, e.g. after shutdown).
   * Holders tracked before are forgotten: their finalizers do nothing.
   */
  setSink(sink: RefSink | undefined): void {
    this.#sink = sink;
    this.#generation++;
    this.#registry = this.#newRegistry();
    this.#freshHeld = 0;
    this.#counts.clear();
    this.#disposed.clear();
    this.#watched = [];
    this.#live = 0;
  }

  /**
   * `holder` (an ObjectRef or a zero-copy view) keeps object `id` alive until
   * collected. Returns the token to `untrack` it with (undefined: not tracked).
   */
  track(holder: object, id: ObjectId): Token | undefined {
    if (!this.#sink) return undefined;
    this.#registry.register(holder, id);
    this.#hold(id);
    return PLAIN;
  }

  /**
   * As `track`, for the first holder of an object nobody held before (the
   * ref of a task this thread just submitted): its hold goes to the sink at
   * once and takes no entry in this thread's counts (36 bytes a queued
   * task). A second holder of the same object counts as usual; the sink
   * then hears two holds and two releases, which balance.
   */
  trackFresh(holder: object, id: ObjectId): Token | undefined {
    if (!this.#sink) return undefined;
    this.#registry.register(holder, id);
    this.#freshHeld++;
    this.#sink(REF_OP.hold, id);
    return PLAIN;
  }

  /**
   * As `track`, and `sweep` may release `holder` as soon as a collection
   * found it dead; `holder` must keep the returned token (and nothing else
   * may). For refs to objects in the store, whose bytes V8 does not see.
   */
  trackWatched(holder: object, id: ObjectId): Token | undefined {
    if (!this.#sink) return undefined;
    const token = this.#spare.pop() ?? newToken();
    if (++this.#used === 1) this.#refillLater();
    const watched: Watched = { id, weak: token.weak, done: false };
    token.watched = watched;
    this.#registry.register(holder, watched);
    if (this.#watched.length >= 1024 && this.#watched.length >= 2 * this.#live) this.#compact();
    this.#watched.push(watched);
    this.#live++;
    this.#hold(id);
    return token;
  }

  /**
   * A holder of `id` tracked with `token` (what `track` or `trackWatched`
   * returned) lets go of it now (a disposed ref); its finalizer will not
   * release it again. Call it at most once per token.
   */
  untrack(id: ObjectId, token: Token): void {
    if (!this.#sink) return;
    const watched = token.watched;
    if (watched) {
      if (watched.done) return;
      watched.done = true;
      this.#live--;
    } else {
      this.#disposed.set(id, (this.#disposed.get(id) ?? 0) + 1);
    }
    this.#release(id);
  }

  /**
   * Releases at once the watched holders a garbage collection found dead
   * (their finalizers would wait for a later turn). Returns how many.
   */
  sweep(): number {
    if (!this.#sink || this.#live === 0) return 0;
    const kept: Watched[] = [];
    let released = 0;
    for (const w of this.#watched) {
      if (w.done) continue;
      if (w.weak.deref() !== undefined) {
        kept.push(w);
        continue;
      }
      w.done = true;
      this.#live--;
      released++;
      this.#release(w.id);
    }
    this.#watched = kept;
    return released;
  }

  /** Objects this thread holds (0: a collection here would release nothing). */
  get holding(): number {
    return this.#counts.size + this.#freshHeld;
  }

  /** Watched holders not released yet (some may be dead, until the next sweep or finalizer). */
  get watched(): number {
    return this.#live;
  }

  /** Gives back the pin the node put on fetched objects, once they are decoded. */
  unpin(ids: readonly ObjectId[]): void {
    if (!this.#sink) return;
    for (const id of ids) this.#sink(REF_OP.unpin, id);
  }

  /** How many holders of `id` this thread counts (for tests; a fresh lone hold is not counted here). */
  count(id: ObjectId): number {
    return this.#counts.get(id) ?? 0;
  }

  #hold(id: ObjectId): void {
    const n = this.#counts.get(id) ?? 0;
    this.#counts.set(id, n + 1);
    if (n === 0) this.#sink!(REF_OP.hold, id);
  }

  #release(id: ObjectId): void {
    if (!this.#sink) return;
    const n = this.#counts.get(id);
    if (n === undefined) {
      if (this.#freshHeld === 0) return;
      this.#freshHeld--;
      this.#sink(REF_OP.release, id);
      return;
    }
    if (n > 1) {
      this.#counts.set(id, n - 1);
      return;
    }
    this.#counts.delete(id);
    this.#sink(REF_OP.release, id);
  }

  /** A registry whose finalizers act while this generation of sinks lasts. */
  #newRegistry(): FinalizationRegistry<ObjectId | Watched> {
    const generation = this.#generation;
    return new FinalizationRegistry<ObjectId | Watched>((held) => {
      if (generation !== this.#generation) return;
      if (typeof held === "string") {
        const skip = this.#disposed.get(held);
        if (skip === undefined) return this.#release(held);
        if (skip > 1) this.#disposed.set(held, skip - 1);
        else this.#disposed.delete(held);
        return;
      }
      if (held.done) return;
      held.done = true;
      this.#live--;
      this.#release(held.id);
    });
  }

  #compact(): void {
    this.#watched = this.#watched.filter((w) => !w.done);
  }

  /** Makes spare tokens in a later turn (a timer): twice what this turn used, within bounds. */
  #refillLater(): void {
    if (this.#refillSoon) return;
    this.#refillSoon = true;
    Deno.unrefTimer(setTimeout(() => this.#refill(), 0));
  }

  #refill(): void {
    this.#refillSoon = false;
    const want = Math.min(MAX_SPARE, Math.max(MIN_SPARE, 2 * this.#used));
    this.#used = 0;
    while (this.#spare.length < want) this.#spare.push(newToken());
  }
}

function newToken(): Token {
  const token = {} as { weak: WeakRef<Token>; watched?: Watched };
  token.weak = new WeakRef(token);
  return token;
}

/** The token of every plain (not watched) holder: `untrack` needs no more. */
const PLAIN: Token = newToken();

/** This thread's tracker. */
export const refTracker = new RefTracker();
