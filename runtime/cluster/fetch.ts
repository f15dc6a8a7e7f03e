/**
 * Objects between processes: pulling one from a peer in 16 MiB `fetch`
 * requests written straight into a block of this process's store (or a heap
 * copy when it is full), and answering a peer's `fetch`.
 *
 * @module
 */
import type { ObjectId } from "../common/mod.ts";
import type { SharedArena } from "../object_store/mod.ts";
import type { Frame } from "../protocol/mod.ts";
import type { FrameRpc, Reply } from "../transport/mod.ts";
import type { ClusterSide } from "../node/mod.ts";
import { type FetchReply, type FetchRequest, MSG } from "./messages.ts";

/** Bytes per fetch request of a big object. */
export const FETCH_CHUNK_BYTES = 16 * 1024 * 1024;
/** Objects at most this big stay inline (not copied into the store). */
const INLINE_MAX = 100 * 1024;

/** An object as pulled. */
export interface Fetched {
  readonly frame: Frame;
  readonly error: boolean;
  readonly contained: readonly ObjectId[];
  /** Refs inside it that the holder now holds for the puller. */
  readonly held: readonly ObjectId[];
}

/**
 * Pulls `id` over `rpc` for the process at `from`.
 *
 * @returns the object, or undefined when the peer does not hold it
 * @throws when the link fails or the object changes size meanwhile (nothing is kept then)
 */
export async function fetchObject(
  rpc: FrameRpc,
  arena: SharedArena,
  id: ObjectId,
  from: string,
): Promise<Fetched | undefined> {
  const first = await rpc.request(MSG.fetch, { id, offset: 0, max: FETCH_CHUNK_BYTES, from });
  const head = first.message as FetchReply;
  if (head.size < 0) return undefined;
  const held = head.held ?? [];
  const { error, contained } = head;
  if (first.body.length === head.size && head.size <= INLINE_MAX) {
    return { frame: first.body.slice(), error, contained, held };
  }
  const dest = arena.tryAlloc(head.size) ?? new Uint8Array(head.size);
  try {
    dest.set(first.body, 0);
    for (let off = first.body.length; off < head.size;) {
      const next = await rpc.request(MSG.fetch, { id, offset: off, max: FETCH_CHUNK_BYTES, from });
      const part = next.message as FetchReply;
      if (part.size !== head.size || next.body.length === 0) {
        throw new Error(`object ${id} changed while it was fetched`);
      }
      dest.set(next.body, off);
      off += next.body.length;
    }
  } catch (err) {
    const loc = arena.locate(dest);
    if (loc) arena.free(loc);
    throw err;
  }
  return { frame: arena.locate(dest) ?? dest, error, contained, held };
}

/**
 * Answers a peer's `fetch` of a piece of an object stored here; on the first
 * piece, `holdFor` holds the refs inside it for the requester.
 */
export async function serveFetch(
  side: ClusterSide,
  holdFor: (requester: string, contained: readonly ObjectId[]) => ObjectId[],
  { id, offset, max, from }: FetchRequest,
): Promise<Reply> {
  const obj = await side.readObject(id);
  if (!obj) return { message: { size: -1, error: false, contained: [] } satisfies FetchReply };
  try {
    const held = offset === 0 ? holdFor(from, obj.contained) : [];
    const end = Math.min(obj.bytes.length, offset + Math.min(max, FETCH_CHUNK_BYTES));
    const message: FetchReply = {
      size: obj.bytes.length,
      error: obj.error,
      contained: obj.contained,
      held,
    };
    return { message, body: obj.bytes.slice(offset, end) };
  } finally {
    obj.done();
  }
}
