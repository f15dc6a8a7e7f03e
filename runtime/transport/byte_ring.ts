/**
 * A single-producer, single-consumer ring of messages in shared memory: one
 * thread writes whole messages, another reads them, with no lock and no
 * message passing. Each message is a u32 length and its bytes, padded to 4.
 *
 * The write and read counters are u32 byte counts since the start (they
 * wrap); the data area's capacity is a power of two, so a counter's position
 * is `count & (capacity - 1)`. The producer writes the bytes, then publishes
 * them with an atomic store of the write counter; the consumer copies them
 * out, then frees them with an atomic store of the read counter.
 *
 * @module
 */

const LEN_BYTES = 4;

/** Bytes a message of `len` bytes takes in the ring. */
export function ringFootprint(len: number): number {
  return LEN_BYTES + ((len + 3) & ~3);
}

/** One direction of a channel: messages from one thread to another. */
export class ByteRing {
  readonly #words: Int32Array;
  readonly #writeAt: number;
  readonly #readAt: number;
  readonly #data: Uint8Array;
  readonly #lengths: Uint32Array;
  readonly #mask: number;

  /**
   * @param words the channel's control words
   * @param writeAt index in `words` of the write counter (the read counter follows it)
   * @param sab the shared buffer holding the data area
   * @param offset where the data area starts (a multiple of 4)
   * @param capacity size of the data area: a power of two, at least 16
   */
  constructor(
    words: Int32Array,
    writeAt: number,
    sab: SharedArrayBuffer,
    offset: number,
    capacity: number,
  ) {
    if (capacity < 16 || (capacity & (capacity - 1)) !== 0 || capacity > 2 ** 30) {
      throw new RangeError(
        `ByteRing capacity must be a power of two in [16, 2^30], got ${capacity}`,
      );
    }
    if (offset % 4 !== 0) throw new RangeError(`ByteRing offset must be a multiple of 4`);
    this.#words = words;
    this.#writeAt = writeAt;
    this.#readAt = writeAt + 1;
    this.#data = new Uint8Array(sab, offset, capacity);
    this.#lengths = new Uint32Array(sab, offset, capacity / 4);
    this.#mask = capacity - 1;
  }

  /** The largest message that can ever fit. */
  get maxMessage(): number {
    return this.#data.byteLength - LEN_BYTES;
  }

  /** True when a message waits to be read. */
  get readable(): boolean {
    return Atomics.load(this.#words, this.#writeAt) !== Atomics.load(this.#words, this.#readAt);
  }

  /** True when nothing is in the ring (from the producer's side: all was read). */
  get empty(): boolean {
    return !this.readable;
  }

  /**
   * Writes `bytes` as one message (producer only).
   *
   * @returns false when it does not fit now (nothing is written)
   */
  tryWrite(bytes: Uint8Array): boolean {
    const w = Atomics.load(this.#words, this.#writeAt) >>> 0;
    const r = Atomics.load(this.#words, this.#readAt) >>> 0;
    const need = ringFootprint(bytes.byteLength);
    const free = this.#data.byteLength - ((w - r) >>> 0);
    if (need > free) return false;
    const pos = w & this.#mask;
    this.#lengths[pos >>> 2] = bytes.byteLength;
    this.#copyIn(bytes, (pos + LEN_BYTES) & this.#mask);
    Atomics.store(this.#words, this.#writeAt, (w + need) | 0);
    return true;
  }

  /** The next message, copied out of the ring (consumer only); undefined when none waits. */
  read(): Uint8Array | undefined {
    const r = Atomics.load(this.#words, this.#readAt) >>> 0;
    const w = Atomics.load(this.#words, this.#writeAt) >>> 0;
    if (r === w) return undefined;
    const pos = r & this.#mask;
    const len = this.#lengths[pos >>> 2];
    const need = ringFootprint(len);
    if (need > ((w - r) >>> 0)) {
      throw new RangeError(
        `ByteRing is corrupt: a message of ${len} bytes runs past what was written`,
      );
    }
    const out = new Uint8Array(len);
    const start = (pos + LEN_BYTES) & this.#mask;
    const first = Math.min(len, this.#data.byteLength - start);
    out.set(this.#data.subarray(start, start + first));
    if (first < len) out.set(this.#data.subarray(0, len - first), first);
    Atomics.store(this.#words, this.#readAt, (r + need) | 0);
    return out;
  }

  #copyIn(bytes: Uint8Array, start: number): void {
    const first = Math.min(bytes.byteLength, this.#data.byteLength - start);
    this.#data.set(first === bytes.byteLength ? bytes : bytes.subarray(0, first), start);
    if (first < bytes.byteLength) this.#data.set(bytes.subarray(first), 0);
  }
}
