/**
 * A small binary codec for the hot messages that travel through shared
 * rings: numbers, strings, ids and frames, written field by field (the
 * reader knows the shape; nothing is tagged or boxed). Three things keep it
 * cheap on Deno, where every new ArrayBuffer costs about 0.7 us:
 *
 * - a message's small inline frames are copied into one buffer per message
 *   (its size is in the message header), each 8-aligned;
 * - strings repeated in a message (method names, id prefixes) are written
 *   once and then by number;
 * - ids (24 or 28 hex digits) travel as a prefix string and one or two
 *   numbers.
 *
 * @module
 */
import type { Frame } from "../protocol/mod.ts";

const INLINE = 0;
const IN_STORE = 1;
const BY_ID = 2;

const ID_PLAIN = 0;
const ID_TASK = 1;
const ID_OBJECT = 2;
const PREFIX = 16;

/** Inline frames up to this size share their message's buffer; bigger ones get their own. */
const SMALL_FRAME = 512;

/**
 * Inline frames up to this size that come again are shared: the same bytes,
 * one frame (frames are never written after they are made). A million
 * results of `0` or `true` then cost no frame each (about 100 bytes).
 */
const SHARED_FRAME = 32;
/** Shared frames kept at most (the table starts over when full). */
const SHARED_FRAMES_MAX = 4096;

/**
 * Tiny frames by a hash of their bytes: `null` once seen (the first one
 * stays in its message's buffer), then a frame of its own, shared.
 */
const sharedFrames = new Map<number, Uint8Array | null>();

/** The shared frame with `src`'s bytes, if `src` came before; else undefined. */
function sharedFrame(src: Uint8Array): Uint8Array | undefined {
  let h = 0x811c9dc5 ^ src.length;
  for (let i = 0; i < src.length; i++) h = Math.imul(h ^ src[i], 16777619);
  const known = sharedFrames.get(h);
  if (known) return sameBytes(known, src) ? known : undefined;
  if (known === undefined) {
    if (sharedFrames.size >= SHARED_FRAMES_MAX) sharedFrames.clear();
    sharedFrames.set(h, null);
    return undefined;
  }
  const own = src.slice();
  sharedFrames.set(h, own);
  return own;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The value of the lowercase hex digits s[from..to) (at most 8), or -1 if one is not one. */
function hexValue(s: string, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

/** Writes fields into one reusable, growing buffer. */
export class WireWriter {
  #buf = new Uint8Array(4096);
  #view = new DataView(this.#buf.buffer);
  #at = 0;
  readonly #syms = new Map<string, number>();
  /** The id prefix written last in this message, and its string number (most ids share one). */
  #lastPrefix: string | undefined;
  #lastPrefixSym = 0;
  /** Where the header's total of small-frame bytes goes, and that total. */
  #slabAt = -1;
  #slabBytes = 0;

  /** Starts a new message (the buffer is reused); its first field is the small-frame total. */
  reset(): this {
    this.#at = 0;
    this.#syms.clear();
    this.#lastPrefix = undefined;
    this.#slabBytes = 0;
    this.#slabAt = 0;
    this.u32(0);
    return this;
  }

  /** The message: a view of the writer's buffer, valid until the next write. */
  bytes(): Uint8Array {
    this.#view.setUint32(this.#slabAt, this.#slabBytes, true);
    return this.#buf.subarray(0, this.#at);
  }

  /** An unsigned integer below 2^32. */
  u32(n: number): void {
    this.#room(4);
    this.#view.setUint32(this.#at, n, true);
    this.#at += 4;
  }

  /** An unsigned integer below 2^16. */
  u16(n: number): void {
    this.#room(2);
    this.#view.setUint16(this.#at, n, true);
    this.#at += 2;
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

  /** A string (UTF-8 with a u32 length). */
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

  /** A string likely repeated in this message: written once, then by number. */
  sym(s: string): void {
    const known = this.#syms.get(s);
    if (known !== undefined) return this.u32(known);
    const index = this.#syms.size;
    this.#syms.set(s, index);
    this.u32(index);
    this.str(s);
  }

  /**
   * A task or object id (any string works; hex ids take the short form).
   * Read character by character, without slices or a regular expression:
   * ids are written for every call and task.
   */
  id(s: string): void {
    const n = s.length;
    const counter = n === 24 || n === 28 ? hexValue(s, PREFIX, 24) : -1;
    const index = n === 28 ? hexValue(s, 24, 28) : 0;
    if (counter < 0 || index < 0) {
      this.u8(ID_PLAIN);
      return this.str(s);
    }
    const last = this.#lastPrefix;
    if (last !== undefined && s.startsWith(last)) {
      this.u8(n === 24 ? ID_TASK : ID_OBJECT);
      this.u32(this.#lastPrefixSym);
    } else if (hexValue(s, 0, 8) >= 0 && hexValue(s, 8, PREFIX) >= 0) {
      this.u8(n === 24 ? ID_TASK : ID_OBJECT);
      const prefix = s.slice(0, PREFIX);
      this.sym(prefix);
      this.#lastPrefix = prefix;
      this.#lastPrefixSym = this.#syms.get(prefix)!;
    } else {
      this.u8(ID_PLAIN);
      return this.str(s);
    }
    this.u32(counter);
    if (n === 28) this.u16(index);
  }

  /** A list of ids. */
  ids(list: readonly string[]): void {
    this.u32(list.length);
    for (const s of list) this.id(s);
  }

  /** A frame, or the id of the object that holds one. */
  frame(f: Frame | string): void {
    if (typeof f === "string") {
      this.u8(BY_ID);
      this.id(f);
    } else if (f instanceof Uint8Array) {
      const len = f.byteLength;
      this.#room(5 + len);
      this.#buf[this.#at] = INLINE;
      this.#view.setUint32(this.#at + 1, len, true);
      this.#buf.set(f, this.#at + 5);
      this.#at += 5 + len;
      if (len <= SMALL_FRAME) this.#slabBytes += align8(len);
    } else {
      this.u8(IN_STORE);
      this.f64(f.offset);
      this.f64(f.size);
    }
  }

  #room(n: number): void {
    if (this.#at + n <= this.#buf.byteLength) return;
    const next = new Uint8Array(Math.max(this.#buf.byteLength * 2, this.#at + n));
    next.set(this.#buf.subarray(0, this.#at));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }
}

/**
 * Reads the fields a WireWriter wrote, in the same order; RangeError past
 * the end or on a bad tag. The message may be shared memory: what the
 * reader returns is copied out of it.
 */
export class WireReader {
  readonly #buf: Uint8Array;
  readonly #view: DataView;
  #at = 0;
  readonly #syms: string[] = [];
  #slab: Uint8Array | undefined;
  #slabAt = 0;

  /** @param buf one whole message */
  constructor(buf: Uint8Array) {
    this.#buf = buf;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const slabBytes = this.u32();
    if (slabBytes > buf.byteLength) throw new RangeError("Wire message has a bad frame total");
    if (slabBytes > 0) this.#slab = new Uint8Array(slabBytes);
  }

  /** True when every byte was read. */
  get done(): boolean {
    return this.#at === this.#buf.byteLength;
  }

  /** See WireWriter.u32. */
  u32(): number {
    this.#end(4);
    const n = this.#view.getUint32(this.#at, true);
    this.#at += 4;
    return n;
  }

  /** See WireWriter.u16. */
  u16(): number {
    this.#end(2);
    const n = this.#view.getUint16(this.#at, true);
    this.#at += 2;
    return n;
  }

  /** See WireWriter.u8. */
  u8(): number {
    this.#end(1);
    return this.#buf[this.#at++];
  }

  /** See WireWriter.f64. */
  f64(): number {
    this.#end(8);
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
    let s = "";
    for (let i = start; i < end; i++) {
      const c = this.#buf[i];
      if (c >= 0x80) return s + decoder.decode(this.#buf.slice(i, end));
      s += String.fromCharCode(c);
    }
    return s;
  }

  /** See WireWriter.sym. */
  sym(): string {
    const index = this.u32();
    if (index < this.#syms.length) return this.#syms[index];
    if (index !== this.#syms.length) throw new RangeError(`Wire message has a bad string number`);
    const s = this.str();
    this.#syms.push(s);
    return s;
  }

  /** See WireWriter.id. */
  id(): string {
    const kind = this.u8();
    if (kind === ID_PLAIN) return this.str();
    if (kind !== ID_TASK && kind !== ID_OBJECT) throw new RangeError(`Wire message has a bad id`);
    const prefix = this.sym();
    const task = prefix + this.u32().toString(16).padStart(8, "0");
    return kind === ID_TASK ? task : task + this.u16().toString(16).padStart(4, "0");
  }

  /** See WireWriter.ids. */
  ids(): string[] {
    const n = this.u32();
    this.#end(n);
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.id());
    return out;
  }

  /** See WireWriter.frame: inline frames are copied out, 8-aligned. */
  frame(): Frame | string {
    const tag = this.u8();
    if (tag === BY_ID) return this.id();
    if (tag === IN_STORE) return { offset: this.f64(), size: this.f64() };
    if (tag !== INLINE) throw new RangeError(`Wire message has a bad frame tag ${tag}`);
    const len = this.u32();
    const end = this.#end(len);
    const src = this.#buf.subarray(this.#at, end);
    this.#at = end;
    const shared = len <= SHARED_FRAME ? sharedFrame(src) : undefined;
    if (shared) {
      this.#slabAt += align8(len);
      return shared;
    }
    const slab = this.#slab;
    if (len > SMALL_FRAME || !slab || this.#slabAt + len > slab.byteLength) {
      if (len <= SMALL_FRAME) throw new RangeError("Wire message has a bad frame total");
      const out = new Uint8Array(len);
      out.set(src);
      return out;
    }
    const out = slab.subarray(this.#slabAt, this.#slabAt + len);
    out.set(src);
    this.#slabAt += align8(len);
    return out;
  }

  #end(len: number): number {
    const end = this.#at + len;
    if (end > this.#buf.byteLength) throw new RangeError("Wire message ends early");
    return end;
  }
}
