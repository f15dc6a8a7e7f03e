/**
 * The pulls of one process: each object it waits for is pulled from a
 * holder over a link of its own (borrowed from `Peers`), into a block of
 * the store.
 *
 * @module
 */
import type { ObjectId } from "../common/mod.ts";
import type { ClusterSide } from "../node/mod.ts";
import type { Frame } from "../protocol/mod.ts";
import { fetchObject, type PullMemory, type PullOptions } from "./fetch.ts";
import type { Peers } from "./peers.ts";

/** An object as pulled, ready for `sealFetched`. */
export interface Pulled {
  readonly frame: Frame;
  readonly error: boolean;
  readonly contained: readonly ObjectId[];
  /** Refs inside it that the holder now holds for this process. */
  readonly held: readonly ObjectId[];
}

/** Pulls objects for one process. */
export class Puller {
  readonly #peers: Peers;
  readonly #side: () => ClusterSide;
  readonly #address: string;
  readonly #options: PullOptions;

  /**
   * @param peers the process's links
   * @param side the node (its store)
   * @param address this process's address (the holder holds refs inside pulled objects for it)
   */
  constructor(peers: Peers, side: () => ClusterSide, address: string, options: PullOptions = {}) {
    this.#peers = peers;
    this.#side = side;
    this.#address = address;
    this.#options = options;
  }

  /**
   * Pulls `id` from the process at `holder`.
   * @returns the object, or undefined when `holder` does not have it
   * @throws PullFailed when the link fails or the holder stops answering
   */
  async pull(id: ObjectId, holder: string): Promise<Pulled | undefined> {
    const link = await this.#peers.borrow(holder);
    const arena = this.#side().arena;
    let ok = false;
    try {
      const got = await fetchObject(link, id, this.#address, this.#memory(), this.#options);
      ok = true;
      if (!got) return undefined;
      const frame = got.placed ? arena.locate(got.bytes) ?? got.bytes : got.bytes;
      return { frame, error: got.error, contained: got.contained, held: got.held };
    } finally {
      if (ok) this.#peers.giveBack(holder, link);
      else link.conn.close("pull failed"); // requests may hang on it: not reused
    }
  }

  #memory(): PullMemory {
    const arena = this.#side().arena;
    return {
      now: (size) => arena.tryAlloc(size),
      later: (size) => Promise.resolve(arena.tryAlloc(size) ?? new Uint8Array(size)),
      free(bytes) {
        const loc = arena.locate(bytes);
        if (loc) arena.free(loc);
      },
    };
  }
}
