/**
 * The node's shared memory: one growable SharedArrayBuffer that the node's
 * main thread and every worker map. Any thread may allocate and free: the
 * heap's state (lock, free lists, block tags) lives in the buffer itself, so
 * a worker writes a big result straight into the store without asking the
 * main thread. The buffer grows on demand up to `objectStoreMemory`.
 *
 * @module
 */
import { Allocator, type AllocatorStats } from "./allocator.ts";

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
   * @throws ObjectStoreFullError when no free block fits and the arena cannot grow that far
   */
  alloc(size: number): Uint8Array {
    const offset = size === 0 ? 0 : this.#heap.alloc(size);
    return this.#bytes.subarray(offset, offset + size);
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
