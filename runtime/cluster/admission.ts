/**
 * Admission of pulls into a node's store: a pull gets its block only while
 * it fits the store's free memory (spilling counts: the store may spill
 * other objects to make room), in order of priority (a `get` before a
 * `wait` before a task's arguments), first come first served within one.
 * The others wait their turn; a waiting `get` or `wait` that nothing can
 * make room for goes to memory of its own after a while (the node then
 * keeps it on disk, as it does an object bigger than the room it has), so a
 * task's `get` cannot be stalled for good by the arguments the node holds.
 *
 * @module
 */
import { ObjectStoreFullError } from "../common/mod.ts";
import type { SharedArena } from "../object_store/mod.ts";

/** Why a pull is made, most urgent first. */
export const PullPriority = {
  /** A `get` waits for it. */
  get: 0,
  /** A `wait` waits for it. */
  wait: 1,
  /** A queued task takes it as an argument. */
  args: 2,
} as const;

/** One of the PullPriority values. */
export type PullPriority = typeof PullPriority[keyof typeof PullPriority];

/** A pull waiting for room. */
export interface Ticket {
  priority: PullPriority;
}

interface Waiter {
  readonly ticket: Ticket;
  readonly size: number;
  readonly seq: number;
  readonly since: number;
  readonly resolve: (bytes: Uint8Array) => void;
  readonly reject: (err: Error) => void;
}

/** How often waiting pulls look for room (frees are not announced). */
const POLL_MS = 20;
/** First and longest pause between garbage collections for a waiting pull. */
const COLLECT_FIRST_MS = 50;
const COLLECT_MAX_MS = 1000;

/** The admission queue of one node's store. */
export class Admission {
  readonly #arena: SharedArena;
  readonly #fallbackMs: number;
  #queue: Waiter[] = [];
  #seq = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  readonly #collect: () => Promise<void>;
  /** When garbage may be collected again for a waiting pull, and the pause after that. */
  #collectAt = 0;
  #collectPauseMs = COLLECT_FIRST_MS;

  /**
   * @param arena the node's store
   * @param fallbackMs how long a `get` or `wait` waits for room before it takes memory of its own
   * @param collect collects garbage in every thread (dropped views release what they pinned)
   */
  constructor(
    arena: SharedArena,
    fallbackMs: number,
    collect: () => Promise<void> = () => Promise.resolve(),
  ) {
    this.#arena = arena;
    this.#fallbackMs = fallbackMs;
    this.#collect = collect;
  }

  /** Pulls waiting for room. */
  get waiting(): number {
    return this.#queue.length;
  }

  /**
   * A block of `size` bytes now, when no pull as urgent waits before it and
   * it fits (after spilling if need be); else undefined.
   */
  now(size: number, ticket: Ticket): Uint8Array | undefined {
    if (this.#closed || this.#queue.some((w) => w.ticket.priority <= ticket.priority)) {
      return undefined;
    }
    return this.#take(size);
  }

  /** A block of `size` bytes once it is this pull's turn and it fits. */
  later(size: number, ticket: Ticket): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(new Error("this process is shutting down"));
    // Bigger than the whole store: it never fits, and must not hold up the pulls after it.
    if (size > this.#arena.capacity) return Promise.resolve(new Uint8Array(size));
    const { promise, resolve, reject } = Promise.withResolvers<Uint8Array>();
    this.#queue.push({ ticket, size, seq: this.#seq++, since: Date.now(), resolve, reject });
    this.pump();
    return promise;
  }

  /** Admits what fits now, in order (after a free, a priority change, or on the timer). */
  pump(): void {
    this.#queue.sort((a, b) => a.ticket.priority - b.ticket.priority || a.seq - b.seq);
    while (this.#queue.length > 0) {
      const w = this.#queue[0];
      let bytes = this.#take(w.size);
      if (!bytes && this.#ownMemory(w)) bytes = new Uint8Array(w.size);
      if (!bytes) {
        this.#collectSoon();
        break;
      }
      this.#queue.shift();
      this.#collectPauseMs = COLLECT_FIRST_MS;
      w.resolve(bytes);
    }
    if (this.#timer === undefined && this.#queue.length > 0 && !this.#closed) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.pump();
      }, POLL_MS);
    }
  }

  /** Fails every waiting pull (the process is shutting down). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const w of this.#queue.splice(0)) w.reject(new Error("this process is shutting down"));
  }

  /**
   * No room for the first waiting pull: garbage is collected everywhere (a
   * dropped zero-copy view pins its object until then), less often the
   * longer nothing fits.
   */
  #collectSoon(): void {
    const now = Date.now();
    if (now < this.#collectAt) return;
    this.#collectAt = Infinity; // one at a time
    this.#collect().catch(() => {}).finally(() => {
      this.#collectAt = Date.now() + this.#collectPauseMs;
      this.#collectPauseMs = Math.min(COLLECT_MAX_MS, this.#collectPauseMs * 2);
      this.pump();
    });
  }

  /** A `get`/`wait` that waited long enough. */
  #ownMemory(w: Waiter): boolean {
    return w.ticket.priority !== PullPriority.args && Date.now() - w.since >= this.#fallbackMs;
  }

  #take(size: number): Uint8Array | undefined {
    const got = this.#arena.tryAlloc(size);
    if (got) return got;
    try {
      return this.#arena.alloc(size); // spills to make room, if it can
    } catch (err) {
      if (err instanceof ObjectStoreFullError) return undefined;
      throw err;
    }
  }
}
