/**
 * Counts, per thread, the live ObjectRefs and zero-copy views of each
 * object, and tells the node when a thread starts or stops holding one.
 * Objects are freed when nothing holds them anywhere: not a thread, not a
 * queued task's arguments, not another stored object that contains a ref.
 *
 * A thread reports transitions only (0 -> 1 "hold", 1 -> 0 "release"), so a
 * loop that makes a million refs to one object sends one message. Releases
 * come from a FinalizationRegistry, so they follow garbage collection, from
 * `untrack` (a disposed ref: at once), or from `sweep` (watched refs found
 * dead by a WeakRef after a forced collection: at once, without a turn).
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
 * A holder whose death `sweep` can see without a turn of the event loop:
 * the holder keeps a token (and only it does), and `weak` sees the token go.
 * `done` once it was released (swept, disposed or finalized), so it is
 * released once only.
 */
interface Watched {
  readonly id: ObjectId;
  readonly weak: WeakRef<Token>;
  done: boolean;
}

/**
 * What a watched holder keeps. A WeakRef keeps its target alive until the
 * run of the event loop that made it ends, so tokens are made ahead, in an
 * earlier run: a ref made and dropped in the same run can be swept in it.
 */
export interface Token {
  readonly weak: WeakRef<Token>;
  /** The run of the event loop that made it (see `RefTracker.#run`). */
  readonly run: number;
  /** What it stands for, once given to a holder. */
  watched?: Watched;
}

/** Tokens made ahead are kept up to this many. */
const MAX_SPARE_TOKENS = 1 << 16;
/** Tokens made ahead when a thread starts. */
const INITIAL_SPARE_TOKENS = 1024;

/** Per-thread counts of what holds each object. */
class RefTracker {
  readonly #counts = new Map<ObjectId, number>();
  readonly #registry = new FinalizationRegistry<ObjectId | Watched>((held) => {
    if (typeof held === "string") return this.#release(held);
    if (held.done) return;
    held.done = true;
    this.#liveWatched--;
    this.#release(held.id);
  });
  /** Tokens made ahead, oldest first, and where the oldest unused one is. */
  #spare: (Token | undefined)[] = [];
  #spareHead = 0;
  /** Counts runs of the event loop (bumped by a timer after each run that made a token). */
  #run = 0;
  #runEnding = false;
  /** Watched holders not released yet. */
  #liveWatched = 0;
  /** Watched holders, oldest first (released ones are dropped by `sweep` and `#compact`). */
  #watched: Watched[] = [];
  /** `#watched` is compacted when it grows past this. */
  #compactAt = 1024;
  #sink: RefSink | undefined;

  /** Makes the first spare tokens: made when this module loads, they serve the first run of puts. */
  constructor() {
    for (let i = 0; i < INITIAL_SPARE_TOKENS; i++) this.#spare.push(this.#newToken());
  }

  /** Where ops go from now on (undefined: nowhere, e.g. after shutdown). */
  setSink(sink: RefSink | undefined): void {
    this.#sink = sink;
    if (!sink) {
      this.#counts.clear();
      this.#watched = [];
      this.#liveWatched = 0;
    }
  }

  /** `holder` (an ObjectRef or a zero-copy view) keeps object `id` alive until collected. */
  track(holder: object, id: ObjectId): void {
    if (!this.#sink) return;
    this.#registry.register(holder, id, holder);
    this.#hold(id);
  }

  /**
   * As `track`, and `sweep` may release `holder` once a collection found it
   * dead. For holders of big objects: the WeakRef costs a little, and keeps
   * `holder` alive until the current run of the event loop ends.
   */
  trackWatched(holder: object, id: ObjectId): Token | undefined {
    if (!this.#sink) return undefined;
    const token = this.#token();
    const watched: Watched = { id, weak: token.weak, done: false };
    token.watched = watched;
    this.#registry.register(holder, watched, holder);
    if (this.#watched.length >= this.#compactAt) this.#compact();
    this.#watched.push(watched);
    this.#liveWatched++;
    this.#hold(id);
    return token;
  }

  /**
   * `holder` lets go of `id` now (a disposed ref). Does nothing when it was
   * not tracked or was released already.
   */
  untrack(holder: object, id: ObjectId, token?: Token): void {
    if (!this.#sink || !this.#registry.unregister(holder)) return;
    const watched = token?.watched;
    if (watched) {
      if (watched.done) return;
      watched.done = true;
      this.#liveWatched--;
    }
    this.#release(id);
  }

  /**
   * Releases the watched holders a garbage collection has found dead, at
   * once (their finalizers would wait for a later turn). Returns how many.
   */
  sweep(): number {
    if (!this.#sink) return 0;
    const kept: Watched[] = [];
    let released = 0;
    for (const w of this.#watched) {
      if (w.done) continue;
      if (w.weak.deref() !== undefined) {
        kept.push(w);
        continue;
      }
      w.done = true;
      this.#liveWatched--;
      released++;
      this.#release(w.id);
    }
    this.#watched = kept;
    this.#compactAt = Math.max(1024, 2 * kept.length);
    return released;
  }

  /** Drops the released entries (finalized or disposed) so the list stays as long as what lives. */
  #compact(): void {
    this.#watched = this.#watched.filter((w) => !w.done);
    this.#compactAt = Math.max(1024, 2 * this.#watched.length);
  }

  /** Objects this thread holds (0: a collection here would release nothing). */
  get holding(): number {
    return this.#counts.size;
  }

  /** Watched holders not known to be released (some may be, until the next sweep). */
  get watchedCount(): number {
    return this.#watched.length;
  }

  /**
   * True when this thread holds objects through holders a sweep cannot
   * see (views, refs it did not make by `put`): only their finalizers,
   * after a collection, release them.
   */
  get holdsUnwatched(): boolean {
    return this.#counts.size > this.#liveWatched;
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

  /**
   * A token for a new watched holder: the oldest spare if an earlier run
   * made it (else a new one, which this run cannot see die), and a new spare
   * in its place, two while the spares run short.
   */
  #token(): Token {
    this.#markRun();
    const oldest = this.#spare[this.#spareHead];
    const usable = oldest !== undefined && oldest.run < this.#run;
    // The slot lets go of the token: from now on only its holder keeps it.
    if (usable) this.#spare[this.#spareHead++] = undefined;
    const live = this.#spare.length - this.#spareHead;
    for (let i = usable || live >= MAX_SPARE_TOKENS ? 1 : 2; i > 0; i--) {
      this.#spare.push(this.#newToken());
    }
    if (this.#spareHead > 1024 && this.#spareHead * 2 > this.#spare.length) {
      this.#spare = this.#spare.slice(this.#spareHead);
      this.#spareHead = 0;
    }
    return usable ? oldest! : this.#newToken();
  }

  /**
   * Tokens made from now on belong to the current run, which has ended when
   * a timer fires (a microtask may still run in it: an `await` of a settled
   * promise does not end a run, nor does a WeakRef's hold end there).
   */
  #markRun(): void {
    if (this.#runEnding) return;
    this.#runEnding = true;
    Deno.unrefTimer(setTimeout(() => {
      this.#run++;
      this.#runEnding = false;
    }, 0));
  }

  #newToken(): Token {
    this.#markRun();
    const token = { run: this.#run } as { weak: WeakRef<Token>; run: number };
    token.weak = new WeakRef(token);
    return token;
  }

  #hold(id: ObjectId): void {
    const n = this.#counts.get(id) ?? 0;
    this.#counts.set(id, n + 1);
    if (n === 0) this.#sink!(REF_OP.hold, id);
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
