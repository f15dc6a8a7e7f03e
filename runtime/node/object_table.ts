/**
 * The node's table of sealed objects and of the waits on them.
 *
 * @module
 */
import { longTimeout, type LongTimer, type ObjectId } from "../common/mod.ts";
import type { Frame } from "../protocol/mod.ts";
import type { ObjectStatus } from "../scheduler/mod.ts";

interface Entry {
  readonly frame: Frame;
  readonly error: boolean;
}

/** What a finished wait found. */
export interface WaitOutcome {
  readonly ready: boolean[];
  readonly frames?: (Frame | undefined)[];
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
  readonly #waiters = new Map<ObjectId, { w: Waiter; positions: number[] }[]>();
  readonly #open = new Set<Waiter>();

  /** @param lend what `frame` hands out (default: the stored frame as is) */
  constructor(lend: FrameLender = (_id, frame) => frame) {
    this.#lend = lend;
  }

  /** Records a sealed object and wakes its waiters. Returns false if it already existed. */
  add(id: ObjectId, frame: Frame, error: boolean): boolean {
    if (this.#objects.has(id)) return false;
    this.#objects.set(id, { frame, error });
    const waiters = this.#waiters.get(id);
    if (!waiters) return true;
    this.#waiters.delete(id);
    for (const { w, positions } of waiters) {
      if (w.done) continue;
      for (const i of positions) w.ready[i] = true;
      w.count += positions.length;
      if (w.count >= w.need) this.#finish(w);
    }
    return true;
  }

  /** Forgets object `id`; returns what it held. */
  remove(id: ObjectId): { frame: Frame; error: boolean } | undefined {
    const e = this.#objects.get(id);
    if (e) this.#objects.delete(id);
    return e;
  }

  /** Whether `id` exists and holds an error. */
  status(id: ObjectId): ObjectStatus {
    const e = this.#objects.get(id);
    return e ? (e.error ? "error" : "ok") : "missing";
  }

  /** The frame of `id` as stored (not lent: a spilled object's is stale), if it exists. */
  stored(id: ObjectId): Frame | undefined {
    return this.#objects.get(id)?.frame;
  }

  /** The frame of `id` lent to a reader (see FrameLender), if it exists. */
  frame(id: ObjectId, mode: LendMode = "expose"): Frame | undefined {
    const e = this.#objects.get(id);
    return e && this.#lend(id, e.frame, mode);
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
    // One registration per distinct missing id; a repeated id adds its position to it.
    for (let i = 0; i < ids.length; i++) {
      if (ready[i]) continue;
      const id = ids[i];
      const regs = this.#waiters.get(id);
      if (!regs) {
        this.#waiters.set(id, [{ w, positions: [i] }]);
        continue;
      }
      // Registrations are appended in this loop only, so this wait's is the last one.
      const last = regs[regs.length - 1];
      if (last.w === w) last.positions.push(i);
      else regs.push({ w, positions: [i] });
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
    const frames = w.fetch ? w.ids.map((id) => this.#objects.get(id)?.frame) : undefined;
    w.resolve({ ready: w.ready, frames });
  }

  #close(w: Waiter): void {
    w.done = true;
    this.#open.delete(w);
    w.timer?.clear();
    for (const [i, id] of w.ids.entries()) {
      if (w.ready[i]) continue;
      const regs = this.#waiters.get(id);
      if (!regs) continue;
      const rest = regs.filter((r) => r.w !== w);
      if (rest.length) this.#waiters.set(id, rest);
      else this.#waiters.delete(id);
    }
  }
}
