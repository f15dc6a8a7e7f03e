/**
 * Test fixture: maps the allocator it is sent, waits on a shared start flag
 * so every thread begins at once, then allocates and frees at random,
 * writing each block's pattern and checking it before freeing. Posts back
 * the blocks it still holds.
 *
 * @module
 */
import { Allocator } from "../../runtime/object_store/mod.ts";
import {
  type LiveBlock,
  mulberry32,
  patternIntact,
  randomSize,
  writePattern,
} from "./_heap_model.ts";

/** What the test sends. */
export interface WorkerRequest {
  readonly sab: SharedArrayBuffer;
  readonly start: Int32Array;
  readonly id: number;
  readonly ops: number;
}

/** What the worker sends back. */
export type WorkerReply =
  | { readonly type: "ready" }
  | { readonly type: "done"; readonly live: LiveBlock[]; readonly full: number }
  | { readonly type: "failed"; readonly message: string };

/**
 * Runs `ops` random steps against `heap`, stamping blocks `id * 1e6 + n`.
 * Returns the blocks still held and how many allocations found the heap full.
 * @throws Error when a block's pattern was damaged before it was freed
 */
export function churn(
  heap: Allocator,
  id: number,
  ops: number,
): { live: LiveBlock[]; full: number } {
  const rnd = mulberry32(id * 7919 + 1);
  const live: LiveBlock[] = [];
  let full = 0;
  for (let n = 0; n < ops; n++) {
    if (live.length === 0 || rnd() < 0.55) {
      const size = randomSize(rnd);
      const offset = heap.tryAlloc(size);
      if (offset < 0) {
        full++;
        continue;
      }
      const block = { offset, size, stamp: id * 1e6 + n };
      writePattern(heap.sab, block);
      live.push(block);
    } else {
      const i = Math.floor(rnd() * live.length);
      const block = live[i];
      if (!patternIntact(heap.sab, block)) {
        throw new Error(`Thread ${id}: block at ${block.offset} (+${block.size}) was overwritten`);
      }
      live[i] = live[live.length - 1];
      live.pop();
      heap.free(block.offset);
    }
    if (n % 500 === 499) heap.check();
  }
  return { live, full };
}

const scope = self as unknown as {
  postMessage(msg: WorkerReply): void;
  onmessage: ((e: MessageEvent<WorkerRequest>) => void) | null;
};

if (import.meta.main) {
  scope.onmessage = (e: MessageEvent<WorkerRequest>) => {
    const { sab, start, id, ops } = e.data;
    try {
      const heap = new Allocator(sab);
      scope.postMessage({ type: "ready" });
      Atomics.wait(start, 0, 0);
      scope.postMessage({ type: "done", ...churn(heap, id, ops) });
    } catch (err) {
      scope.postMessage({ type: "failed", message: String((err as Error)?.stack ?? err) });
    }
  };
}
