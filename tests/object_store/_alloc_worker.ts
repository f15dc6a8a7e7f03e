/**
 * Test fixture: maps the arena it is sent, waits on a shared start flag so
 * that every worker allocates at once, fills each allocation with its own
 * pattern and posts back where the allocations are.
 *
 * @module
 */
import { type ArenaHandle, SharedArena, type StoreLoc } from "../../runtime/object_store/mod.ts";

/** What the test sends. */
export interface AllocRequest {
  readonly handle: ArenaHandle;
  readonly start: Int32Array;
  readonly workerIndex: number;
  readonly count: number;
}

/** What the worker sends back. */
export type AllocReply =
  | { readonly type: "ready" }
  | { readonly type: "done"; readonly locs: StoreLoc[] }
  | { readonly type: "failed"; readonly message: string };

/** Size of allocation `i`: varied, and not always a multiple of 8. */
export function allocSize(i: number): number {
  return 1 + (i * 37) % 300;
}

/** The byte worker `workerIndex` writes into its allocation `i`. */
export function patternByte(workerIndex: number, i: number): number {
  return (workerIndex * 128 + i % 127 + 1) & 0xff;
}

const scope = self as unknown as {
  postMessage(msg: AllocReply): void;
  onmessage: ((e: MessageEvent<AllocRequest>) => void) | null;
};

scope.onmessage = (e: MessageEvent<AllocRequest>) => {
  const { handle, start, workerIndex, count } = e.data;
  try {
    const arena = new SharedArena(handle);
    scope.postMessage({ type: "ready" });
    Atomics.wait(start, 0, 0);
    const locs: StoreLoc[] = [];
    for (let i = 0; i < count; i++) {
      const view = arena.alloc(allocSize(i));
      view.fill(patternByte(workerIndex, i));
      locs.push(arena.locate(view)!);
    }
    scope.postMessage({ type: "done", locs });
  } catch (err) {
    scope.postMessage({ type: "failed", message: String((err as Error)?.stack ?? err) });
  }
};
