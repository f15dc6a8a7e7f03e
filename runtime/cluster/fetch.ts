/**
 * Objects between processes, on the wire: pulling one from a peer in
 * chunks, several in flight, each chunk's body read from the socket
 * straight into its place in the destination (a block of this process's
 * store); and answering a peer's `fetch` from the store's own bytes (the
 * reply's body is a view of the object, written to the socket as it is).
 *
 * @module
 */
import type { ObjectId } from "../common/mod.ts";
import type { FrameRpc, Reply } from "../transport/mod.ts";
import type { ClusterSide } from "../node/mod.ts";
import { type FetchReply, type FetchRequest, MSG } from "./messages.ts";

/** Bytes per chunk of a pull (chosen by measurement: docs/BENCHMARKS.md, "Pull chunk size"). */
export const PULL_CHUNK_BYTES = 8 * 1024 * 1024;
/** Chunk requests a pull keeps in flight. */
export const PULL_IN_FLIGHT = 4;
/** The most bytes a pull asks for at once. */
const PULL_WINDOW_MAX = 64 * 1024 * 1024;
/** The most bytes a holder sends in one reply, whatever the puller asks. */
const SERVE_CHUNK_MAX = 64 * 1024 * 1024;
/** Objects at most this big stay inline (not copied into the store). */
export const INLINE_MAX = 100 * 1024;

/** An object as pulled. */
export interface Fetched {
  /** Its bytes: the memory `PullMemory` gave (store), or a small inline copy. */
  readonly bytes: Uint8Array;
  /** True when `bytes` came from `PullMemory` (it owns them now), false for an inline copy. */
  readonly placed: boolean;
  readonly error: boolean;
  readonly contained: readonly ObjectId[];
  /** Refs inside it that the holder now holds for the puller. */
  readonly held: readonly ObjectId[];
}

/** Where a pulled object goes. */
export interface PullMemory {
  /** Memory for `size` bytes now, or undefined when it cannot be had at once. */
  now(size: number): Uint8Array | undefined;
  /** Memory for `size` bytes once there is room (rejects when there never will be). */
  later(size: number): Promise<Uint8Array>;
  /** Gives back memory of a pull that failed. */
  free(bytes: Uint8Array): void;
}

/** How a pull is made. */
export interface PullOptions {
  /** Bytes per chunk request. */
  readonly chunkBytes?: number;
  /** Chunk requests in flight at once. */
  readonly inFlight?: number;
  /** Each request fails after this long (the holder stopped answering). */
  readonly requestTimeoutMs?: number;
}

/** Thrown when a pull fails (the link it used may be closed for it). */
export class PullFailed extends Error {
  /** Refs inside the object the holder held for the puller before the pull failed: to release. */
  held: readonly ObjectId[] = [];

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PullFailed";
  }
}

/**
 * Pulls `id` over `rpc` (a link to a holder) for the process at `from`.
 * When it fails after a chunk began landing in the destination, the link is
 * closed and the memory freed only once nothing reads into it any more.
 *
 * @returns the object, or undefined when the peer does not hold it
 * @throws PullFailed when the link fails, a request times out, or the object changes size
 */
export async function fetchObject(
  rpc: FrameRpc,
  id: ObjectId,
  from: string,
  memory: PullMemory,
  options: PullOptions = {},
): Promise<Fetched | undefined> {
  const chunk = options.chunkBytes ?? PULL_CHUNK_BYTES;
  // At most PULL_WINDOW_MAX bytes asked for at once (the holder's send queue is bounded).
  const inFlight = Math.max(
    1,
    Math.min(options.inFlight ?? PULL_IN_FLIGHT, Math.floor(PULL_WINDOW_MAX / chunk)),
  );
  const timeoutMs = options.requestTimeoutMs;
  let size = -1;
  let held: readonly ObjectId[] = [];
  let dest: Uint8Array | undefined;
  let aborted = false;
  /** Requests whose body began landing in `dest` and was not read whole. */
  let landing = 0;
  const ask = (offset: number, max: number, onHead?: (reply: FetchReply) => void) => {
    let claimed = false;
    const reply = rpc.request(
      MSG.fetch,
      { id, offset, max, from } satisfies FetchRequest,
      undefined,
      {
        timeoutMs,
        bodyInto: (bytes, message) => {
          onHead?.(message as FetchReply);
          const m = message as FetchReply;
          if (aborted || !dest || m.size !== size || offset + bytes > size) return undefined;
          claimed = true;
          landing++;
          return dest.subarray(offset, offset + bytes);
        },
      },
    );
    return reply.then((frame) => {
      if (claimed) landing--;
      return frame;
    });
  };
  let next = 0;
  let lanes: Promise<void> | undefined;
  const lane = async (): Promise<void> => {
    while (!aborted && next < size) {
      const offset = next;
      const want = Math.min(chunk, size - offset);
      next += want;
      const got = await ask(offset, want);
      const m = got.message as FetchReply;
      const body = got.body;
      if (
        m.size !== size || body.byteLength !== want || body.buffer !== dest!.buffer ||
        body.byteOffset !== dest!.byteOffset + offset
      ) {
        throw new PullFailed(`object ${id} changed while it was pulled`);
      }
    }
  };
  const startLanes = () => {
    lanes = Promise.all(Array.from({ length: inFlight }, lane)).then(() => {});
    lanes.catch(() => {});
  };
  try {
    const first = await ask(0, chunk, (head) => {
      if (size >= 0) return;
      size = head.size;
      if (size <= INLINE_MAX) return;
      dest = memory.now(size);
      if (!dest) return;
      next = Math.min(chunk, size);
      startLanes(); // the other chunks are asked for while the first one lands
    });
    const head = first.message as FetchReply;
    if (head.size < 0) return undefined;
    size = head.size;
    held = head.held ?? [];
    const { error, contained } = head;
    if (head.size <= INLINE_MAX) {
      if (first.body.byteLength !== head.size) {
        throw new PullFailed(`object ${id} changed while it was pulled`);
      }
      return { bytes: first.body, placed: false, error, contained, held };
    }
    if (!dest) {
      dest = await memory.later(size);
      dest.set(first.body, 0);
      next = first.body.byteLength;
      startLanes();
    } else if (first.body.buffer !== dest.buffer || first.body.byteOffset !== dest.byteOffset) {
      throw new PullFailed(`object ${id} changed while it was pulled`);
    }
    await lanes;
    return { bytes: dest, placed: true, error, contained, held };
  } catch (err) {
    aborted = true;
    if (dest) {
      if (landing > 0) {
        // A body is still being read into `dest`: stop that before the memory goes back.
        rpc.conn.close(`pull of ${id} abandoned`);
        await rpc.conn.reading;
      }
      memory.free(dest);
    }
    const failed = err instanceof PullFailed
      ? err
      : new PullFailed(`pull of ${id} failed: ${(err as Error).message}`, { cause: err });
    failed.held = held;
    throw failed;
  }
}

/**
 * Answers a peer's `fetch` of a piece of an object stored here, with a view
 * of the stored bytes as the body (the object stays pinned until the reply
 * is written), or the piece read from disk when the object is spilled; on
 * the first piece, `holdFor` holds the refs inside it for the requester.
 */
export async function serveFetch(
  side: ClusterSide,
  holdFor: (requester: string, contained: readonly ObjectId[]) => ObjectId[],
  { id, offset, max, from }: FetchRequest,
): Promise<Reply> {
  const spilled = side.readSpilled(id, offset, Math.min(max, SERVE_CHUNK_MAX));
  if (spilled) {
    // On disk: the chunk read from its file, not the whole object restored into the store.
    const { size, error, contained, bytes } = spilled;
    const held = offset === 0 ? holdFor(from, contained) : [];
    return { message: { size, error, contained, held } satisfies FetchReply, body: bytes };
  }
  const obj = await side.readObject(id);
  if (!obj) return { message: { size: -1, error: false, contained: [] } satisfies FetchReply };
  try {
    const held = offset === 0 ? holdFor(from, obj.contained) : [];
    const start = Math.min(offset, obj.bytes.length);
    const end = Math.min(obj.bytes.length, start + Math.min(max, SERVE_CHUNK_MAX));
    const message: FetchReply = {
      size: obj.bytes.length,
      error: obj.error,
      contained: obj.contained,
      held,
    };
    return { message, body: obj.bytes.subarray(start, end), sent: () => obj.done() };
  } catch (err) {
    obj.done();
    throw err;
  }
}
