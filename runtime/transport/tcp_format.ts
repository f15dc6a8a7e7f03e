/**
 * The cluster wire's frame layout (see docs/ARCHITECTURE.md, "Cluster wire"):
 *
 * ```
 * 0  u32 payload length (message + body)    4  u32 message length
 * 8  u8  kind    9  u8 0    10 u16 type      12 u32 request id (0: none)
 * 16 message: a serialization frame (msgpack header + out-of-band buffers)
 * .. body: raw bytes
 * ```
 *
 * All integers little-endian. Before the first frame each side sends the
 * 8-byte preamble `RAYD` + u32 protocol version.
 */

/** Bytes of a frame header. */
export const FRAME_HEADER_BYTES = 16;

/** Version of the wire protocol this code speaks. */
export const PROTOCOL_VERSION = 1;

/** The 4 bytes that open every rayd connection, before the version. */
export const PREAMBLE_MAGIC = new Uint8Array([0x52, 0x41, 0x59, 0x44]); // "RAYD"

/** Bytes of the preamble: magic + u32 version. */
export const PREAMBLE_BYTES = 8;

/** What a frame is for. */
export const FrameKind = {
  /** Handshake: role, node id, nonce (and, from the listener, its proof). */
  Hello: 1,
  /** Handshake: the dialer's proof. */
  Auth: 2,
  /** Handshake: the listener accepts. */
  Welcome: 3,
  /** Handshake: the listener refuses; the message says why. */
  Reject: 4,
  /** A one-way message. */
  Message: 16,
  /** A request; the peer answers with the same id. */
  Request: 17,
  /** The answer to a request. */
  Response: 18,
  /** The peer's handler for a request threw; the message holds its name and message. */
  ErrorResponse: 19,
} as const;

/** One of the FrameKind values. */
export type FrameKind = typeof FrameKind[keyof typeof FrameKind];

const KINDS = new Set<number>(Object.values(FrameKind));

/** True when `kind` is a known frame kind. */
export function isFrameKind(kind: number): kind is FrameKind {
  return KINDS.has(kind);
}

/** One received frame. */
export interface Frame {
  /** What the frame is for. */
  kind: FrameKind;
  /** The application's message type (0–65535). */
  type: number;
  /** Request id tying a response to its request; 0 for one-way messages. */
  id: number;
  /** The decoded message, `undefined` when the frame carried none. */
  message: unknown;
  /** The raw body, empty when the frame carried none; memory of its own. */
  body: Uint8Array;
}

/** Writes a frame header into `into` at `at`. */
export function writeFrameHeader(
  into: Uint8Array,
  at: number,
  length: number,
  messageLength: number,
  kind: FrameKind,
  type: number,
  id: number,
): void {
  const dv = new DataView(into.buffer, into.byteOffset + at, FRAME_HEADER_BYTES);
  dv.setUint32(0, length, true);
  dv.setUint32(4, messageLength, true);
  dv.setUint8(8, kind);
  dv.setUint8(9, 0);
  dv.setUint16(10, type, true);
  dv.setUint32(12, id, true);
}
