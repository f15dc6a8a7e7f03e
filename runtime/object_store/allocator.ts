/**
 * A thread-safe allocator whose whole state lives inside a growable
 * SharedArrayBuffer, so every thread that maps the buffer can allocate and
 * free: a lock word, size-class free lists (two-level segregated fit), and
 * boundary tags around every block, so freeing merges a block with free
 * neighbours in O(1). The layout is drawn in docs/ARCHITECTURE.md ("Memory layout").
 *
 * @module
 */
import { ObjectStoreFullError } from "../common/mod.ts";
import { checkHeap } from "./_heap_check.ts";
import {
  binOf,
  BITMAP,
  BITMAP_WORDS,
  EDGE_TAG,
  END,
  FIRST,
  FORMAT,
  FORMATTED,
  FREE_BLOCKS,
  FREE_TAG,
  FREE_UNITS,
  HEADS,
  LOCK,
  MAX_UNITS,
  META_BYTES,
  TAGS,
  TOUCHED,
  UNIT,
  USED,
  USED_BLOCKS,
  USED_UNITS,
  W,
} from "./_heap_layout.ts";
import { enterCritical, leaveCritical } from "./stop_guard.ts";

/** Blocks of the request's own class tried before moving to a larger class. */
const SCAN = 32;
/** Lock attempts spent spinning before sleeping in Atomics.wait. */
const SPINS = 100;

/** What an allocator holds, in bytes unless named otherwise. */
export interface AllocatorStats {
  /** Most bytes the buffer may grow to (its `maxByteLength`). */
  readonly capacity: number;
  /** Bytes the heap spans now (a multiple of 64, at most the buffer's length). */
  readonly committed: number;
  /** Committed bytes not in free blocks: the header plus allocated blocks with their tags. */
  readonly used: number;
  /** Committed bytes in free blocks; `used + free === committed`. */
  readonly free: number;
  /** Largest size one `alloc` can get without growing the buffer. */
  readonly largestFree: number;
  /** Allocated blocks. */
  readonly blocks: number;
  /** Free blocks (1 when everything is freed and the heap is not empty). */
  readonly freeBlocks: number;
  /** Bytes up to the end of the highest block ever allocated: memory objects have written. */
  readonly touched: number;
}

/** `tryAlloc`'s answer when the block it found reaches memory never allocated and `fresh` is false. */
export const FRESH = -2;

/** Index of the lowest set bit of a non-zero word. */
function lowestBit(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/**
 * A heap in a growable SharedArrayBuffer. Payloads are 64-byte aligned;
 * `alloc` grows the buffer up to its `maxByteLength` when no free block fits.
 * Any thread holding an `Allocator` over the same buffer may allocate and
 * free; one lock word serializes them (spin, then `Atomics.wait`, which
 * Deno allows on the main thread too).
 *
 * @example
 * ```ts
 * import { Allocator } from "./allocator.ts";
 * const sab = new SharedArrayBuffer(4096, { maxByteLength: 1 << 20 });
 * const heap = Allocator.format(sab);
 * const offset = heap.alloc(100);
 * new Uint8Array(sab, offset, 100).fill(1);
 * heap.free(offset);
 * heap.check();
 * ```
 */
export class Allocator {
  /** The buffer the heap lives in. */
  readonly sab: SharedArrayBuffer;
  /** A fixed-length view, remapped when the heap outgrows it (length-tracking views are ~9x slower). */
  #w: Int32Array;
  #growError: unknown;

  /**
   * Maps a heap that `Allocator.format` wrote into `sab` (in any thread).
   * @throws TypeError when `sab` is not a formatted growable SharedArrayBuffer
   */
  constructor(sab: SharedArrayBuffer) {
    if (!(sab instanceof SharedArrayBuffer) || !sab.growable) {
      throw new TypeError("Cannot map allocator: expected a growable SharedArrayBuffer");
    }
    this.sab = sab;
    this.#w = new Int32Array(sab, 0, Math.floor(sab.byteLength / 4));
    if (sab.byteLength < META_BYTES || Atomics.load(this.#w, FORMAT) !== FORMATTED) {
      throw new TypeError(
        "Cannot map allocator: the buffer was not formatted by Allocator.format()",
      );
    }
  }

  /** Bytes of bookkeeping at the start of the buffer; the smallest formattable buffer. */
  static readonly overheadBytes: number = META_BYTES;

  /**
   * Writes an empty heap into `sab` (before sharing it) and maps it. The
   * whole current length becomes one free block.
   * @throws TypeError when `sab` is not growable or shorter than `overheadBytes`
   */
  static format(sab: SharedArrayBuffer): Allocator {
    if (!(sab instanceof SharedArrayBuffer) || !sab.growable || sab.byteLength < META_BYTES) {
      throw new TypeError(
        `Cannot format allocator: expected a growable SharedArrayBuffer of at least ${META_BYTES} bytes`,
      );
    }
    const w = new Int32Array(sab);
    w.fill(0, 0, META_BYTES / 4);
    const end = Math.min(MAX_UNITS, Math.floor(sab.byteLength / UNIT));
    w[FIRST * W - 4] = 0;
    w[FIRST * W - 3] = EDGE_TAG;
    w[END] = end;
    w[end * W - 2] = 0;
    w[end * W - 1] = EDGE_TAG;
    Atomics.store(w, FORMAT, FORMATTED);
    const heap = new Allocator(sab);
    if (end > FIRST) {
      heap.#setBlock(FIRST, end - FIRST, FREE_TAG);
      heap.#insert(FIRST, end - FIRST);
    }
    return heap;
  }

  /**
   * Allocates `size` bytes and returns the payload's byte offset (a multiple of 64).
   * @throws RangeError when `size` is not a non-negative safe integer
   * @throws ObjectStoreFullError when no block fits and the buffer cannot grow enough
   */
  alloc(size: number): number {
    const offset = this.tryAlloc(size);
    if (offset >= 0) return offset;
    const { used } = this.stats();
    const cause = this.#growError;
    throw new ObjectStoreFullError(
      `Object store is full: asked for ${size} bytes, ${used} of ${this.sab.maxByteLength} ` +
        "in use (raise objectStoreMemory in init())",
      cause === undefined ? undefined : { cause },
    );
  }

  /**
   * Like `alloc`, but returns -1 instead of throwing when the heap is full.
   * With `fresh` false, returns FRESH instead of taking a block that reaches
   * past `touched` (memory no object used yet), so the caller may first try
   * to free something.
   * @throws RangeError when `size` is not a non-negative safe integer
   */
  tryAlloc(size: number, fresh = true): number {
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new RangeError(`Invalid size: expected a non-negative safe integer, got ${size}`);
    }
    const units = Math.ceil((size + TAGS) / UNIT);
    if (units > MAX_UNITS) return -1;
    const slack = units * UNIT - TAGS - size;
    this.#growError = undefined;
    this.#lock();
    try {
      let p = this.#find(units);
      if (p === 0) p = this.#grow(units);
      if (p === 0) return -1;
      if (!fresh && p + units > this.#w[TOUCHED]) return FRESH;
      this.#take(p, units, slack);
      return p * UNIT;
    } finally {
      this.#unlock();
    }
  }

  /**
   * Frees the block whose payload starts at `offset`, merging it with free neighbours.
   * @throws RangeError when no allocated block starts at `offset` (double free, stray offset)
   */
  free(offset: number): void {
    this.#lock();
    try {
      const p = this.#usedBlock(offset, "free");
      const w = this.#w;
      let start = p;
      let size = w[p * W - 2];
      w[USED_UNITS] -= size;
      w[USED_BLOCKS]--;
      const next = p + size;
      if ((w[next * W - 1] & USED) === 0) {
        const n = w[next * W - 2];
        this.#remove(next, n);
        size += n;
      }
      if ((w[p * W - 3] & USED) === 0) {
        const n = w[p * W - 4];
        start = p - n;
        this.#remove(start, n);
        size += n;
      }
      this.#setBlock(start, size, FREE_TAG);
      this.#insert(start, size);
    } finally {
      this.#unlock();
    }
  }

  /**
   * The size that was asked for when the block at `offset` was allocated.
   * Lock-free: a live block's header changes only when it is freed.
   * @throws RangeError when no allocated block starts at `offset`
   */
  sizeOf(offset: number): number {
    const p = this.#usedBlock(offset, "size");
    const slack = (this.#w[p * W - 1] >>> 1) & 63;
    return this.#w[p * W - 2] * UNIT - TAGS - slack;
  }

  /** Sizes and counts, read under the lock so they agree with each other. */
  stats(): AllocatorStats {
    this.#lock();
    try {
      const w = this.#w;
      const committed = w[END] * UNIT;
      const free = w[FREE_UNITS] * UNIT;
      let largest = 0;
      for (let i = BITMAP + BITMAP_WORDS - 1; i >= BITMAP && largest === 0; i--) {
        if (w[i] === 0) continue;
        for (let p = w[HEADS + (i - BITMAP) * 32 + 31 - Math.clz32(w[i])]; p !== 0; p = w[p * W]) {
          largest = Math.max(largest, w[p * W - 2]);
        }
      }
      return {
        capacity: this.sab.maxByteLength,
        committed,
        used: committed - free,
        free,
        largestFree: largest === 0 ? 0 : largest * UNIT - TAGS,
        blocks: w[USED_BLOCKS],
        freeBlocks: w[FREE_BLOCKS],
        touched: w[TOUCHED] * UNIT,
      };
    } finally {
      this.#unlock();
    }
  }

  /**
   * Walks the whole heap under the lock and checks every invariant: tags
   * match, blocks tile the heap, no two free blocks touch, every free block
   * is in the list of its class and nothing else is, bitmap and counters agree.
   * For tests and debugging.
   * @throws Error naming the first broken invariant
   */
  check(): void {
    this.#lock();
    try {
      checkHeap(this.#w, this.sab.byteLength);
    } finally {
      this.#unlock();
    }
  }

  /** Unit index of the allocated block whose payload is at `offset`. */
  #usedBlock(offset: number, verb: string): number {
    let w = this.#w;
    const p = offset / UNIT;
    const end = Atomics.load(w, END);
    if (end * W > w.length) w = this.#remap();
    const ok = Number.isInteger(p) && p >= FIRST && p < end &&
      (w[p * W - 1] & ~126) === EDGE_TAG && p + w[p * W - 2] <= end &&
      w[(p + w[p * W - 2]) * W - 4] === w[p * W - 2];
    if (!ok) {
      throw new RangeError(`Cannot ${verb} offset ${offset}: no allocated block starts there`);
    }
    return p;
  }

  /** A free block of at least `units`, or 0. */
  #find(units: number): number {
    const w = this.#w;
    const b = binOf(units);
    let p = w[HEADS + b];
    for (let n = 0; p !== 0 && n < SCAN; n++, p = w[p * W]) {
      if (w[p * W - 2] >= units) return p;
    }
    let i = (b + 1) >>> 5;
    let bits = (b + 1) & 31 ? w[BITMAP + i] & (-1 << ((b + 1) & 31)) : w[BITMAP + i];
    while (bits === 0) {
      if (++i === BITMAP_WORDS) return 0;
      bits = w[BITMAP + i];
    }
    return w[HEADS + i * 32 + lowestBit(bits)];
  }

  /** Grows the buffer so a free tail of at least `units` exists; returns it, or 0. */
  #grow(units: number): number {
    let w = this.#w;
    const end = w[END];
    const tailFree = (w[end * W - 3] & USED) === 0;
    const tail = tailFree ? w[end * W - 4] : 0;
    if (tail >= units) return end - tail;
    const limit = Math.min(MAX_UNITS, Math.floor(this.sab.maxByteLength / UNIT));
    const need = end + units - tail;
    if (need > limit) return 0;
    const want = Math.min(limit, Math.max(need, end * 2));
    if (this.sab.byteLength < need * UNIT) {
      try {
        this.sab.grow(want * UNIT);
      } catch (err) {
        if (!(err instanceof RangeError)) throw err;
        try {
          this.sab.grow(need * UNIT);
        } catch (err2) {
          if (!(err2 instanceof RangeError)) throw err2;
          this.#growError = err2;
          return 0;
        }
      }
    }
    const newEnd = Math.min(limit, Math.floor(this.sab.byteLength / UNIT));
    w = this.#remap();
    w[newEnd * W - 2] = 0;
    w[newEnd * W - 1] = EDGE_TAG;
    w[END] = newEnd;
    let start = end;
    if (tailFree) {
      start = end - tail;
      this.#remove(start, tail);
    }
    this.#setBlock(start, newEnd - start, FREE_TAG);
    this.#insert(start, newEnd - start);
    return start;
  }

  /** Marks free block `p` allocated with `units`, returning any rest to the free lists. */
  #take(p: number, units: number, slack: number): void {
    const w = this.#w;
    const size = w[p * W - 2];
    this.#remove(p, size);
    if (size > units) {
      this.#setBlock(p + units, size - units, FREE_TAG);
      this.#insert(p + units, size - units);
    }
    this.#setBlock(p, units, EDGE_TAG | (slack << 1));
    w[USED_UNITS] += units;
    w[USED_BLOCKS]++;
    if (p + units > w[TOUCHED]) w[TOUCHED] = p + units;
  }

  #setBlock(p: number, units: number, tag: number): void {
    const w = this.#w;
    w[p * W - 2] = units;
    w[p * W - 1] = tag;
    const foot = (p + units) * W;
    w[foot - 4] = units;
    w[foot - 3] = tag;
  }

  #insert(p: number, units: number): void {
    const w = this.#w;
    const b = binOf(units);
    const head = w[HEADS + b];
    w[p * W] = head;
    w[p * W + 1] = 0;
    if (head !== 0) w[head * W + 1] = p;
    w[HEADS + b] = p;
    w[BITMAP + (b >>> 5)] |= 1 << (b & 31);
    w[FREE_UNITS] += units;
    w[FREE_BLOCKS]++;
  }

  #remove(p: number, units: number): void {
    const w = this.#w;
    const b = binOf(units);
    const next = w[p * W];
    const prev = w[p * W + 1];
    if (prev !== 0) {
      w[prev * W] = next;
    } else {
      w[HEADS + b] = next;
      if (next === 0) w[BITMAP + (b >>> 5)] &= ~(1 << (b & 31));
    }
    if (next !== 0) w[next * W + 1] = prev;
    w[FREE_UNITS] -= units;
    w[FREE_BLOCKS]--;
  }

  /** A new view of the whole buffer, after it grew (here or in another thread). */
  #remap(): Int32Array {
    return this.#w = new Int32Array(this.sab, 0, Math.floor(this.sab.byteLength / 4));
  }

  /**
   * Takes the lock (0 free, 1 held, 2 held with sleepers: Drepper's futex
   * mutex), then remaps if another thread grew the heap.
   */
  #lock(): void {
    enterCritical();
    const w = this.#w;
    if (Atomics.compareExchange(w, LOCK, 0, 1) !== 0) this.#contend(w);
    if (w[END] * W > w.length) this.#remap();
  }

  #contend(w: Int32Array): void {
    let c = 1;
    for (let i = 0; i < SPINS; i++) {
      if (Atomics.load(w, LOCK) === 0) {
        c = Atomics.compareExchange(w, LOCK, 0, 1);
        if (c === 0) return;
      }
    }
    if (c !== 2) c = Atomics.exchange(w, LOCK, 2);
    while (c !== 0) {
      Atomics.wait(w, LOCK, 2);
      c = Atomics.exchange(w, LOCK, 2);
    }
  }

  #unlock(): void {
    const w = this.#w;
    if (Atomics.sub(w, LOCK, 1) !== 1) {
      Atomics.store(w, LOCK, 0);
      Atomics.notify(w, LOCK, 1);
    }
    leaveCritical();
  }
}
