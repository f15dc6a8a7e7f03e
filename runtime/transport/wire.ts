/**
 * A small binary codec for the hot messages that travel through shared
 * rings: numbers, strings and frames, written field by field. Four times
 * faster than msgpack for a batch of calls, because the reader knows the
 * shape and nothing is tagged or boxed.
 *
 * @module
 */
import type { Frame } from "../protocol/mod.ts";

const INLINE = 0;
const IN_STORE = 1;
const BY_ID = 2;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Writes fields into one reusable, growing buffer. */
export class WireWriter {
  #buf = new Uint8Array(4096);
  #view = new DataView(this.#buf.buffer);
  #at = 0;

  /** Starts a new message (the buffer is reused). */
  reset(): this {
    this.#at = 0;
    return this;
  }

  /** The message so far: a view of the writer's buffer, valid until the next write. */
  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#at);
  }

  /** An unsigned integer below 2^32. */
  u32(n: number): void {
    this.#room(4);
    this.#view.setUint32(this.#at, n, true);
    this.#at += 4;
  }

  /** A byte. */
  u8(n: number): void {
    this.#room(1);
    this.#buf[this.#at++] = n;
  }

  /** A double (offsets and sizes in the store). */
  f64(n: number): void {
    this.#room(8);
    this.#view.setFloat64(this.#at, n, true);
    this.#at += 8;
  }

  /** A string (UTF-8 with a u32 length). Ids are ASCII and take the short path. */
  str(s: string): void {
    const n = s.length;
    this.#room(4 + n * 3);
    const start = this.#at + 4;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      this.#buf[start + i] = c;
    }
    let len = i;
    if (i < n) {
      len = i + encoder.encodeInto(s.slice(i), this.#buf.subarray(start + i)).written;
    }
    this.#view.setUint32(this.#at, len, true);
    this.#at = start + len;
  }

  /** Raw bytes with a u32 length. */
  blob(b: Uint8Array): void {
    this.#room(4 + b.byteLength);
    this.#view.setUint32(this.#at, b.byteLength, true);
    this.#buf.set(b, this.#at + 4);
    this.#at += 4 + b.byteLength;
  }

  /** A frame, or the id of the object that holds one. */
  frame(f: Frame | string): void {
    if (typeof f === "string") {
      this.u8(BY_ID);
      this.str(f);
    } else if (f instanceof Uint8Array) {
      this.u8(INLINE);
      this.blob(f);
    } else {
      this.u8(IN_STORE);
      this.f64(f.offset);
      this.f64(f.size);
    }
  }

  /** A list of strings. */
  strs(list: readonly string[]): void {
    this.u32(list.length);
    for (const s of list) this.str(s);
  }

  #room(n: number): void {
    if (this.#at + n <= this.#buf.byteLength) return;
    const next = new Uint8Array(Math.max(this.#buf.byteLength * 2, this.#at + n));
    next.set(this.#buf.subarray(0, this.#at));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }
}

/** Reads the fields a WireWriter wrote, in the same order; RangeError past the end. */
export class WireReader {
  readonly #buf: Uint8Array;
  readonly #view: DataView;
  #at = 0;

  /** @param buf one whole message */
  constructor(buf: Uint8Array) {
    this.#buf = buf;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** True when every byte was read. */
  get done(): boolean {
    return this.#at === this.#buf.byteLength;
  }

  /** See WireWriter.u32. */
  u32(): number {
    const n = this.#view.getUint32(this.#at, true);
    this.#at += 4;
    return n;
  }

  /** See WireWriter.u8. */
  u8(): number {
    if (this.#at >= this.#buf.byteLength) throw new RangeError("Wire message ends early");
    return this.#buf[this.#at++];
  }

  /** See WireWriter.f64. */
  f64(): number {
    const n = this.#view.getFloat64(this.#at, true);
    this.#at += 8;
    return n;
  }

  /** See WireWriter.str. */
  str(): string {
    const len = this.u32();
    const end = this.#end(len);
    const start = this.#at;
    this.#at = end;
    if (len <= 64) {
      let ascii = true;
      for (let i = start; i < end; i++) if (this.#buf[i] >= 0x80) ascii = false;
      if (ascii) return String.fromCharCode.apply(null, this.#buf.subarray(start, end) as never);
    }
    return decoder.decode(this.#buf.subarray(start, end));
  }

  /** See WireWriter.blob: a copy, 8-aligned, that outlives the message. */
  blob(): Uint8Array {
    const len = this.u32();
    const end = this.#end(len);
    const out = this.#buf.slice(this.#at, end);
    this.#at = end;
    return out;
  }

  /** See WireWriter.frame. */
  frame(): Frame | string {
    const tag = this.u8();
    if (tag === INLINE) return this.blob();
    if (tag === IN_STORE) return { offset: this.f64(), size: this.f64() };
    if (tag === BY_ID) return this.str();
    throw new RangeError(`Wire message has a bad frame tag ${tag}`);
  }

  /** See WireWriter.strs. */
  strs(): string[] {
    const n = this.u32();
    this.#end(n);
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.str());
    return out;
  }

  #end(len: number): number {
    const end = this.#at + len;
    if (end > this.#buf.byteLength) throw new RangeError("Wire message ends early");
    return end;
  }
}
