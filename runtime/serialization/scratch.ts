/**
 * A bump allocator for short-lived frames: many small frames carved from one
 * reusable buffer instead of one ArrayBuffer each (a new ArrayBuffer costs
 * about 0.7 us on Deno). Frames from it are valid until `reset`, so use it
 * only for frames that are copied (into a ring, or by postMessage) before
 * then.
 *
 * @module
 */
import type { FrameAllocator } from "./frame.ts";

/** Frames from one buffer, all dropped together by `reset`. */
export class ScratchFrames {
  #buf: Uint8Array;
  #at = 0;
  #using = 0;

  /** @param bytes the buffer's first size (it grows when a frame does not fit) */
  constructor(bytes = 64 * 1024) {
    this.#buf = new Uint8Array(bytes);
  }

  /** Gives `size` bytes, 8-aligned, valid until `reset`. */
  readonly alloc: FrameAllocator = (size) => {
    if (this.#at + size > this.#buf.byteLength) {
      // The frames given so far keep the old buffer; later ones use a new one.
      this.#buf = new Uint8Array(Math.max(this.#buf.byteLength, size * 2));
      this.#at = 0;
    }
    const frame = this.#buf.subarray(this.#at, this.#at + size);
    this.#at = (this.#at + size + 7) & ~7;
    return frame;
  };

  /**
   * Every frame given so far may be overwritten from now on; inside `using`
   * (frames being made are not sent yet) it does nothing.
   */
  reset(): void {
    if (this.#using === 0) this.#at = 0;
  }

  /** Runs `fn`, which makes frames, with `reset` held off until it returns. */
  using<T>(fn: () => T): T {
    this.#using++;
    try {
      return fn();
    } finally {
      this.#using--;
    }
  }
}
