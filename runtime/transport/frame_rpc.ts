/**
 * Requests and responses over a FrameConn: each request carries an id, the
 * peer's handler answers with the same id, and a request fails with
 * RequestTimeoutError after its timeout or ConnectionClosedError when the
 * link goes.
 */
import { longTimeout } from "../common/mod.ts";
import { ConnectionClosedError, RemoteRequestError, requestTimedOut } from "./tcp_errors.ts";
import { type Frame, FrameKind } from "./tcp_format.ts";
import type { FrameConn } from "./tcp_frames.ts";

/** Default time a request waits for its response: 30 s. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** What a request handler answers: a message, a body, or both. */
export interface Reply {
  /** Any value runtime/serialization can encode. */
  message?: unknown;
  /** Raw bytes (not copied when large: keep them unchanged until `sent`). */
  body?: Uint8Array;
  /** Called once the reply was handed to the socket, or could not be. */
  sent?: () => void;
}

/** Options of one request. */
export interface RequestOptions {
  /** How long to wait, any value ≥ 0 including ≥ 2^31 and Infinity (default 30 s). */
  timeoutMs?: number;
  /**
   * Where the response's body goes: given its size and the response's
   * decoded message, memory of exactly that size (the body is read into it
   * from the socket), or undefined for fresh memory. When the request
   * settles early (timeout), the body may still be landing in that memory
   * until the connection's `reading` resolves after a close.
   */
  bodyInto?: (bytes: number, message: unknown) => Uint8Array | undefined;
}

/** What to do with incoming frames. */
export interface RpcHandlers {
  /** Gets one-way messages. */
  onMessage?(frame: Frame): void;
  /** Answers requests; a throw (or rejection) reaches the requester as RemoteRequestError. */
  onRequest?(frame: Frame): Reply | Promise<Reply>;
}

interface Pending {
  resolve: (frame: Frame) => void;
  reject: (err: unknown) => void;
  cancelTimer: () => void;
  bodyInto?: RequestOptions["bodyInto"];
}

/**
 * The request/response layer over one connection; it starts the
 * connection's read loop, so make it instead of calling `conn.start`.
 *
 * @example
 * ```ts ignore
 * const rpc = new FrameRpc(conn, { onRequest: (f) => ({ message: (f.message as number) + 1 }) });
 * const answer = await rpc.request(7, 41, undefined, { timeoutMs: 1000 }); // answer.message === 42 from a peer running the same
 * ```
 */
export class FrameRpc {
  #pending = new Map<number, Pending>();
  #nextId = 1;

  /**
   * Starts reading `conn` and routing its frames.
   * @param conn an unstarted connection
   * @param handlers where one-way messages and requests go
   */
  constructor(readonly conn: FrameConn, readonly handlers: RpcHandlers = {}) {
    conn.reader.placeBody = (header, bytes, message) => {
      if (header.kind !== FrameKind.Response) return undefined;
      return this.#pending.get(header.id)?.bodyInto?.(bytes, message);
    };
    conn.start((frame) => this.#route(frame));
    conn.closed.then((err) => {
      for (const p of this.#pending.values()) {
        p.cancelTimer();
        p.reject(err);
      }
      this.#pending.clear();
    });
  }

  /** Requests waiting for their response. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /**
   * Sends a request and waits for the response frame.
   *
   * @param type the application's message type (0–65535); the response carries it too
   * @param message the request's message
   * @param body the request's raw bytes
   * @param options how long to wait, where the response's body goes
   * @returns the response frame
   * @throws RequestTimeoutError, ConnectionClosedError, RemoteRequestError, or what `send` throws
   */
  request(
    type: number,
    message?: unknown,
    body?: Uint8Array,
    options: RequestOptions = {},
  ): Promise<Frame> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const id = this.#takeId();
    const { promise, resolve, reject } = Promise.withResolvers<Frame>();
    if (Number.isNaN(timeoutMs) || timeoutMs < 0) {
      return Promise.reject(
        new RangeError(`Cannot send a request: timeout ${timeoutMs} ms is not a number >= 0`),
      );
    }
    const timer = longTimeout(() => {
      this.#pending.delete(id);
      reject(requestTimedOut(this.conn.peer, type, timeoutMs));
    }, timeoutMs);
    const cancelTimer = () => timer.clear();
    this.#pending.set(id, { resolve, reject, cancelTimer, bodyInto: options.bodyInto });
    this.conn.sendFrame(FrameKind.Request, type, id, message, body).catch((err) => {
      if (this.#pending.delete(id)) {
        cancelTimer();
        reject(err);
      }
    });
    return promise;
  }

  #takeId(): number {
    for (;;) {
      const id = this.#nextId;
      this.#nextId = id === 0xffffffff ? 1 : id + 1;
      if (!this.#pending.has(id)) return id;
    }
  }

  #route(frame: Frame): void {
    switch (frame.kind) {
      case FrameKind.Message:
        this.handlers.onMessage?.(frame);
        return;
      case FrameKind.Request:
        this.#answer(frame);
        return;
      case FrameKind.Response:
      case FrameKind.ErrorResponse: {
        const p = this.#pending.get(frame.id);
        if (!p) return; // timed out already
        this.#pending.delete(frame.id);
        p.cancelTimer();
        if (frame.kind === FrameKind.Response) p.resolve(frame);
        else {
          const m = frame.message as { name?: string; message?: string } | undefined;
          p.reject(
            new RemoteRequestError(
              String(m?.name ?? "Error"),
              `Request of type ${frame.type} failed on ${this.conn.peer}: ${m?.name}: ${m?.message}`,
            ),
          );
        }
        return;
      }
      default:
        throw new TypeError(
          `Cannot route frame: kind ${frame.kind} is not expected after the handshake`,
        );
    }
  }

  async #answer(frame: Frame): Promise<void> {
    let reply: Reply;
    try {
      if (!this.handlers.onRequest) throw new TypeError("this side takes no requests");
      reply = await this.handlers.onRequest(frame);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      await this.conn.sendFrame(FrameKind.ErrorResponse, frame.type, frame.id, {
        name: e.name,
        message: e.message,
      }).catch(() => {});
      return;
    }
    try {
      await this.conn.sendFrame(
        FrameKind.Response,
        frame.type,
        frame.id,
        reply?.message,
        reply?.body,
      );
    } catch (err) {
      // A closed link: the requester learns it from its own side. Anything else (a reply too
      // big for the link, its queue full) is told, or the requester would wait for its timeout.
      if (!(err instanceof ConnectionClosedError)) {
        const e = err as Error;
        await this.conn.sendFrame(FrameKind.ErrorResponse, frame.type, frame.id, {
          name: e.name,
          message: `the reply could not be sent: ${e.message}`,
        }).catch(() => {});
      }
    } finally {
      reply?.sent?.();
    }
  }
}
