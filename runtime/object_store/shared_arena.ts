/**
 * The node's shared memory: one growable SharedArrayBuffer that the node's
 * main thread and every worker map. Any thread may allocate; allocation is a
 * lock-free bump of a shared counter, so a worker writes a big result straight
 * into the store without asking the main thread.
 *
 * This first store never frees: space is reclaimed when the node stops. The
 * allocator with freeing, eviction and spilling replaces `alloc` later.
 *
 * @module
 */
import { ObjectStoreFullError } from "../common/mod.ts";

/** Where a sealed object's bytes are in the arena. */
export interface StoreLoc {
  /** Byte offset from the arena's start (8-aligned). */
  readonly offset: number;
  /** Length in bytes. */
  readonly size: number;
}

/** What another thread needs to map the same arena. */
export interface ArenaHandle {
  /** The shared buffer itself (shared, not copied, by postMessage). */
  readonly sab: SharedArrayBuffer;
}

const ALIGN = 8;
/** Bytes at the start reserved for shared counters. */
const META_BYTES = 64;
/** Int32 slot holding the bump pointer, in 8-byte units. */
const TOP = 0;

/** Options for a new arena. */
export interface ArenaOptions {
  /** Bytes to start with. */
  initialBytes: number;
  /** Most bytes the arena may grow to. */
  maxBytes: number;
}

/** A shared-memory arena mapped in this thread. */
export class SharedArena {
  /** The shared buffer. */
  readonly sab: SharedArrayBuffer;
  readonly #meta: Int32Array;
  readonly #bytes: Uint8Array;

  /** Creates an arena, or maps an existing one from its handle. */
  constructor(init: ArenaOptions | ArenaHandle) {
    if ("sab" in init) {
      this.sab = init.sab;
    } else {
      const max = Math.max(META_BYTES, Math.floor(init.maxBytes / ALIGN) * ALIGN);
      const initial = Math.min(max, Math.max(META_BYTES, init.initialBytes));
      this.sab = new SharedArrayBuffer(initial, { maxByteLength: max });
    }
    this.#meta = new Int32Array(this.sab, 0, META_BYTES / 4);
    this.#bytes = new Uint8Array(this.sab);
    if (!("sab" in init)) Atomics.store(this.#meta, TOP, META_BYTES / ALIGN);
  }

  /** What another thread needs to map this arena. */
  handle(): ArenaHandle {
    return { sab: this.sab };
  }

  /** Bytes the arena may grow to. */
  get capacity(): number {
    return this.sab.maxByteLength;
  }

  /** Bytes handed out so far (including the header). */
  get used(): number {
    return Atomics.load(this.#meta, TOP) * ALIGN;
  }

  /**
   * Reserves `size` bytes and returns a view of them, 8-aligned.
   * @throws ObjectStoreFullError when the arena cannot grow that far
   */
  alloc(size: number): Uint8Array {
    const units = Math.ceil(size / ALIGN);
    const start = Atomics.add(this.#meta, TOP, units) * ALIGN;
    const end = start + units * ALIGN;
    if (end > this.sab.maxByteLength) {
      Atomics.sub(this.#meta, TOP, units);
      throw new ObjectStoreFullError(
        `Object store is full: asked for ${size} bytes, ${this.used} of ` +
          `${this.sab.maxByteLength} in use (raise objectStoreMemory in init())`,
      );
    }
    this.#ensure(end);
    return this.#bytes.subarray(start, start + size);
  }

  #ensure(end: number): void {
    while (this.sab.byteLength < end) {
      const want = Math.min(this.sab.maxByteLength, Math.max(end, this.sab.byteLength * 2));
      try {
        this.sab.grow(want);
      } catch (err) {
        if (this.sab.byteLength >= end) return;
        if (!(err instanceof RangeError)) throw err;
        throw new ObjectStoreFullError(
          `Object store cannot grow to ${want} bytes: ${err.message}`,
          { cause: err },
        );
      }
    }
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
