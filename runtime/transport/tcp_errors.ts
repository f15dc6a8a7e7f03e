/**
 * The errors of the cluster wire (TCP frames between rayd processes) and the
 * factories that build them. Each names the peer's address.
 */
import { RayError } from "../common/mod.ts";

/** The connection is gone: closed by either side, reset, or ended mid-frame. */
export class ConnectionClosedError extends RayError {
  /** The peer's address, `host:port`. */
  readonly peer: string;
  /** True when it closed because the peer broke the wire format (bad header, undecodable message). */
  readonly protocolViolation: boolean;
  /**
   * Creates the error.
   * @param peer `host:port`
   * @param message what happened
   * @param options the cause, and whether the peer broke the wire format
   */
  constructor(
    peer: string,
    message: string,
    options?: ErrorOptions & { protocolViolation?: boolean },
  ) {
    super(message, options);
    this.peer = peer;
    this.protocolViolation = options?.protocolViolation ?? false;
  }
}

/** Why a handshake failed. */
export type HandshakeFailure =
  | "bad-token"
  | "protocol-version"
  | "not-rayd-peer"
  | "timeout"
  | "closed";

/** Two processes could not agree to talk: wrong token, wrong protocol version, or no rayd peer. */
export class HandshakeError extends RayError {
  /** The peer's address, `host:port`. */
  readonly peer: string;
  /** Which check failed. */
  readonly failure: HandshakeFailure;
  /** Creates the error. @param peer `host:port` @param failure which check failed @param message the details */
  constructor(peer: string, failure: HandshakeFailure, message: string, options?: ErrorOptions) {
    super(message, options);
    this.peer = peer;
    this.failure = failure;
  }
}

/** A frame is bigger than the connection's `maxFrameBytes`. */
export class FrameTooLargeError extends RayError {}

/** A send would take the queue of unwritten bytes past `maxQueuedBytes`. */
export class SendQueueFullError extends RayError {}

/** A request got no response within its timeout. */
export class RequestTimeoutError extends RayError {}

/** The peer's handler for a request threw; `remoteName` is the thrown error's name. */
export class RemoteRequestError extends RayError {
  /** Name of the error the peer's handler threw. */
  readonly remoteName: string;
  /** Creates the error. @param remoteName the remote error's name @param message its message */
  constructor(remoteName: string, message: string) {
    super(message);
    this.remoteName = remoteName;
  }
}

/** The connection closed; `detail` says how. */
export function connectionClosed(
  peer: string,
  detail: string,
  cause?: unknown,
): ConnectionClosedError {
  return new ConnectionClosedError(peer, `Connection to ${peer} closed: ${detail}`, { cause });
}

/** The peer broke the wire format; the connection is closed. */
export function wireViolation(
  peer: string,
  detail: string,
  cause?: unknown,
): ConnectionClosedError {
  return new ConnectionClosedError(peer, `Connection to ${peer} closed: ${detail}`, {
    cause,
    protocolViolation: true,
  });
}

/** A handshake check failed. */
export function handshakeFailed(
  peer: string,
  failure: HandshakeFailure,
  detail: string,
  cause?: unknown,
): HandshakeError {
  return new HandshakeError(peer, failure, `Handshake with ${peer} failed: ${detail}`, { cause });
}

/** A frame past the size limit, sent or received. */
export function frameTooLarge(
  peer: string,
  direction: "send" | "receive",
  bytes: number,
  limit: number,
): FrameTooLargeError {
  const verb = direction === "send" ? "Cannot send frame to" : "Cannot receive frame from";
  return new FrameTooLargeError(
    `${verb} ${peer}: ${bytes} bytes is more than maxFrameBytes (${limit})`,
  );
}

/** A send that would overfill the send queue. */
export function sendQueueFull(peer: string, queued: number, bytes: number, limit: number) {
  return new SendQueueFullError(
    `Cannot send frame to ${peer}: ${queued} bytes already queued plus ${bytes} is more than ` +
      `maxQueuedBytes (${limit}); await conn.drained() first`,
  );
}

/** A request that timed out. */
export function requestTimedOut(peer: string, type: number, timeoutMs: number) {
  return new RequestTimeoutError(
    `Request of type ${type} to ${peer} got no response within ${timeoutMs} ms`,
  );
}
