/**
 * The node's shared memory: one growable SharedArrayBuffer that the node's
 * main thread and every worker map. Any thread may allocate and free: the
 * heap's state (lock, free lists, block tags) lives in the buffer itself, so
 * a worker writes a big result straight into the store without asking the
 * main thread. The buffer grows on demand up to `objectStoreMemory`.
 *
 * @module
 */
import { Allocator, type AllocatorStats, FRESH } from "./allocator.ts";
import { CLOSED } from "./_heap_layout.ts";

/** Where a sealed object's bytes are in the arena. */
export interface StoreLoc {
  /** Byte offset from the arena's start (64-aligned; 0 for an empty object). */
  readonly offset: number;
  /** Length in bytes. */
  readonly size: number;
}

/** What another thread needs to map the same arena. */
export interface ArenaHandle {
  /** The shared buffer itself (shared, not copied, by postMessage). */
  readonly sab: SharedArrayBuffer;
}

/**
 * Called by `alloc` when no block fits: makes room (by spilling objects to
 * disk, or by asking the thread that can) and returns so `alloc` tries
 * again, or throws ObjectStoreFullError when no room can be made.
 */
export type MakeRoom = (size: number) => void;

/**
 * Called by `alloc` in this thread when the block it would take reaches
 * memory no object has used yet (whose first write costs a page fault per
 * page): a chance to free dropped objects first. `alloc` then takes what
 * fits, fresh or not.
 */
export type BeforeFresh = (size: number) => void;

/** Options for a new arena. */
export interface ArenaOptions {
  /** Bytes to start with. */
  initialBytes: number;
  /** Most bytes the arena may grow to (rounded down to a multiple of 8). */
  maxBytes: number;
}

/**
 * A shared-memory arena mapped in this thread.
 *
 * @example
 * ```ts
 * import { SharedArena } from "./shared_arena.ts";
 * const arena = new SharedArena({ initialBytes: 1 << 16, maxBytes: 1 << 20 });
 * const bytes = arena.alloc(1000);
 * bytes.fill(7);
 * const loc = arena.locate(bytes)!;
 * const other = new SharedArena(arena.handle()); // as a worker would
 * other.view(loc)[999]; // 7
 * other.free(loc);
 * ```
 */
export class SharedArena {
  /** The shared buffer. */
  readonly sab: SharedArrayBuffer;
  readonly #heap: Allocator;
  readonly #bytes: Uint8Array;
  readonly #words: Int32Array;
  /** Makes room when an `alloc` does not fit; without it, `alloc` throws at once. */
  onFull: MakeRoom | undefined;
  /** Tried before an `alloc` in this thread takes memory no object used yet. */
  onFresh: BeforeFresh | undefined;
  #allocated = 0;

  /**
   * Creates an arena, or maps an existing one from its handle.
   * @throws TypeError when a handle's buffer holds no arena
   */
  constructor(init: ArenaOptions | ArenaHandle) {
    if ("sab" in init) {
      this.sab = init.sab;
      this.#heap = new Allocator(this.sab);
    } else {
      const floor = Allocator.overheadBytes;
      const max = Math.max(floor, Math.floor(init.maxBytes / 8) * 8);
      const initial = Math.min(max, Math.max(floor, Math.ceil(init.initialBytes / 64) * 64));
      this.sab = new SharedArrayBuffer(initial, { maxByteLength: max });
      this.#heap = Allocator.format(this.sab);
    }
    this.#bytes = new Uint8Array(this.sab);
    this.#words = new Int32Array(this.sab, 0, CLOSED + 1);
  }

  /** What another thread needs to map this arena. */
  handle(): ArenaHandle {
    return { sab: this.sab };
  }

  /** Bytes the arena may grow to. */
  get capacity(): number {
    return this.sab.maxByteLength;
  }

  /** Bytes not free: the heap's bookkeeping plus every live block with its tags. */
  get used(): number {
    return this.#heap.stats().used;
  }

  /**
   * Reserves `size` bytes and returns a view of them, 64-aligned. A size of
   * 0 reserves nothing and gives an empty view at offset 0.
   * @throws RangeError when `size` is not a non-negative safe integer
   * Before taking memory no object used yet, `onFresh` (if set) may free
   * some. When nothing fits, `onFull` (if set and the arena is open) makes
   * room and the allocation is tried again.
   * @throws ObjectStoreFullError when no free block fits, the arena cannot grow
   *   that far and `onFull` could not make room
   */
  alloc(size: number): Uint8Array {
    if (size === 0) return this.#bytes.subarray(0, 0);
    let offset = this.#heap.tryAlloc(size, this.onFresh === undefined);
    if (offset === FRESH) {
      this.onFresh!(size);
      offset = this.#heap.tryAlloc(size);
    }
    while (offset < 0) {
      if (!this.onFull || this.closed) {
        offset = this.#heap.alloc(size);
        break;
      }
      this.onFull(size);
      offset = this.#heap.tryAlloc(size);
    }
    this.#allocated += size;
    return this.#bytes.subarray(offset, offset + size);
  }

  /** Bytes up to the end of the highest block ever allocated (see `BeforeFresh`). */
  get touched(): number {
    return this.#heap.stats().touched;
  }

  /** Bytes `alloc` gave out in this thread since the arena was made or mapped here. */
  get allocatedHere(): number {
    return this.#allocated;
  }

  /**
   * Like `alloc`, but gives `undefined` instead of making room or throwing.
   * @throws RangeError when `size` is not a non-negative safe integer
   */
  tryAlloc(size: number): Uint8Array | undefined {
    const offset = size === 0 ? 0 : this.#heap.tryAlloc(size);
    return offset < 0 ? undefined : this.#bytes.subarray(offset, offset + size);
  }

  /** True once `close` was called in any thread. */
  get closed(): boolean {
    return Atomics.load(this.#words, CLOSED) !== 0;
  }

  /** Marks the store shut down, for every thread: `onFull` is no longer called. */
  close(): void {
    Atomics.store(this.#words, CLOSED, 1);
  }

  /**
   * Gives back the space of an object allocated by `alloc` (in any thread).
   * Freeing an empty object does nothing.
   * @param target the object's location, or its offset
   * @throws RangeError when nothing allocated starts there, or `target.size`
   *   is not the size that was allocated
   */
  free(target: StoreLoc | number): void {
    if (typeof target === "number") return this.#heap.free(target);
    if (target.size === 0) return;
    const size = this.#heap.sizeOf(target.offset);
    if (size !== target.size) {
      throw new RangeError(
        `Cannot free [${target.offset}, +${target.size}): the block there holds ${size} bytes`,
      );
    }
    this.#heap.free(target.offset);
  }

  /** Capacity, committed, used and free bytes, largest free block, block counts. */
  stats(): AllocatorStats {
    return this.#heap.stats();
  }

  /** A view of the object at `loc`. */
  view(loc: StoreLoc): Uint8Array {
    return this.#bytes.subarray(loc.offset, loc.offset + loc.size);
  }

  /** The location of `view`, which must be a view of this arena. */
  locate(view: Uint8Array): StoreLoc | undefined {
    return view.buffer === this.sab
      ? { offset: view.byteOffset, size: view.byteLength }
      : undefined;
  }
}
