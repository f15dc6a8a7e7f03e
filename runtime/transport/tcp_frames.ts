/**
 * One authenticated TCP link between two rayd processes, carrying frames
 * (see tcp_format.ts). Sends are corked: frames sent in the same microtask
 * go out in one socket write, small bodies copied beside their headers and
 * large bodies written from the caller's memory without a copy.
 */
import { encodeFrame } from "../serialization/mod.ts";
import type { FrameReader } from "./_frame_reader.ts";
import {
  connectionClosed,
  ConnectionClosedError,
  frameTooLarge,
  sendQueueFull,
} from "./tcp_errors.ts";
import { type Frame, FRAME_HEADER_BYTES, FrameKind, writeFrameHeader } from "./tcp_format.ts";

/** Size of each cork buffer that small frames are gathered in. */
const CORK_BYTES = 256 * 1024;
/** Bodies at least this big are written from the caller's memory rather than copied. */
const COPY_BODY_MAX = 64 * 1024;
const EMPTY = new Uint8Array(0);

/** Who is at the other end, as the handshake proved. */
export interface PeerInfo {
  /** The peer's role, e.g. `head`, `node`, `driver`. */
  role: string;
  /** The peer's node id. */
  nodeId: string;
  /** The wire protocol version both sides speak. */
  version: number;
}

/** Limits of a connection. */
export interface FrameConnLimits {
  /** Largest frame payload (message + body) sent or accepted. */
  maxFrameBytes: number;
  /** Most bytes queued but not yet written before `send` refuses. */
  maxQueuedBytes: number;
}

/** Frames gathered to go out in one write; settles when all of them are written. */
interface Batch {
  parts: Uint8Array[];
  bytes: number;
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function newBatch(): Batch {
  const { promise, resolve, reject } = Promise.withResolvers<void>();
  promise.catch(() => {}); // fire-and-forget sends learn of the loss through `closed`
  return { parts: [], bytes: 0, promise, resolve, reject };
}

/** An open frame link; made by `dialFrames` or handed out by `listenFrames`. */
export class FrameConn {
  /** Resolves once, with why, when the connection closes (either side, or a failure). */
  readonly closed: Promise<ConnectionClosedError>;
  #closedError: ConnectionClosedError | undefined;
  #resolveClosed: (err: ConnectionClosedError) => void;
  #cork = new Uint8Array(CORK_BYTES);
  #corkStart = 0;
  #corkEnd = 0;
  #open: Batch | undefined;
  #inFlight: Batch | undefined;
  #queuedBytes = 0;
  #flushScheduled = false;
  #writing = false;
  #drainWaiters: (() => void)[] = [];
  #started = false;
  #reading: Promise<void> = Promise.resolve();
  /** Socket writes made so far (each may carry many frames). */
  writes = 0;

  /**
   * Wraps a socket whose handshake is done; use `dialFrames` or `listenFrames`.
   * @param conn the socket
   * @param reader its reader, holding any bytes read past the handshake
   * @param peer `host:port`
   * @param peerInfo what the handshake proved
   * @param limits frame and queue limits
   */
  constructor(
    readonly conn: Deno.TcpConn,
    readonly reader: FrameReader,
    readonly peer: string,
    readonly peerInfo: PeerInfo,
    readonly limits: FrameConnLimits,
  ) {
    const { promise, resolve } = Promise.withResolvers<ConnectionClosedError>();
    this.closed = promise;
    this.#resolveClosed = resolve;
    reader.maxFrameBytes = limits.maxFrameBytes;
  }

  /** True once the connection is closed. */
  get isClosed(): boolean {
    return this.#closedError !== undefined;
  }

  /** Bytes queued and not yet handed to the socket. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /**
   * Starts reading: `onFrame` gets every frame in order. A throw from
   * `onFrame` closes the connection. Frames wait in the socket until this is called.
   *
   * @param onFrame called for each frame
   * @throws TypeError when already started
   */
  start(onFrame: (frame: Frame) => void): void {
    if (this.#started) {
      throw new TypeError(`Cannot start connection to ${this.peer}: already started`);
    }
    this.#started = true;
    this.#reading = this.#readLoop(onFrame).catch((err) => this.#fail(err, "receive failed"));
  }

  /**
   * Resolves once the read loop has stopped (after `closed`, or at once if
   * never started): from then on nothing writes into memory a body placer gave.
   */
  get reading(): Promise<void> {
    return this.#reading;
  }

  /**
   * Sends a one-way message frame.
   *
   * @param type the application's message type (0–65535)
   * @param message any value runtime/serialization can encode, or `undefined` for none
   * @param body raw bytes sent as they are (not copied when large); keep them unchanged until the promise settles
   * @returns resolves when the frame is handed to the socket; rejects with
   *   ConnectionClosedError, FrameTooLargeError or SendQueueFullError
   */
  send(type: number, message?: unknown, body?: Uint8Array): Promise<void> {
    return this.sendFrame(FrameKind.Message, type, 0, message, body);
  }

  /** Sends a frame of any kind (the request helper's door); see `send`. */
  sendFrame(
    kind: FrameKind,
    type: number,
    id: number,
    message?: unknown,
    body: Uint8Array = EMPTY,
  ): Promise<void> {
    if (this.#closedError) return this.#rejected(this.#closedError);
    if (!Number.isInteger(type) || type < 0 || type > 0xffff) {
      return Promise.reject(new RangeError(`Cannot send frame: type ${type} is not in 0..65535`));
    }
    const { maxFrameBytes, maxQueuedBytes } = this.limits;
    if (body.byteLength > maxFrameBytes) {
      return Promise.reject(frameTooLarge(this.peer, "send", body.byteLength, maxFrameBytes));
    }
    this.#reserve(0);
    let messageLength = 0;
    try {
      if (message !== undefined) {
        messageLength = encodeFrame(message, "message", (size) => {
          this.#reserve(size); // may move to a fresh cork buffer: the header moves with it
          return this.#cork.subarray(
            this.#corkEnd + FRAME_HEADER_BYTES,
            this.#corkEnd + FRAME_HEADER_BYTES + size,
          );
        }).byteLength;
      }
    } catch (err) {
      return Promise.reject(err);
    }
    const length = messageLength + body.byteLength;
    if (length > maxFrameBytes) {
      return Promise.reject(frameTooLarge(this.peer, "send", length, maxFrameBytes));
    }
    const bytes = FRAME_HEADER_BYTES + length;
    if (this.#queuedBytes > 0 && this.#queuedBytes + bytes > maxQueuedBytes) {
      return Promise.reject(sendQueueFull(this.peer, this.#queuedBytes, bytes, maxQueuedBytes));
    }
    writeFrameHeader(this.#cork, this.#corkEnd, length, messageLength, kind, type, id);
    this.#corkEnd += FRAME_HEADER_BYTES + messageLength;
    const batch = this.#open ??= newBatch();
    if (body.byteLength > 0 && body.byteLength < COPY_BODY_MAX) {
      this.#reserve(body.byteLength);
      this.#cork.set(body, this.#corkEnd);
      this.#corkEnd += body.byteLength;
    } else if (body.byteLength > 0) {
      this.#seal(batch);
      batch.parts.push(body);
    }
    batch.bytes += bytes;
    this.#queuedBytes += bytes;
    if (!this.#writing && !this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(() => this.#flush());
    }
    return batch.promise;
  }

  /** Resolves when every queued byte has been handed to the socket (or the connection closed). */
  drained(): Promise<void> {
    if (this.#queuedBytes === 0 || this.#closedError) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /**
   * Closes the connection: queued sends reject with ConnectionClosedError,
   * the peer sees the end of the stream, `closed` resolves. Safe to call twice.
   *
   * @param detail why, for the error the pending sends get
   */
  close(detail = "closed by this side"): void {
    this.#fail(undefined, detail);
  }

  /**
   * Makes room for a frame header plus `extra` bytes after `#corkEnd`: when
   * the cork is full its filled region joins the open batch and a new cork
   * buffer starts (the old one lives on in the batch until written).
   */
  #reserve(extra: number): void {
    const need = FRAME_HEADER_BYTES + extra;
    if (this.#corkEnd + need <= this.#cork.byteLength) return;
    if (this.#open) this.#seal(this.#open);
    this.#cork = new Uint8Array(Math.max(CORK_BYTES, need));
    this.#corkStart = this.#corkEnd = 0;
  }

  /** Moves the cork's filled region into `batch` as one part. */
  #seal(batch: Batch): void {
    if (this.#corkEnd > this.#corkStart) {
      batch.parts.push(this.#cork.subarray(this.#corkStart, this.#corkEnd));
      this.#corkStart = this.#corkEnd;
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#writing || this.#closedError) return;
    this.#writing = true;
    this.#pump().catch((err) => this.#fail(err, "write failed"));
  }

  async #pump(): Promise<void> {
    while (this.#open && !this.#closedError) {
      const batch = this.#open;
      this.#open = undefined;
      this.#seal(batch);
      this.#inFlight = batch;
      for (const part of batch.parts) {
        for (let off = 0; off < part.byteLength;) {
          off += await this.conn.write(off === 0 ? part : part.subarray(off));
        }
        this.writes++;
      }
      this.#inFlight = undefined;
      this.#queuedBytes -= batch.bytes;
      batch.resolve();
      if (!this.#open) this.#corkStart = this.#corkEnd = 0; // nothing points into the cork now
    }
    this.#writing = false;
    for (const wake of this.#drainWaiters.splice(0)) wake();
  }

  async #readLoop(onFrame: (frame: Frame) => void): Promise<void> {
    const reader = this.reader;
    while (!this.#closedError) {
      let frame = reader.parseBuffered();
      while (frame !== undefined) {
        onFrame(frame);
        if (this.#closedError) return;
        frame = reader.parseBuffered();
      }
      const next = await reader.next();
      if (next === null) return this.#fail(undefined, "peer closed the connection");
      if (this.#closedError) return;
      onFrame(next);
    }
  }

  #fail(cause: unknown, detail: string): void {
    if (this.#closedError) return;
    const message = cause === undefined
      ? detail
      : `${detail}: ${cause instanceof Error ? cause.message : String(cause)}`;
    const err = cause instanceof ConnectionClosedError
      ? cause
      : connectionClosed(this.peer, message, cause);
    this.#closedError = err;
    this.#inFlight?.reject(err);
    this.#open?.reject(err);
    this.#inFlight = this.#open = undefined;
    this.#queuedBytes = 0;
    try {
      this.conn.close();
    } catch { /* already closed by the runtime */ }
    for (const wake of this.#drainWaiters.splice(0)) wake();
    this.#resolveClosed(err);
  }

  #rejected(err: unknown): Promise<void> {
    const p = Promise.reject(err);
    p.catch(() => {});
    return p;
  }
}
