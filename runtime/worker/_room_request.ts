/**
 * A worker's side of spilling: when an allocation finds the store full, the
 * worker asks the node's main thread to make room ("needSpace") and sleeps
 * on its reply buffer until the node answers, then tries again. Only the
 * main thread spills, so the spill files and the object table stay its own.
 *
 * @module
 */
import { config, objectStoreFull } from "../common/mod.ts";
import { storeReclaimer } from "../core/mod.ts";
import type { SharedArena } from "../object_store/mod.ts";
import { type FromWorker, ROOM_REPLY } from "../protocol/mod.ts";

/**
 * Makes a full `arena.alloc` in this worker ask the node for room. The
 * worker first releases the refs it dropped (`storeReclaimer`), and `flush`
 * sends what it batched: its releases may free enough.
 */
export function askNodeForRoom(
  arena: SharedArena,
  post: (msg: FromWorker) => void,
  flush: () => void,
): void {
  const reply = new SharedArrayBuffer(ROOM_REPLY.bytes);
  const state = new Int32Array(reply, 0, 1);
  const numbers = new Float64Array(reply);
  const pollMs = config("spillWaitPollMs");
  const reclaim = storeReclaimer();
  arena.onFull = (size) => {
    reclaim();
    flush();
    Atomics.store(state, 0, ROOM_REPLY.pending);
    post({ type: "needSpace", size, reply });
    while (Atomics.load(state, 0) === ROOM_REPLY.pending) {
      if (arena.closed) {
        const usage = { asked: size, used: arena.used, capacity: arena.capacity, pinned: 0 };
        throw objectStoreFull(usage, "the node is shutting down");
      }
      Atomics.wait(state, 0, ROOM_REPLY.pending, pollMs);
    }
    if (Atomics.load(state, 0) === ROOM_REPLY.made) return;
    throw objectStoreFull({
      asked: size,
      used: numbers[ROOM_REPLY.used],
      capacity: arena.capacity,
      pinned: numbers[ROOM_REPLY.pinned],
    });
  };
}
