/**
 * The allocator's invariant walk, for tests and debugging.
 *
 * @module
 */
import {
  binOf,
  BINS,
  BITMAP,
  EDGE_TAG,
  END,
  FIRST,
  FREE_BLOCKS,
  FREE_UNITS,
  HEADS,
  TAG_MAGIC,
  UNIT,
  USED,
  USED_BLOCKS,
  USED_UNITS,
  W,
} from "./_heap_layout.ts";

/**
 * Walks the heap in `w` (a view of the whole buffer, taken under the lock)
 * and checks every invariant: tags match, blocks tile the heap, no two free
 * blocks touch, every free block is in the list of its class and nothing
 * else is, bitmap and counters agree.
 * @throws Error naming the first broken invariant
 */
export function checkHeap(w: Int32Array, byteLength: number): void {
  const fail = (what: string): never => {
    throw new Error(`Allocator heap is corrupt: ${what}`);
  };
  const end = w[END];
  if (end < FIRST || end * UNIT > byteLength) fail(`heap end ${end * UNIT} is invalid`);
  if (w[FIRST * W - 3] !== EDGE_TAG) fail("the prologue tag was overwritten");
  if (w[end * W - 1] !== EDGE_TAG || w[end * W - 2] !== 0) fail("the epilogue was overwritten");
  const free = new Set<number>();
  let usedUnits = 0;
  let usedBlocks = 0;
  let prevFree = false;
  let p = FIRST;
  while (p < end) {
    const size = w[p * W - 2];
    const tag = w[p * W - 1];
    const at = `block at ${p * UNIT}`;
    if (tag >>> 7 !== TAG_MAGIC) fail(`${at} has a bad header tag`);
    if (size < 1 || p + size > end) fail(`${at} has size ${size} units past the heap end`);
    const foot = (p + size) * W;
    if (w[foot - 4] !== size || (w[foot - 3] & USED) !== (tag & USED)) {
      fail(`${at} has a footer that does not match its header`);
    }
    if (tag & USED) {
      usedUnits += size;
      usedBlocks++;
      prevFree = false;
    } else {
      if (prevFree) fail(`${at} is free next to a free block`);
      free.add(p);
      prevFree = true;
    }
    p += size;
  }
  if (p !== end) fail(`blocks end at ${p * UNIT}, not at the heap end ${end * UNIT}`);
  let freeUnits = 0;
  let listed = 0;
  for (let b = 0; b < BINS; b++) {
    const head = w[HEADS + b];
    const bit = (w[BITMAP + (b >>> 5)] >>> (b & 31)) & 1;
    if (bit !== (head === 0 ? 0 : 1)) fail(`bitmap bit ${b} disagrees with its list`);
    let prev = 0;
    for (let q = head; q !== 0; prev = q, q = w[q * W]) {
      if (!free.delete(q)) fail(`class ${b} lists ${q * UNIT}, which is not a free block`);
      if (w[q * W + 1] !== prev) fail(`block at ${q * UNIT} has a wrong back link`);
      if (binOf(w[q * W - 2]) !== b) fail(`block at ${q * UNIT} is in the wrong class ${b}`);
      freeUnits += w[q * W - 2];
      listed++;
    }
  }
  if (free.size > 0) fail(`${free.size} free blocks are in no list`);
  if (
    w[USED_UNITS] !== usedUnits || w[USED_BLOCKS] !== usedBlocks ||
    w[FREE_UNITS] !== freeUnits || w[FREE_BLOCKS] !== listed
  ) fail("the counters disagree with the blocks");
}
