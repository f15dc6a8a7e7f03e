/**
 * A single-producer, single-consumer ring of messages in shared memory: one
 * thread writes whole messages, another reads them, with no lock and no
 * message passing. Each message is a u32 length and its bytes, padded to 4;
 * a message never wraps around the end (a length of SKIP there says "go on
 * at the start"), so the reader decodes it in place.
 *
 * The write and read counters are u32 byte counts since the start (they
 * wrap); the data area's capacity is a power of two, so a counter's position
 * is `count & (capacity - 1)`. The producer writes the bytes, then publishes
 * them with an atomic store of the write counter; the consumer reads them in
 * place, then frees them with an atomic store of the read counter.
 *
 * @module
 */

const LEN_BYTES = 4;
/** Length word meaning "the rest of the area is unused: the next message is at 0". */
const SKIP = 0xffffffff;

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

  /** True when a message waits to be read. */
  get readable(): boolean {
    return Atomics.load(this.#words, this.#writeAt) !== Atomics.load(this.#words, this.#readAt);
  }

  /**
   * Writes `bytes` as one message (producer only).
   *
   * @returns false when it does not fit now (nothing is written)
   */
  tryWrite(bytes: Uint8Array): boolean {
    const cap = this.#data.byteLength;
    const w = Atomics.load(this.#words, this.#writeAt) >>> 0;
    const r = Atomics.load(this.#words, this.#readAt) >>> 0;
    const need = ringFootprint(bytes.byteLength);
    const pos = w & this.#mask;
    // A message that would cross the end starts at 0; the tail is skipped.
    const skip = pos + need > cap ? cap - pos : 0;
    if (need + skip > cap - ((w - r) >>> 0)) return false;
    if (skip > 0) this.#lengths[pos >>> 2] = SKIP;
    const at = (pos + skip) & this.#mask;
    this.#lengths[at >>> 2] = bytes.byteLength;
    this.#data.set(bytes, at + LEN_BYTES);
    Atomics.store(this.#words, this.#writeAt, (w + skip + need) | 0);
    return true;
  }

  /**
   * Decodes the next message in place (consumer only) and frees it. `decode`
   * gets a view of shared memory that is reused once it returns: copy out
   * what must outlive it.
   *
   * @returns what `decode` returned, or undefined when no message waits
   */
  read<T>(decode: (bytes: Uint8Array) => T): T | undefined {
    let r = Atomics.load(this.#words, this.#readAt) >>> 0;
    const w = Atomics.load(this.#words, this.#writeAt) >>> 0;
    if (r === w) return undefined;
    let pos = r & this.#mask;
    let len = this.#lengths[pos >>> 2];
    if (len === SKIP) {
      r = (r + this.#data.byteLength - pos) >>> 0;
      pos = 0;
      len = this.#lengths[0];
    }
    const need = ringFootprint(len);
    if (need > ((w - r) >>> 0) || pos + need > this.#data.byteLength) {
      throw new RangeError(
        `ByteRing is corrupt: a message of ${len} bytes runs past what was written`,
      );
    }
    try {
      return decode(this.#data.subarray(pos + LEN_BYTES, pos + LEN_BYTES + len));
    } finally {
      Atomics.store(this.#words, this.#readAt, (r + need) | 0);
    }
  }
}
