/**
 * Reads frames of the cluster wire from a TCP connection: small frames are
 * cut out of one reusable read buffer, large ones are read straight into
 * their own memory (no copy through the buffer beyond what was already read).
 */
import { decodeFrame } from "../serialization/mod.ts";
import { connectionClosed, frameTooLarge, wireViolation } from "./tcp_errors.ts";
import { type Frame, FRAME_HEADER_BYTES, type FrameKind, isFrameKind } from "./tcp_format.ts";

/** Size of the reusable read buffer; frames larger than this get their own memory. */
const READ_BUFFER_BYTES = 256 * 1024;
const EMPTY = new Uint8Array(0);

/** Gives the memory a large frame's body is read into (e.g. a range of the object store). */
export type BodyAllocator = (bytes: number, type: number) => Uint8Array;

/**
 * Chooses where one frame's body goes, once its header and message are
 * read: memory of exactly `bytes` bytes, or undefined for the default
 * (a large body is then read into the allocator's memory, a small one
 * sliced out of the read buffer). A small body is copied into the memory
 * given; a large one is read into it from the socket.
 */
export type BodyPlacer = (header: FrameHeader, bytes: number, message: unknown) =>
  | Uint8Array
  | undefined;

/** The fields of a frame header a BodyPlacer sees. */
export interface FrameHeader {
  readonly kind: FrameKind;
  readonly type: number;
  readonly id: number;
}

interface Header {
  length: number;
  messageLength: number;
  kind: FrameKind;
  type: number;
  id: number;
}

/** Reads frames from one connection; see the module doc. */
export class FrameReader {
  #buf = new Uint8Array(READ_BUFFER_BYTES);
  #start = 0;
  #end = 0;
  /** Where bodies go when not by default (see BodyPlacer); set by the request layer. */
  placeBody: BodyPlacer | undefined;

  /**
   * Creates the reader.
   * @param conn the socket
   * @param peer `host:port`, for errors
   * @param maxFrameBytes largest frame accepted (payload bytes); may be raised later
   * @param allocateBody memory for the bodies of large frames
   */
  constructor(
    readonly conn: Deno.Conn,
    readonly peer: string,
    public maxFrameBytes: number,
    readonly allocateBody: BodyAllocator = (bytes) => new Uint8Array(bytes),
  ) {}

  /** Reads exactly `n` raw bytes (the preamble), or `null` at end of stream before any. */
  async readRaw(n: number): Promise<Uint8Array | null> {
    while (this.#end - this.#start < n) {
      if (!await this.#fill(n)) {
        if (this.#end === this.#start) return null;
        throw connectionClosed(this.peer, `peer closed after ${this.#end - this.#start} bytes`);
      }
    }
    const out = this.#buf.slice(this.#start, this.#start + n);
    this.#start += n;
    return out;
  }

  /** Reads the next frame, or `null` when the peer closed at a frame boundary. */
  async next(): Promise<Frame | null> {
    for (;;) {
      const frame = this.parseBuffered();
      if (frame !== undefined) return frame;
      const big = this.#largeHeader();
      if (big !== undefined) return await this.#readLarge(big);
      if (!await this.#fill(this.#wanted())) {
        if (this.#end === this.#start) return null;
        throw connectionClosed(
          this.peer,
          `peer closed mid-frame (${this.#end - this.#start} bytes of a frame received)`,
        );
      }
    }
  }

  /**
   * The next frame if it is whole in the buffer and small, else `undefined`;
   * lets the read loop hand out many frames without a promise each.
   */
  parseBuffered(): Frame | undefined {
    if (this.#end - this.#start < FRAME_HEADER_BYTES) return undefined;
    const h = this.#header();
    const at = this.#start + FRAME_HEADER_BYTES;
    if (at + h.length > this.#end || FRAME_HEADER_BYTES + h.length > this.#buf.length) {
      return undefined;
    }
    // A copy: the decoded message may hold views of it.
    const message = h.messageLength > 0 ? this.#buf.slice(at, at + h.messageLength) : EMPTY;
    const value = this.#decode(message);
    const bodyLength = h.length - h.messageLength;
    let body: Uint8Array = EMPTY;
    if (bodyLength > 0) {
      const from = this.#buf.subarray(at + h.messageLength, at + h.length);
      const placed = this.#placed(h, bodyLength, value);
      body = placed ?? from.slice();
      if (placed) placed.set(from);
    }
    this.#start = at + h.length;
    return { kind: h.kind, type: h.type, id: h.id, message: value, body };
  }

  /** The placer's memory for a body, checked. */
  #placed(h: Header, bytes: number, message: unknown): Uint8Array | undefined {
    const placed = this.placeBody?.(h, bytes, message);
    if (placed !== undefined && placed.byteLength !== bytes) {
      throw new RangeError(
        `Cannot read frame body: placer gave ${placed.byteLength} bytes, not ${bytes}`,
      );
    }
    return placed;
  }

  #header(): Header {
    const b = this.#buf;
    const s = this.#start;
    const length = (b[s] | b[s + 1] << 8 | b[s + 2] << 16 | b[s + 3] << 24) >>> 0;
    const messageLength = (b[s + 4] | b[s + 5] << 8 | b[s + 6] << 16 | b[s + 7] << 24) >>> 0;
    const kind = b[s + 8] as FrameKind;
    const type = b[s + 10] | b[s + 11] << 8;
    const id = (b[s + 12] | b[s + 13] << 8 | b[s + 14] << 16 | b[s + 15] << 24) >>> 0;
    if (length > this.maxFrameBytes) {
      const tooLarge = frameTooLarge(this.peer, "receive", length, this.maxFrameBytes);
      throw wireViolation(this.peer, tooLarge.message, tooLarge);
    }
    if (messageLength > length || !isFrameKind(kind) || b[s + 9] !== 0) {
      throw wireViolation(
        this.peer,
        `peer sent a malformed frame header (kind ${kind}, length ${length}, message ${messageLength})`,
      );
    }
    return { length, messageLength, kind, type, id };
  }

  #decode(message: Uint8Array): unknown {
    if (message.byteLength === 0) return undefined;
    try {
      return decodeFrame(message);
    } catch (err) {
      throw wireViolation(this.peer, `peer sent an undecodable message`, err);
    }
  }

  /** The header of a buffered frame too big for the read buffer, if that is what comes next. */
  #largeHeader(): Header | undefined {
    if (this.#end - this.#start < FRAME_HEADER_BYTES) return undefined;
    const h = this.#header();
    return FRAME_HEADER_BYTES + h.length > this.#buf.length ? h : undefined;
  }

  /** Bytes the buffer must hold, counted from `#start`, to parse the next frame. */
  #wanted(): number {
    if (this.#end - this.#start < FRAME_HEADER_BYTES) return FRAME_HEADER_BYTES;
    return FRAME_HEADER_BYTES + this.#header().length;
  }

  async #readLarge(h: Header): Promise<Frame> {
    this.#start += FRAME_HEADER_BYTES;
    const message = new Uint8Array(h.messageLength);
    const bodyLength = h.length - h.messageLength;
    await this.#readInto(message, h.length);
    const value = this.#decode(message);
    const body = bodyLength === 0
      ? EMPTY
      : this.#placed(h, bodyLength, value) ?? this.allocateBody(bodyLength, h.type);
    if (body.byteLength !== bodyLength) {
      throw new RangeError(
        `Cannot read frame body: allocator gave ${body.byteLength} bytes, not ${bodyLength}`,
      );
    }
    await this.#readInto(body, h.length);
    return { kind: h.kind, type: h.type, id: h.id, message: value, body };
  }

  /** Fills `target` from what is buffered, then straight from the socket. */
  async #readInto(target: Uint8Array, frameLength: number): Promise<void> {
    const buffered = Math.min(this.#end - this.#start, target.byteLength);
    target.set(this.#buf.subarray(this.#start, this.#start + buffered));
    this.#start += buffered;
    for (let got = buffered; got < target.byteLength;) {
      const n = await this.#read(target.subarray(got));
      if (n === null) {
        throw connectionClosed(
          this.peer,
          `peer closed mid-frame (frame of ${frameLength} bytes cut short)`,
        );
      }
      got += n;
    }
  }

  /** Reads more into the buffer so that it can hold `wanted` bytes from `#start`; false at EOF. */
  async #fill(wanted: number): Promise<boolean> {
    if (this.#start === this.#end) this.#start = this.#end = 0;
    else if (this.#start + wanted > this.#buf.length) {
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    const n = await this.#read(this.#buf.subarray(this.#end));
    if (n === null) return false;
    this.#end += n;
    return true;
  }

  async #read(into: Uint8Array): Promise<number | null> {
    try {
      return await this.conn.read(into);
    } catch (err) {
      throw connectionClosed(this.peer, `read failed: ${(err as Error).message}`, err);
    }
  }
}
