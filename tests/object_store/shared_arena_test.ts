import assert from "node:assert/strict";
import { ObjectStoreFullError, RayError } from "../../runtime/common/mod.ts";
import { Allocator, SharedArena, type StoreLoc } from "../../runtime/object_store/mod.ts";
import { type AllocReply, type AllocRequest, allocSize, patternByte } from "./_alloc_worker.ts";

const KIB = 1024;
const MIB = 1024 * KIB;
const OVERHEAD = Allocator.overheadBytes;

/** Asserts no two of `locs` share a byte. */
function assertDisjoint(locs: readonly StoreLoc[]): void {
  const sorted = [...locs].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    assert.ok(
      prev.offset + prev.size <= sorted[i].offset,
      `[${prev.offset}, +${prev.size}) overlaps [${sorted[i].offset}, +${sorted[i].size})`,
    );
  }
}

Deno.test("SharedArena.alloc() returns 64-aligned views of the shared buffer", () => {
  const arena = new SharedArena({ initialBytes: 64 * KIB, maxBytes: MIB });
  for (const size of [1, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 100, 1000, 4097]) {
    const view = arena.alloc(size);
    assert.equal(view.byteLength, size);
    assert.equal(view.byteOffset % 64, 0, `offset ${view.byteOffset} for size ${size}`);
    assert.equal(view.buffer, arena.sab);
  }
});
Deno.test("SharedArena.alloc() returns views that do not overlap each other or the header", () => {
  const arena = new SharedArena({ initialBytes: 64 * KIB, maxBytes: MIB });
  const views = Array.from({ length: 500 }, (_, i) => arena.alloc(allocSize(i)));
  views.forEach((v, i) => v.fill(i % 255 + 1));
  views.forEach((v, i) =>
    assert.ok(v.every((b) => b === i % 255 + 1), `view ${i} was overwritten`)
  );
  const locs = views.map((v) => arena.locate(v)!);
  assertDisjoint(locs);
  assert.ok(locs.every((l) => l.offset >= OVERHEAD), "an allocation overlaps the heap header");
});

Deno.test("SharedArena.alloc() of 0 bytes gives an empty view and reserves nothing", () => {
  const arena = new SharedArena({ initialBytes: 64 * KIB, maxBytes: MIB });
  const before = arena.used;
  const empty = arena.alloc(0);
  assert.equal(empty.byteLength, 0);
  assert.equal(arena.used, before);
  arena.free(arena.locate(empty)!);
  assert.equal(arena.used, before);
});
Deno.test("SharedArena.alloc() rejects a negative, fractional or non-finite size with RangeError", () => {
  const arena = new SharedArena({ initialBytes: 64 * KIB, maxBytes: MIB });
  const first = arena.alloc(16);
  const used = arena.used;
  for (const size of [-8, -1, 1.5, NaN, Infinity]) {
    assert.throws(() => arena.alloc(size), RangeError, `alloc(${size}) was accepted`);
    assert.equal(arena.used, used, `alloc(${size}) changed what is in use`);
  }
  const next = arena.alloc(16);
  assertDisjoint([arena.locate(first)!, arena.locate(next)!]);
});
Deno.test("SharedArena.used grows with each allocation and falls back when it is freed", () => {
  const arena = new SharedArena({ initialBytes: 64 * KIB, maxBytes: MIB });
  const empty = arena.used;
  assert.ok(empty >= OVERHEAD, "the heap header counts as used");
  const a = arena.alloc(1);
  const afterOne = arena.used;
  assert.ok(afterOne > empty);
  const b = arena.alloc(5000);
  assert.ok(arena.used >= afterOne + 5000);
  const stats = arena.stats();
  assert.equal(stats.used + stats.free, stats.committed);
  assert.equal(stats.blocks, 2);
  arena.free(arena.locate(b)!);
  assert.equal(arena.used, afterOne);
  arena.free(arena.locate(a)!);
  assert.equal(arena.used, empty);
});
Deno.test("SharedArena.capacity is maxBytes rounded down to a multiple of 8", () => {
  assert.equal(new SharedArena({ initialBytes: 64, maxBytes: MIB }).capacity, MIB);
  assert.equal(new SharedArena({ initialBytes: 64, maxBytes: MIB + 7 }).capacity, MIB);
  const tiny = new SharedArena({ initialBytes: MIB, maxBytes: 16 * KIB });
  assert.equal(tiny.capacity, 16 * KIB);
  assert.equal(tiny.sab.byteLength, 16 * KIB, "initialBytes is capped at maxBytes");
  const belowOverhead = new SharedArena({ initialBytes: 0, maxBytes: 8 });
  assert.equal(belowOverhead.capacity, OVERHEAD, "the heap header always fits");
});
Deno.test("SharedArena.alloc() grows the buffer on demand up to maxBytes", () => {
  const arena = new SharedArena({ initialBytes: 64, maxBytes: 4 * MIB });
  const initial = arena.sab.byteLength;
  assert.ok(initial < 64 * KIB, `started at ${initial} bytes`);
  assert.ok(arena.sab.growable);
  const a = arena.alloc(10 * KIB);
  assert.ok(arena.sab.byteLength > initial, `byteLength ${arena.sab.byteLength}`);
  a.fill(7);
  const b = arena.alloc(3 * MIB);
  assert.ok(arena.sab.byteLength >= 3 * MIB);
  assert.ok(arena.sab.byteLength <= 4 * MIB);
  assert.ok(arena.stats().committed <= arena.capacity);
  b.fill(9);
  assert.ok(a.every((x) => x === 7), "growing lost earlier bytes");
  assert.equal(b[b.length - 1], 9);
  assert.throws(() => arena.alloc(2 * MIB), ObjectStoreFullError);
  assert.ok(arena.sab.byteLength <= 4 * MIB);
});
Deno.test("SharedArena.alloc() throws ObjectStoreFullError past maxBytes naming the sizes and the option", () => {
  const arena = new SharedArena({ initialBytes: 64, maxBytes: 8192 });
  arena.alloc(1000);
  const used = arena.used;
  assert.throws(() => arena.alloc(100_000), (err: unknown) => {
    assert.ok(err instanceof ObjectStoreFullError, `got ${err}`);
    assert.ok(err instanceof RayError);
    assert.equal(err.name, "ObjectStoreFullError");
    assert.equal(
      err.message,
      `Object store is full: asked for 100000 bytes, ${used} of 8192 in use ` +
        "(raise objectStoreMemory in init())",
    );
    return true;
  });
  assert.equal(arena.used, used, "a failed alloc must not keep a reservation");
  assert.equal(arena.alloc(8).byteLength, 8, "smaller allocations still succeed");
});
Deno.test("SharedArena.alloc() fits exactly the largest free block and no byte more", () => {
  const arena = new SharedArena({ initialBytes: 64 * KIB, maxBytes: 64 * KIB });
  const { largestFree } = arena.stats();
  assert.ok(largestFree > 0);
  assert.throws(() => arena.alloc(largestFree + 1), ObjectStoreFullError);
  assert.equal(arena.alloc(largestFree).byteLength, largestFree);
  assert.throws(() => arena.alloc(1), ObjectStoreFullError);
});
Deno.test("SharedArena built from handle() sees the same bytes and the same heap", () => {
  const a = new SharedArena({ initialBytes: 64, maxBytes: MIB });
  const fromA = a.alloc(100);
  fromA.set([1, 2, 3]);
  const b = new SharedArena(a.handle());
  assert.equal(b.sab, a.sab);
  const loc = a.locate(fromA)!;
  assert.deepStrictEqual([...b.view(loc).subarray(0, 3)], [1, 2, 3]);
  assert.equal(b.used, a.used, "mapping an arena must not reset its heap");
  const fromB = b.alloc(50_000);
  fromB.fill(4);
  assert.equal(a.view(b.locate(fromB)!)[49_999], 4, "growth by one mapping is seen by the other");
  assertDisjoint([loc, b.locate(fromB)!]);
  assert.ok(fromA.subarray(0, 3).every((x, i) => x === i + 1));
  assert.deepStrictEqual(a.stats(), b.stats());
});

Deno.test("SharedArena rejects a handle whose buffer holds no arena with TypeError", () => {
  const sab = new SharedArrayBuffer(4096, { maxByteLength: 8192 });
  assert.throws(() => new SharedArena({ sab }), TypeError);
  assert.throws(() => new SharedArena({ sab: new SharedArrayBuffer(4096) }), TypeError);
});
Deno.test("SharedArena.view() and locate() are inverses; locate() rejects foreign views", () => {
  const arena = new SharedArena({ initialBytes: 64 * KIB, maxBytes: MIB });
  const view = arena.alloc(123);
  const loc = arena.locate(view)!;
  assert.deepStrictEqual(loc, { offset: view.byteOffset, size: 123 });
  const again = arena.view(loc);
  assert.equal(again.byteOffset, view.byteOffset);
  assert.equal(again.byteLength, view.byteLength);
  assert.equal(arena.locate(new Uint8Array(8)), undefined);
  const other = new SharedArena({ initialBytes: 64 * KIB, maxBytes: MIB });
  assert.equal(arena.locate(other.alloc(8)), undefined);
});

Deno.test("SharedArena.alloc() from 2 Web Workers at once never overlaps", {
  sanitizeOps: true,
  sanitizeResources: true,
}, async () => {
  const count = 1000;
  const arena = new SharedArena({ initialBytes: 64, maxBytes: 16 * MIB });
  const start = new Int32Array(new SharedArrayBuffer(4));
  const url = new URL("./_alloc_worker.ts", import.meta.url);
  const workers = [0, 1].map(() => new Worker(url, { type: "module" }));
  try {
    const results = workers.map((worker, workerIndex) => {
      const ready = Promise.withResolvers<void>();
      const done = Promise.withResolvers<StoreLoc[]>();
      worker.onmessage = (e: MessageEvent<AllocReply>) => {
        const msg = e.data;
        if (msg.type === "ready") ready.resolve();
        else if (msg.type === "done") done.resolve(msg.locs);
        else done.reject(new Error(`worker ${workerIndex} failed: ${msg.message}`));
      };
      worker.onerror = (e) => {
        e.preventDefault();
        const err = new Error(`worker ${workerIndex} threw: ${e.message}`);
        ready.reject(err);
        done.reject(err);
      };
      const request: AllocRequest = { handle: arena.handle(), start, workerIndex, count };
      worker.postMessage(request);
      return { ready: ready.promise, done: done.promise };
    });
    await Promise.all(results.map((r) => r.ready));
    Atomics.store(start, 0, 1);
    Atomics.notify(start, 0);
    const locsByWorker = await Promise.all(results.map((r) => r.done));

    const all = locsByWorker.flat();
    assert.equal(all.length, 2 * count);
    assertDisjoint(all);
    locsByWorker.forEach((locs, workerIndex) => {
      locs.forEach((loc, i) => {
        assert.equal(loc.size, allocSize(i));
        assert.equal(loc.offset % 64, 0);
        const want = patternByte(workerIndex, i);
        const bytes = arena.view(loc);
        assert.ok(bytes.every((b) => b === want), `worker ${workerIndex} allocation ${i} damaged`);
      });
    });
    const end = Math.max(...all.map((l) => l.offset + l.size));
    assert.ok(arena.sab.byteLength >= end);
    assert.equal(arena.stats().blocks, 2 * count);
    for (const loc of all) arena.free(loc);
    const stats = arena.stats();
    assert.equal(stats.blocks, 0, "every block came back");
    assert.equal(stats.freeBlocks, 1, "the freed space merged into one block");
  } finally {
    for (const w of workers) w.terminate();
  }
});

Deno.test("SharedArena.onFresh runs before an alloc writes memory no object used, and only then", () => {
  const arena = new SharedArena({ initialBytes: 64 * KIB, maxBytes: 4 * MIB });
  const asked: number[] = [];
  let drop: StoreLoc | undefined;
  arena.onFresh = (size) => {
    asked.push(size);
    if (drop) arena.free(drop); // as a reclaim that found a dropped object
    drop = undefined;
  };
  const a = arena.locate(arena.alloc(100 * KIB))!;
  assert.deepEqual(asked, [100 * KIB], "the first alloc is fresh");
  arena.free(a);
  const b = arena.locate(arena.alloc(100 * KIB))!;
  assert.deepEqual(asked, [100 * KIB], "a freed block is reused without asking");
  assert.equal(b.offset, a.offset);
  drop = b;
  const c = arena.locate(arena.alloc(100 * KIB))!;
  assert.deepEqual(asked, [100 * KIB, 100 * KIB], "asked before going past touched memory");
  assert.equal(c.offset, b.offset, "what onFresh freed is taken instead of fresh memory");
  const d = arena.locate(arena.alloc(100 * KIB))!;
  assert.ok(d.offset > c.offset, "with nothing freed, the alloc takes fresh memory");
  assert.equal(arena.touched, d.offset + Math.ceil((100 * KIB + 16) / 64) * 64);
  assert.equal(arena.allocatedHere, 4 * 100 * KIB);
});
