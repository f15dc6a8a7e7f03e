/**
 * The cluster wire's handshake: preambles (magic + protocol version), then
 * a mutual challenge-response: each side proves it holds the cluster token
 * with an HMAC-SHA256 of both sides' nonces, and tells its role and node id.
 *
 * ```
 * dialer -> listener   preamble, Hello {role, nodeId, nonce}
 * listener -> dialer   preamble, Hello {role, nodeId, nonce, proof = HMAC("rayd listener" + nonceD + nonceL)}
 * dialer -> listener   Auth {proof = HMAC("rayd dialer" + nonceL + nonceD)}
 * listener -> dialer   Welcome {} | Reject {failure}
 * ```
 */
import { encodeFrame, heapAllocator } from "../serialization/mod.ts";
import type { FrameReader } from "./_frame_reader.ts";
import type { PeerInfo } from "./tcp_frames.ts";
import {
  ConnectionClosedError,
  HandshakeError,
  handshakeFailed,
  type HandshakeFailure,
} from "./tcp_errors.ts";
import {
  type Frame,
  FRAME_HEADER_BYTES,
  FrameKind,
  PREAMBLE_BYTES,
  PREAMBLE_MAGIC,
  writeFrameHeader,
} from "./tcp_format.ts";

/** Largest handshake frame accepted, so that garbage cannot make us allocate much. */
export const HANDSHAKE_MAX_FRAME_BYTES = 4096;
const NONCE_BYTES = 32;
const LISTENER_LABEL = new TextEncoder().encode("rayd listener");
const DIALER_LABEL = new TextEncoder().encode("rayd dialer");

/** What this side tells the peer about itself. */
export interface Identity {
  role: string;
  nodeId: string;
  /** The cluster token, imported as an HMAC-SHA256 key. */
  key: CryptoKey;
  /** Protocol version to announce (tests use others). */
  version: number;
}

/** Imports the cluster token as an HMAC-SHA256 key. */
export function importToken(token: string): Promise<CryptoKey> {
  if (typeof token !== "string" || token.length === 0) {
    throw new TypeError("Cannot use cluster token: it must be a non-empty string");
  }
  return crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(token),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

async function prove(key: CryptoKey, ...parts: Uint8Array[]): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, concat(...parts)));
}

function checkProof(key: CryptoKey, proof: unknown, ...parts: Uint8Array[]): Promise<boolean> {
  if (!(proof instanceof Uint8Array)) return Promise.resolve(false);
  return crypto.subtle.verify("HMAC", key, concat(proof), concat(...parts));
}

function preamble(version: number): Uint8Array {
  const out = new Uint8Array(PREAMBLE_BYTES);
  out.set(PREAMBLE_MAGIC);
  new DataView(out.buffer).setUint32(4, version, true);
  return out;
}

function encodeHandshakeFrame(kind: FrameKind, message: unknown): Uint8Array {
  const m = encodeFrame(message, "handshake", heapAllocator);
  const out = new Uint8Array(FRAME_HEADER_BYTES + m.byteLength);
  writeFrameHeader(out, 0, m.byteLength, m.byteLength, kind, 0, 0);
  out.set(m, FRAME_HEADER_BYTES);
  return out;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.byteLength;) off += await conn.write(bytes.subarray(off));
}

/** Reads the peer's preamble and checks magic and version. */
async function readPreamble(reader: FrameReader, mine: number): Promise<void> {
  const got = await reader.readRaw(PREAMBLE_BYTES);
  if (got === null) throw handshakeFailed(reader.peer, "closed", "peer closed before its preamble");
  if (!PREAMBLE_MAGIC.every((b, i) => got[i] === b)) {
    const hex = [...got.subarray(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
    throw handshakeFailed(
      reader.peer,
      "not-rayd-peer",
      `not a rayd peer (first bytes ${hex}, expected the "RAYD" preamble)`,
    );
  }
  const theirs = new DataView(got.buffer).getUint32(4, true);
  if (theirs !== mine) {
    throw handshakeFailed(
      reader.peer,
      "protocol-version",
      `wrong protocol version: peer speaks ${theirs}, this process speaks ${mine}`,
    );
  }
}

/** Reads one handshake frame of `kind` and checks its message has the fields named. */
async function readStep(
  reader: FrameReader,
  kind: FrameKind,
  step: string,
): Promise<Record<string, unknown>> {
  let frame: Frame | null;
  try {
    frame = await reader.next();
  } catch (err) {
    if (err instanceof HandshakeError) throw err;
    const failure: HandshakeFailure = err instanceof ConnectionClosedError && !err.protocolViolation
      ? "closed"
      : "not-rayd-peer";
    throw handshakeFailed(reader.peer, failure, `bad ${step}: ${(err as Error).message}`, err);
  }
  if (frame === null) {
    throw handshakeFailed(reader.peer, "closed", `peer closed before its ${step}`);
  }
  const m = frame.message as Record<string, unknown> | undefined;
  if (frame.kind === FrameKind.Reject && m?.failure === "bad-token") {
    throw handshakeFailed(reader.peer, "bad-token", `peer refused us: ${m.detail ?? m.failure}`);
  }
  if (frame.kind !== kind || typeof m !== "object" || m === null) {
    throw handshakeFailed(
      reader.peer,
      "not-rayd-peer",
      `expected its ${step}, got frame kind ${frame.kind}`,
    );
  }
  return m;
}

function peerHello(reader: FrameReader, m: Record<string, unknown>, version: number): PeerInfo {
  const { role, nodeId, nonce } = m;
  if (
    typeof role !== "string" || typeof nodeId !== "string" || !(nonce instanceof Uint8Array) ||
    nonce.byteLength !== NONCE_BYTES
  ) {
    throw handshakeFailed(reader.peer, "not-rayd-peer", "its hello lacks role, nodeId or nonce");
  }
  return { role, nodeId, version };
}

/** Runs the dialer's side; returns who the listener is. */
export async function dialerHandshake(
  conn: Deno.Conn,
  reader: FrameReader,
  me: Identity,
): Promise<PeerInfo> {
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const hello = { role: me.role, nodeId: me.nodeId, nonce };
  await writeAll(conn, concat(preamble(me.version), encodeHandshakeFrame(FrameKind.Hello, hello)));
  await readPreamble(reader, me.version);
  const reply = await readStep(reader, FrameKind.Hello, "hello");
  const peer = peerHello(reader, reply, me.version);
  const theirNonce = reply.nonce as Uint8Array;
  if (!await checkProof(me.key, reply.proof, LISTENER_LABEL, nonce, theirNonce)) {
    const detail = "bad token: the listener's proof does not match our cluster token";
    await writeAll(conn, encodeHandshakeFrame(FrameKind.Reject, { failure: "bad-token", detail }))
      .catch(() => {});
    throw handshakeFailed(reader.peer, "bad-token", detail);
  }
  const proof = await prove(me.key, DIALER_LABEL, theirNonce, nonce);
  await writeAll(conn, encodeHandshakeFrame(FrameKind.Auth, { proof }));
  await readStep(reader, FrameKind.Welcome, "welcome");
  return peer;
}

/** Runs the listener's side; returns who the dialer is. */
export async function listenerHandshake(
  conn: Deno.Conn,
  reader: FrameReader,
  me: Identity,
): Promise<PeerInfo> {
  try {
    await readPreamble(reader, me.version);
  } catch (err) {
    // A rayd peer of another version learns ours from our preamble; others get nothing.
    if ((err as HandshakeError).failure === "protocol-version") {
      await writeAll(conn, preamble(me.version)).catch(() => {});
    }
    throw err;
  }
  const hello = await readStep(reader, FrameKind.Hello, "hello");
  const peer = peerHello(reader, hello, me.version);
  const theirNonce = hello.nonce as Uint8Array;
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const proof = await prove(me.key, LISTENER_LABEL, theirNonce, nonce);
  const reply = { role: me.role, nodeId: me.nodeId, nonce, proof };
  await writeAll(conn, concat(preamble(me.version), encodeHandshakeFrame(FrameKind.Hello, reply)));
  const auth = await readStep(reader, FrameKind.Auth, "auth");
  if (!await checkProof(me.key, auth.proof, DIALER_LABEL, nonce, theirNonce)) {
    const detail = "bad token: the dialer's proof does not match our cluster token";
    await writeAll(conn, encodeHandshakeFrame(FrameKind.Reject, { failure: "bad-token", detail }))
      .catch(() => {});
    throw handshakeFailed(reader.peer, "bad-token", detail);
  }
  await writeAll(conn, encodeHandshakeFrame(FrameKind.Welcome, {}));
  return peer;
}
