/**
 * The node's table of sealed objects and of the waits on them.
 *
 * @module
 */
import { longTimeout, type LongTimer, type ObjectId } from "../common/mod.ts";
import type { Frame } from "../protocol/mod.ts";
import type { ObjectStatus } from "../scheduler/mod.ts";

/**
 * A stored object that holds an error. An object that holds a value is kept
 * as its frame alone (no entry object: 40 bytes less for each of a million
 * results).
 */
class Failed {
  constructor(readonly frame: Frame) {}
}

type Entry = Frame | Failed;

/** The frame of a stored entry. */
function frameOf(e: Entry): Frame {
  return e instanceof Failed ? e.frame : e;
}

/** What a finished wait found. */
export interface WaitOutcome {
  readonly ready: boolean[];
  readonly frames?: (Frame | undefined)[];
}

/**
 * One position of a missing id in one wait, chained to the id's registration
 * before it (newest first). A get of a million refs registers a million: one
 * small object each, not arrays per id.
 */
class Registration {
  constructor(
    readonly w: Waiter,
    readonly i: number,
    public next: Registration | undefined,
  ) {}
}

/** The registrations of one id, oldest first. */
function oldestFirst(newest: Registration): Registration[] {
  const out: Registration[] = [];
  for (let r: Registration | undefined = newest; r; r = r.next) out.push(r);
  return out.reverse();
}

interface Waiter {
  readonly ids: readonly ObjectId[];
  readonly ready: boolean[];
  count: number;
  readonly need: number;
  readonly fetch: boolean;
  timer?: LongTimer;
  done: boolean;
  resolve(outcome: WaitOutcome): void;
  reject(reason: unknown): void;
}

/** A wait in progress. */
export interface WaitHandle {
  /** Settles when enough objects exist or the deadline passes. */
  readonly promise: Promise<WaitOutcome>;
  /** True when the wait was already satisfied when it was made. */
  readonly immediate: boolean;
  /** Stops waiting; the promise never settles. */
  cancel(): void;
}

/**
 * The outcome of `handle`, or a rejection with `signal`'s reason once it
 * aborts (the wait is cancelled then).
 */
export async function untilAborted(handle: WaitHandle, signal?: AbortSignal): Promise<WaitOutcome> {
  if (handle.immediate || !signal) return await handle.promise;
  const { promise, reject } = Promise.withResolvers<never>();
  const onAbort = () => {
    handle.cancel();
    reject(signal.reason);
  };
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    return await Promise.race([handle.promise, promise]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/** How a reader holds a lent frame: pinned until it unpins, or exposed until the object is freed. */
export type LendMode = "pin" | "expose";

/** Makes a stored frame ready for a reader (restores a spilled object); returns the frame to hand out. */
export type FrameLender = (id: ObjectId, frame: Frame, mode: LendMode) => Frame;

/** Objects by id, with their frames; waits wake when objects appear. */
export class ObjectTable {
  readonly #lend: FrameLender;
  readonly #objects = new Map<ObjectId, Entry>();
  /** The newest registration of each missing id (see Registration). */
  readonly #waiters = new Map<ObjectId, Registration>();
  readonly #open = new Set<Waiter>();

  /** @param lend what `frame` hands out (default: the stored frame as is) */
  constructor(lend: FrameLender = (_id, frame) => frame) {
    this.#lend = lend;
  }

  /** Records a sealed object and wakes its waiters. Returns false if it already existed. */
  add(id: ObjectId, frame: Frame, error: boolean): boolean {
    if (this.#objects.has(id)) return false;
    this.#objects.set(id, error ? new Failed(frame) : frame);
    const newest = this.#waiters.get(id);
    if (!newest) return true;
    this.#waiters.delete(id);
    if (!newest.next) {
      const w = newest.w;
      if (w.done) return true;
      w.ready[newest.i] = true;
      if (++w.count >= w.need) this.#finish(w);
      return true;
    }
    // Every position of `id` is ready before any wait finishes; waits finish in the order they came.
    const regs = oldestFirst(newest);
    for (const r of regs) {
      if (r.w.done) continue;
      r.w.ready[r.i] = true;
      r.w.count++;
    }
    for (const r of regs) {
      if (!r.w.done && r.w.count >= r.w.need) this.#finish(r.w);
    }
    return true;
  }

  /** Forgets object `id`; returns what it held. */
  remove(id: ObjectId): { frame: Frame; error: boolean } | undefined {
    const e = this.#objects.get(id);
    if (e === undefined) return undefined;
    this.#objects.delete(id);
    return { frame: frameOf(e), error: e instanceof Failed };
  }

  /** Whether `id` exists and holds an error. */
  status(id: ObjectId): ObjectStatus {
    const e = this.#objects.get(id);
    return e === undefined ? "missing" : e instanceof Failed ? "error" : "ok";
  }

  /** The frame of `id` as stored (not lent: a spilled object's is stale), if it exists. */
  stored(id: ObjectId): Frame | undefined {
    const e = this.#objects.get(id);
    return e && frameOf(e);
  }

  /** The frame of `id` lent to a reader (see FrameLender), if it exists. */
  frame(id: ObjectId, mode: LendMode = "expose"): Frame | undefined {
    const e = this.#objects.get(id);
    return e && this.#lend(id, frameOf(e), mode);
  }

  /** Objects recorded. */
  get size(): number {
    return this.#objects.size;
  }

  /** Waits not answered yet. */
  get openWaits(): number {
    return this.#open.size;
  }

  /** Waits until `need` of `ids` exist, or `timeoutMs` passes. */
  wait(
    ids: readonly ObjectId[],
    need: number,
    timeoutMs: number | undefined,
    fetch: boolean,
  ): WaitHandle {
    const ready = ids.map((id) => this.#objects.has(id));
    const count = ready.reduce((n, r) => n + (r ? 1 : 0), 0);
    const { promise, resolve, reject } = Promise.withResolvers<WaitOutcome>();
    // Rejected only at shutdown; whoever awaits it sees that, nobody else should.
    promise.catch(() => {});
    const w: Waiter = { ids, ready, count, need, fetch, done: false, resolve, reject };
    if (count >= need || timeoutMs === 0) {
      this.#finish(w);
      return { promise, immediate: true, cancel: () => {} };
    }
    // One registration per missing position.
    for (let i = 0; i < ids.length; i++) {
      if (ready[i]) continue;
      const id = ids[i];
      this.#waiters.set(id, new Registration(w, i, this.#waiters.get(id)));
    }
    this.#open.add(w);
    if (timeoutMs !== undefined) w.timer = longTimeout(() => this.#finish(w), timeoutMs);
    return { promise, immediate: false, cancel: () => this.#close(w) };
  }

  /** Ends every open wait, rejecting it with `reason` (at shutdown). */
  rejectAll(reason: unknown): void {
    for (const w of [...this.#open]) {
      this.#close(w);
      w.reject(reason);
    }
  }

  #finish(w: Waiter): void {
    if (w.done) return;
    this.#close(w);
    const frames = w.fetch ? w.ids.map((id) => this.stored(id)) : undefined;
    w.resolve({ ready: w.ready, frames });
  }

  #close(w: Waiter): void {
    w.done = true;
    this.#open.delete(w);
    w.timer?.clear();
    for (const [i, id] of w.ids.entries()) {
      if (w.ready[i]) continue;
      let newest = this.#waiters.get(id);
      while (newest?.w === w) newest = newest.next;
      for (let r = newest; r; r = r.next) {
        while (r.next?.w === w) r.next = r.next.next;
      }
      if (newest) this.#waiters.set(id, newest);
      else this.#waiters.delete(id);
    }
  }
}
