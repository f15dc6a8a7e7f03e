import assert from "node:assert/strict";
import { ObjectStoreFullError } from "../../runtime/common/mod.ts";
import { Allocator, FRESH, SharedArena } from "../../runtime/object_store/mod.ts";
import { churn, type WorkerReply, type WorkerRequest } from "./_allocator_worker.ts";
import {
  findOverlap,
  type LiveBlock,
  mulberry32,
  patternIntact,
  randomSize,
  writePattern,
} from "./_heap_model.ts";

const KIB = 1024;
const MIB = 1024 * KIB;
const META = Allocator.overheadBytes;

function heapOf(initialBytes: number, maxBytes: number): Allocator {
  return Allocator.format(new SharedArrayBuffer(initialBytes, { maxByteLength: maxBytes }));
}

/** Bytes a block for `size` takes: payload plus 16 bytes of tags, in 64-byte units. */
function blockBytes(size: number): number {
  return Math.ceil((size + 16) / 64) * 64;
}

/** Asserts the heap holds exactly `live`, intact and apart, and passes check(). */
function assertHeapHolds(heap: Allocator, live: readonly LiveBlock[]): void {
  heap.check();
  const overlap = findOverlap(live);
  assert.equal(overlap, undefined, `blocks overlap: ${JSON.stringify(overlap)}`);
  for (const block of live) {
    assert.ok(patternIntact(heap.sab, block), `block at ${block.offset} was overwritten`);
    assert.equal(heap.sizeOf(block.offset), block.size);
  }
  assert.equal(heap.stats().blocks, live.length);
}

/** Asserts everything is free again and coalesced into one block. */
function assertAllFree(heap: Allocator): void {
  heap.check();
  const s = heap.stats();
  assert.equal(s.blocks, 0);
  assert.equal(s.freeBlocks, 1);
  assert.equal(s.used, META);
  assert.equal(s.free, s.committed - META);
  assert.equal(s.largestFree, s.committed - META - 16);
}

for (const [seed, maxBytes] of [[1, 4 * MIB], [2, 512 * KIB], [3, 256 * KIB]]) {
  Deno.test(`Allocator matches a model over 4,000 random steps (seed ${seed}, max ${maxBytes / KIB} KiB)`, () => {
    const heap = heapOf(META + 4 * KIB, maxBytes);
    const rnd = mulberry32(seed);
    const live = new Map<number, LiveBlock>();
    let fullCount = 0;
    for (let step = 0; step < 4000; step++) {
      if (live.size === 0 || rnd() < 0.6) {
        const size = randomSize(rnd);
        const offset = heap.tryAlloc(size);
        if (offset < 0) {
          fullCount++;
          const s = heap.stats();
          assert.ok(s.largestFree < size, `step ${step}: ${size} fits in ${s.largestFree}`);
          const room = Math.floor(s.capacity / 64) * 64 - s.committed;
          assert.ok(room < blockBytes(size), `step ${step}: could have grown by ${room}`);
        } else {
          assert.equal(offset % 64, 0);
          assert.ok(offset >= META && offset + size <= heap.stats().committed);
          assert.equal(live.has(offset), false, `step ${step}: ${offset} handed out twice`);
          const block = { offset, size, stamp: step };
          for (const other of live.values()) {
            const apart = offset + Math.max(size, 1) <= other.offset ||
              other.offset + Math.max(other.size, 1) <= offset;
            assert.ok(apart, `step ${step}: [${offset}, +${size}) overlaps ${other.offset}`);
          }
          writePattern(heap.sab, block);
          live.set(offset, block);
        }
      } else {
        const keys = [...live.keys()];
        const block = live.get(keys[Math.floor(rnd() * keys.length)])!;
        assert.ok(patternIntact(heap.sab, block), `step ${step}: block ${block.offset} damaged`);
        heap.free(block.offset);
        live.delete(block.offset);
      }
      heap.check();
      if (step % 250 === 0) assertHeapHolds(heap, [...live.values()]);
    }
    assertHeapHolds(heap, [...live.values()]);
    if (maxBytes <= 256 * KIB) assert.ok(fullCount > 0, "the small heap never filled up");
    const order = [...live.keys()].sort(() => rnd() - 0.5);
    for (const offset of order) heap.free(offset);
    assertAllFree(heap);
  });
}

Deno.test("Allocator.format() turns the whole buffer into one free block", () => {
  const heap = heapOf(64 * KIB, MIB);
  assertAllFree(heap);
  assert.equal(heap.stats().committed, 64 * KIB);
  assert.equal(heap.stats().capacity, MIB);
});

Deno.test("alloc() returns 64-aligned offsets and sizeOf() the size asked for", () => {
  const heap = heapOf(64 * KIB, MIB);
  for (const size of [0, 1, 7, 8, 47, 48, 49, 63, 64, 65, 1000, 4096, 50_000]) {
    const offset = heap.alloc(size);
    assert.equal(offset % 64, 0);
    assert.equal(heap.sizeOf(offset), size);
  }
  heap.check();
});

Deno.test("alloc() reuses a freed block for the same size without growing", () => {
  const heap = heapOf(META + 256 * KIB, 64 * MIB);
  const keep = heap.alloc(10);
  for (let i = 0; i < 10_000; i++) heap.free(heap.alloc(100 * KIB));
  const a = heap.alloc(1000);
  heap.alloc(10);
  heap.free(a);
  assert.equal(heap.alloc(1000), a);
  assert.equal(heap.stats().committed, META + 256 * KIB);
  assert.equal(heap.sizeOf(keep), 10);
  heap.check();
});

Deno.test("free() merges a block with free neighbours on both sides", () => {
  const heap = heapOf(64 * KIB, MIB);
  const [a, b, c, d] = [100, 200, 300, 400].map((n) => heap.alloc(n));
  heap.free(a);
  heap.free(c);
  assert.equal(heap.stats().freeBlocks, 3, "a, c and the tail after d");
  heap.free(b);
  assert.equal(heap.stats().freeBlocks, 2, "a+b+c merged, and the tail");
  assert.equal(heap.alloc(blockBytes(100) + blockBytes(200) + blockBytes(300) - 16), a);
  heap.free(a);
  heap.free(d);
  assertAllFree(heap);
});

Deno.test("alloc() grows the buffer and merges the new space with a free tail", () => {
  const heap = heapOf(META + 640, MIB);
  const a = heap.alloc(5 * 64 - 16);
  const b = heap.alloc(8 * 64 - 16);
  assert.equal(b, a + 5 * 64, "b starts in the old free tail");
  assert.ok(heap.stats().committed > META + 640);
  assert.ok(heap.sab.byteLength >= heap.stats().committed);
  heap.free(a);
  heap.free(b);
  assertAllFree(heap);
});

Deno.test("alloc() grows in steps up to maxByteLength and no further", () => {
  const heap = heapOf(META, 4 * MIB);
  const offsets = [];
  for (let i = 0; i < 40; i++) offsets.push(heap.alloc(100 * KIB - 16));
  assert.equal(heap.stats().committed, 4 * MIB);
  assert.throws(() => heap.alloc(100 * KIB), ObjectStoreFullError);
  const { largestFree } = heap.stats();
  assert.equal(heap.sizeOf(heap.alloc(largestFree)), largestFree);
  assert.equal(heap.tryAlloc(1), -1);
  heap.check();
  for (const offset of offsets) heap.free(offset);
});

Deno.test("alloc() throws ObjectStoreFullError naming the size, the use and objectStoreMemory", () => {
  const heap = heapOf(META, 8 * KIB);
  heap.alloc(1000);
  const { used } = heap.stats();
  assert.throws(() => heap.alloc(9000), (err: unknown) => {
    assert.ok(err instanceof ObjectStoreFullError);
    assert.equal(
      err.message,
      `Object store is full: asked for 9000 bytes, ${used} of ${8 * KIB} in use ` +
        "(raise objectStoreMemory in init())",
    );
    return true;
  });
  assert.equal(heap.stats().used, used, "a failed alloc keeps nothing");
  heap.check();
});

Deno.test("alloc() throws ObjectStoreFullError when free space is too fragmented", () => {
  const heap = heapOf(META + 64 * KIB, META + 64 * KIB);
  const blocks = [];
  for (let offset = heap.tryAlloc(48); offset >= 0; offset = heap.tryAlloc(48)) blocks.push(offset);
  blocks.forEach((offset, i) => i % 2 === 0 && heap.free(offset));
  const s = heap.stats();
  assert.ok(s.free >= 32 * KIB && s.largestFree === 48);
  assert.throws(() => heap.alloc(100), ObjectStoreFullError);
  heap.check();
});

Deno.test("alloc() rejects a negative, fractional or non-finite size with RangeError", () => {
  const heap = heapOf(64 * KIB, MIB);
  for (const size of [-1, 1.5, NaN, Infinity]) {
    assert.throws(() => heap.alloc(size), RangeError);
  }
  assertAllFree(heap);
});

Deno.test("free() rejects a double free and offsets where no block starts with RangeError", () => {
  const heap = heapOf(64 * KIB, MIB);
  const a = heap.alloc(1000);
  heap.alloc(10);
  for (const bad of [0, 64, a + 64, a + 8, -64, 64 * MIB, 0.5]) {
    assert.throws(() => heap.free(bad), RangeError, `free(${bad}) was accepted`);
  }
  heap.free(a);
  assert.throws(() => heap.free(a), /no allocated block starts there/);
  assert.throws(() => heap.sizeOf(a), RangeError);
  heap.check();
});

Deno.test("check() names the block whose footer was overwritten", () => {
  const heap = heapOf(64 * KIB, MIB);
  const a = heap.alloc(100);
  new Int32Array(heap.sab)[(a + blockBytes(100) - 16) / 4] = 99;
  assert.throws(() => heap.check(), new RegExp(`block at ${a} has a footer`));
});

Deno.test("new Allocator() maps a formatted buffer and rejects an unformatted one", () => {
  const heap = heapOf(64 * KIB, MIB);
  const other = new Allocator(heap.sab);
  const a = heap.alloc(500);
  assert.equal(other.sizeOf(a), 500);
  other.free(a);
  assertAllFree(heap);
  const blank = new SharedArrayBuffer(64 * KIB, { maxByteLength: MIB });
  assert.throws(() => new Allocator(blank), TypeError);
  assert.throws(() => Allocator.format(new SharedArrayBuffer(64 * KIB)), TypeError);
});

Deno.test("Allocator stays consistent with 3 Web Workers and the main thread churning at once", {
  sanitizeOps: true,
  sanitizeResources: true,
}, async () => {
  const heap = heapOf(META, 32 * MIB);
  const start = new Int32Array(new SharedArrayBuffer(4));
  const url = new URL("./_allocator_worker.ts", import.meta.url);
  const workers = [1, 2, 3].map(() => new Worker(url, { type: "module" }));
  try {
    const runs = workers.map((worker, i) => {
      const ready = Promise.withResolvers<void>();
      const done = Promise.withResolvers<LiveBlock[]>();
      worker.onmessage = (e: MessageEvent<WorkerReply>) => {
        const msg = e.data;
        if (msg.type === "ready") ready.resolve();
        else if (msg.type === "done") done.resolve(msg.live);
        else done.reject(new Error(`worker ${i + 1} failed: ${msg.message}`));
      };
      worker.onerror = (e) => {
        e.preventDefault();
        const err = new Error(`worker ${i + 1} threw: ${e.message}`);
        ready.reject(err);
        done.reject(err);
      };
      const request: WorkerRequest = { sab: heap.sab, start, id: i + 1, ops: 10_000 };
      worker.postMessage(request);
      return { ready: ready.promise, done: done.promise };
    });
    await Promise.all(runs.map((r) => r.ready));
    Atomics.store(start, 0, 1);
    Atomics.notify(start, 0);
    const mine = churn(heap, 9, 10_000);
    const live = [...mine.live, ...(await Promise.all(runs.map((r) => r.done))).flat()];
    assert.ok(heap.stats().committed > META, "the heap never grew");
    assertHeapHolds(heap, live);
    for (const block of live) heap.free(block.offset);
    assertAllFree(heap);
  } finally {
    for (const w of workers) w.terminate();
  }
});

Deno.test("SharedArena.free() returns space that the next alloc() reuses", () => {
  const arena = new SharedArena({ initialBytes: MIB, maxBytes: 64 * MIB });
  const first = arena.alloc(200 * KIB);
  const loc = arena.locate(first)!;
  arena.free(loc);
  for (let i = 0; i < 1000; i++) arena.free(arena.locate(arena.alloc(200 * KIB))!);
  assert.equal(arena.locate(arena.alloc(200 * KIB))!.offset, loc.offset);
  assert.equal(arena.sab.byteLength, MIB);
  const s = arena.stats();
  assert.equal(s.blocks, 1);
  assert.equal(s.used + s.free, s.committed);
});

Deno.test("SharedArena.free() accepts an offset, ignores empty objects, rejects a wrong size", () => {
  const arena = new SharedArena({ initialBytes: 64 * KIB, maxBytes: MIB });
  const empty = arena.alloc(0);
  arena.free(arena.locate(empty)!);
  const view = arena.alloc(100);
  const loc = arena.locate(view)!;
  assert.throws(() => arena.free({ offset: loc.offset, size: 99 }), /holds 100 bytes/);
  arena.free(loc.offset);
  assert.throws(() => arena.free(loc), RangeError);
  assert.equal(arena.stats().blocks, 0);
});

Deno.test("SharedArena from handle() frees what the other mapping allocated", () => {
  const a = new SharedArena({ initialBytes: 64 * KIB, maxBytes: MIB });
  const b = new SharedArena(a.handle());
  const loc = a.locate(a.alloc(5000))!;
  b.free(loc);
  assert.equal(a.stats().blocks, 0);
  assert.equal(a.used, b.used);
});

Deno.test("tryAlloc(size, false) answers FRESH instead of taking memory no block used before", () => {
  const heap = heapOf(64 * KIB, MIB);
  assert.equal(heap.stats().touched, 0, "nothing allocated yet");
  assert.equal(heap.tryAlloc(1000, false), FRESH, "the first block is fresh memory");
  assert.equal(heap.stats().blocks, 0, "a FRESH answer takes nothing");
  const a = heap.tryAlloc(1000);
  const b = heap.tryAlloc(1000);
  assert.equal(heap.stats().touched, b + blockBytes(1000), "touched ends where b's block ends");
  heap.free(a);
  assert.equal(heap.tryAlloc(1000, false), a, "a's freed block is reused");
  assert.equal(heap.tryAlloc(1000, false), FRESH, "nothing freed below touched fits");
  heap.free(a);
  heap.free(b);
  assert.equal(heap.tryAlloc(2000, false), a, "a and b merged hold 2,000 bytes");
  assert.equal(heap.stats().touched, b + blockBytes(1000), "touched never goes down");
  heap.check();
});
