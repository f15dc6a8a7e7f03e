/**
 * Opening frame links between rayd processes: `listenFrames` accepts and
 * authenticates connections, `dialFrames` makes one. Both run the handshake
 * of _handshake.ts under the cluster token before handing out a FrameConn.
 */
import { longTimeout } from "../common/mod.ts";
import { FrameReader } from "./_frame_reader.ts";
import type { BodyAllocator } from "./_frame_reader.ts";
import {
  dialerHandshake,
  HANDSHAKE_MAX_FRAME_BYTES,
  type Identity,
  importToken,
  listenerHandshake,
} from "./_handshake.ts";
import { connectionClosed, HandshakeError, handshakeFailed } from "./tcp_errors.ts";
import { FrameConn } from "./tcp_frames.ts";
import { PROTOCOL_VERSION } from "./tcp_format.ts";

/** Default largest frame payload: 1 GiB. */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024 * 1024;
/** Default most bytes queued unwritten per connection: 256 MiB. */
export const DEFAULT_MAX_QUEUED_BYTES = 256 * 1024 * 1024;
/** Default time a handshake may take. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** What both ends of a link are configured with. */
export interface LinkOptions {
  /** Host to bind (listen) or reach (dial). */
  hostname: string;
  /** Port to bind (0: any free) or reach. */
  port: number;
  /** The cluster token both sides must hold. */
  token: string;
  /** This process's role, told to the peer (default `node`). */
  role?: string;
  /** This process's node id, told to the peer (default empty). */
  nodeId?: string;
  /** Largest frame payload sent or accepted (default 1 GiB). */
  maxFrameBytes?: number;
  /** Most bytes queued unwritten before `send` refuses (default 256 MiB). */
  maxQueuedBytes?: number;
  /** Time the handshake may take (default 10 s). */
  handshakeTimeoutMs?: number;
  /** Memory for the bodies of large received frames (default: a fresh Uint8Array). */
  allocateBody?: BodyAllocator;
  /** Protocol version to announce; only tests set it. */
  protocolVersion?: number;
}

/** How to listen. */
export interface ListenFramesOptions extends LinkOptions {
  /** Gets each connection that passed the handshake; call `conn.start` to read. */
  onConnection(conn: FrameConn): void;
  /** Neither the listener nor its connections keep the process alive (a driver's). */
  unref?: boolean;
  /** Gets each connection that failed the handshake (default: `console.warn`). */
  onRejected?(error: HandshakeError): void;
}

/** A listening socket handing out authenticated connections. */
export interface FrameListener {
  /** The bound address (the real port when 0 was asked). */
  readonly addr: { hostname: string; port: number };
  /** Stops accepting and drops connections still in their handshake. */
  close(): void;
  /** Resolves when the accept loop has ended. */
  readonly closed: Promise<void>;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!(v > 0)) throw new RangeError(`Cannot open frame link: ${name} must be > 0, got ${v}`);
  return v;
}

function peerOf(conn: Deno.TcpConn): string {
  return `${conn.remoteAddr.hostname}:${conn.remoteAddr.port}`;
}

/** Runs `handshake` under the timeout, then wraps the socket; closes it on any failure. */
async function establish(
  conn: Deno.TcpConn,
  options: LinkOptions,
  key: CryptoKey,
  side: "dialer" | "listener",
): Promise<FrameConn> {
  const peer = peerOf(conn);
  const limits = {
    maxFrameBytes: positive("maxFrameBytes", options.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES),
    maxQueuedBytes: positive("maxQueuedBytes", options.maxQueuedBytes, DEFAULT_MAX_QUEUED_BYTES),
  };
  const timeoutMs = positive(
    "handshakeTimeoutMs",
    options.handshakeTimeoutMs,
    DEFAULT_HANDSHAKE_TIMEOUT_MS,
  );
  const reader = new FrameReader(conn, peer, HANDSHAKE_MAX_FRAME_BYTES, options.allocateBody);
  const me: Identity = {
    role: options.role ?? "node",
    nodeId: options.nodeId ?? "",
    key,
    version: options.protocolVersion ?? PROTOCOL_VERSION,
  };
  let timedOut = false;
  const timer = longTimeout(() => {
    timedOut = true;
    conn.close();
  }, timeoutMs);
  try {
    conn.setNoDelay(true);
    const info = side === "dialer"
      ? await dialerHandshake(conn, reader, me)
      : await listenerHandshake(conn, reader, me);
    return new FrameConn(conn, reader, peer, info, limits);
  } catch (err) {
    if (!timedOut) {
      try {
        conn.close();
      } catch { /* closed already */ }
    }
    if (timedOut) {
      throw handshakeFailed(peer, "timeout", `no handshake within ${timeoutMs} ms`, err);
    }
    if (err instanceof HandshakeError) throw err;
    throw handshakeFailed(peer, "closed", (err as Error).message, err);
  } finally {
    timer.clear();
  }
}

/**
 * Listens for frame links: each accepted connection runs the handshake
 * (bad token, wrong version, garbage, or a stall past the timeout are
 * rejected and reported to `onRejected`; the listener stays up).
 *
 * @param options address, cluster token, identity, limits and callbacks
 * @returns the listener
 * @throws TypeError for an empty token; RangeError for bad limits; Deno's error when the port is taken
 * @example
 * ```ts ignore
 * const listener = await listenFrames({
 *   hostname: "127.0.0.1", port: 0, token: "secret", role: "head",
 *   onConnection: (conn) => conn.start((frame) => console.log(frame.type, frame.message)),
 * });
 * ```
 */
export async function listenFrames(options: ListenFramesOptions): Promise<FrameListener> {
  const key = await importToken(options.token);
  positive("maxFrameBytes", options.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES);
  positive("maxQueuedBytes", options.maxQueuedBytes, DEFAULT_MAX_QUEUED_BYTES);
  const listener = Deno.listen({ hostname: options.hostname, port: options.port });
  if (options.unref) listener.unref();
  const pending = new Set<Deno.TcpConn>();
  const onRejected = options.onRejected ?? ((err) => console.warn(`rayd: ${err.message}`));
  let closing = false;
  const accept = async () => {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (err) {
        if (closing || err instanceof Deno.errors.BadResource) return;
        console.warn(`rayd: accept failed on ${options.hostname}:${addr.port}: ${err}`);
        continue;
      }
      if (options.unref) conn.unref();
      pending.add(conn);
      establish(conn, options, key, "listener").then(
        (link) => {
          pending.delete(conn);
          if (closing) return link.close("listener closed");
          try {
            options.onConnection(link);
          } catch (err) {
            link.close(`onConnection threw: ${err}`);
            console.warn(`rayd: onConnection threw for ${link.peer}: ${err}`);
          }
        },
        (err) => {
          pending.delete(conn);
          if (closing) return;
          try {
            onRejected(err as HandshakeError);
          } catch (thrown) {
            console.warn(`rayd: onRejected threw: ${thrown}`);
          }
        },
      );
    }
  };
  const addr = listener.addr as Deno.NetAddr;
  const closed = accept();
  return {
    addr: { hostname: addr.hostname, port: addr.port },
    closed,
    close() {
      if (closing) return;
      closing = true;
      listener.close();
      for (const conn of pending) {
        try {
          conn.close();
        } catch { /* closed already */ }
      }
    },
  };
}

/**
 * Connects to a frame listener and runs the handshake.
 *
 * @param options address, cluster token, identity and limits
 * @returns the authenticated connection; call `start` to read from it
 * @throws ConnectionClosedError when the address cannot be reached;
 *   HandshakeError naming the cause (bad token, protocol version, not a rayd peer, timeout)
 * @example
 * ```ts ignore
 * const conn = await dialFrames({ hostname: "127.0.0.1", port: 6380, token: "secret", role: "node" });
 * await conn.send(1, { hello: "head" });
 * ```
 */
export async function dialFrames(options: LinkOptions): Promise<FrameConn> {
  const key = await importToken(options.token);
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: options.hostname, port: options.port });
  } catch (err) {
    const peer = `${options.hostname}:${options.port}`;
    throw connectionClosed(peer, `cannot connect: ${(err as Error).message}`, err);
  }
  return await establish(conn, options, key, "dialer");
}
