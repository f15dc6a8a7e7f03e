/**
 * The spill manager on a small real arena: least recently used objects go
 * first, pinned and exposed ones never, small objects share batch files,
 * files are deleted when emptied, and restored bytes are intact.
 */
import assert from "node:assert/strict";
import { ObjectStoreFullError } from "../../runtime/common/mod.ts";
import type { ObjectId } from "../../runtime/common/mod.ts";
import { SharedArena, SpillFiles, type StoreLoc } from "../../runtime/object_store/mod.ts";
import { SpillManager } from "../../runtime/node/spill_manager.ts";

const KIB = 1024;

function setup(options: { smallBytes?: number; directory?: string } = {}) {
  const arena = new SharedArena({ initialBytes: 1024 * KIB, maxBytes: 1024 * KIB });
  const files = new SpillFiles({
    directory: options.directory,
    prefix: "test",
    fileBytes: 1024 * KIB,
    smallBytes: options.smallBytes ?? 512 * KIB,
  });
  const spill = new SpillManager({
    arena,
    files,
    minBytes: 0,
    retryRounds: 0,
    collect: () => Promise.resolve(),
  });
  const locs = new Map<string, StoreLoc>();
  const put = (id: string, size: number, byte: number) => {
    const bytes = arena.alloc(size);
    bytes.fill(byte);
    const loc = arena.locate(bytes)!;
    locs.set(id, loc);
    spill.sealed(id as ObjectId, loc);
  };
  const resident = (id: string) => spill.lend(id as ObjectId, locs.get(id)!, "pin") as StoreLoc;
  return { arena, files, spill, put, resident, locs };
}

Deno.test("SpillManager spills the least recently used object first", () => {
  const { spill, put, arena } = setup();
  try {
    put("a", 300 * KIB, 1);
    put("b", 300 * KIB, 2);
    put("c", 300 * KIB, 3);
    spill.pin("a" as ObjectId);
    spill.unpin("a" as ObjectId); // a is now the most recently used
    arena.alloc(300 * KIB);
    const s = spill.stats();
    assert.equal(s.spilled, 1);
    assert.equal(s.spilledBytes, 300 * KIB);
    assert.equal(s.spills, 1);
    spill.lend("a" as ObjectId, { offset: 0, size: 1 }, "pin");
    spill.lend("c" as ObjectId, { offset: 0, size: 1 }, "pin");
    assert.equal(spill.stats().restores, 0);
  } finally {
    spill.close();
  }
});

Deno.test("SpillManager restores spilled bytes intact into a new block", () => {
  const { spill, put, arena } = setup();
  try {
    put("a", 300 * KIB, 7);
    put("b", 300 * KIB, 8);
    put("c", 300 * KIB, 9);
    arena.alloc(300 * KIB); // spills a
    const other = arena.alloc(100 * KIB);
    arena.free(arena.locate(other)!);
    const loc = spill.lend("a" as ObjectId, { offset: 0, size: 1 }, "pin") as StoreLoc;
    assert.equal(loc.size, 300 * KIB);
    assert.ok(arena.view(loc).every((x) => x === 7));
    assert.equal(spill.stats().restores, 1);
  } finally {
    spill.close();
  }
});

Deno.test("SpillManager never spills pinned or exposed objects and says so when full", () => {
  const { spill, put, arena } = setup();
  try {
    put("a", 300 * KIB, 1);
    put("b", 300 * KIB, 2);
    put("c", 300 * KIB, 3);
    spill.pin("a" as ObjectId);
    spill.lend("b" as ObjectId, { offset: 0, size: 1 }, "expose");
    spill.pin("c" as ObjectId);
    assert.throws(
      () => arena.alloc(300 * KIB),
      (err: Error) =>
        err instanceof ObjectStoreFullError &&
        /asked for 307200 bytes, \d+ of 1048576 in use, 921600 pinned/.test(err.message) &&
        /raise objectStoreMemory in init\(\) or free references/.test(err.message),
    );
    assert.equal(spill.stats().spills, 0);
    spill.unpin("c" as ObjectId);
    arena.alloc(300 * KIB);
    assert.equal(spill.stats().spills, 1);
  } finally {
    spill.close();
  }
});

Deno.test("SpillManager batches small objects into one file and deletes it when all are freed", () => {
  const { spill, put, arena, locs, files } = setup({ smallBytes: 200 * KIB });
  try {
    for (let i = 0; i < 6; i++) put(`s${i}`, 150 * KIB, i);
    arena.alloc(600 * KIB); // spills four or more small objects
    const s = spill.stats();
    assert.ok(s.spilled >= 4);
    assert.equal(s.files.files, 1);
    for (let i = 0; i < 6; i++) spill.drop(`s${i}` as ObjectId, locs.get(`s${i}`)!);
    assert.equal(files.stats().files, 0);
  } finally {
    spill.close();
  }
});

Deno.test("SpillManager gives big objects a file each and reuses a disk copy after restore", () => {
  const { spill, put, arena, files } = setup({ smallBytes: 100 * KIB });
  try {
    put("a", 300 * KIB, 1);
    put("b", 300 * KIB, 2);
    put("c", 300 * KIB, 3);
    const x = arena.alloc(300 * KIB); // spills a
    assert.equal(files.stats().files, 1);
    arena.free(arena.locate(x)!);
    spill.lend("a" as ObjectId, { offset: 0, size: 1 }, "pin");
    spill.unpin("a" as ObjectId);
    const written = files.stats().written;
    arena.alloc(300 * KIB); // spills b (least recently used)
    arena.alloc(300 * KIB); // spills c
    assert.equal(files.stats().files, 3);
    assert.equal(files.stats().written, written + 600 * KIB);
    arena.alloc(300 * KIB); // spills a again: its disk copy is still there
    assert.equal(spill.stats().spills, 4);
    assert.equal(files.stats().written, written + 600 * KIB);
  } finally {
    spill.close();
  }
});

Deno.test("SpillFiles close removes its temporary directory but keeps a given one", () => {
  const given = Deno.makeTempDirSync({ prefix: "rayd-spill-unit-" });
  try {
    const own = new SpillFiles({ prefix: "t", fileBytes: 1 << 20, smallBytes: 1 << 10 });
    own.write(new Uint8Array(10));
    const ownDir = own.stats().directory!;
    own.close();
    assert.throws(() => Deno.statSync(ownDir), Deno.errors.NotFound);
    const kept = new SpillFiles({
      directory: given,
      prefix: "t",
      fileBytes: 1 << 20,
      smallBytes: 1 << 10,
    });
    kept.write(new Uint8Array(10));
    kept.write(new Uint8Array(5000));
    assert.equal([...Deno.readDirSync(given)].length, 2);
    kept.close();
    assert.deepEqual([...Deno.readDirSync(given)], []);
  } finally {
    Deno.removeSync(given, { recursive: true });
  }
});

Deno.test("SharedArena calls onFull until the allocation fits, and not once closed", () => {
  const arena = new SharedArena({ initialBytes: 256 * KIB, maxBytes: 256 * KIB });
  const first = arena.alloc(200 * KIB);
  let calls = 0;
  arena.onFull = () => {
    calls++;
    if (calls === 2) arena.free(arena.locate(first)!);
  };
  arena.alloc(200 * KIB);
  assert.equal(calls, 2);
  arena.close();
  assert.ok(arena.closed);
  assert.throws(() => arena.alloc(200 * KIB), ObjectStoreFullError);
  assert.equal(calls, 2);
});

Deno.test("SpillManager writes a big heap frame straight to disk and keeps small ones as they are", () => {
  const { spill, arena } = setup();
  try {
    const small = new Uint8Array(100);
    assert.equal(spill.overflowed("s" as ObjectId, small), small);
    const big = new Uint8Array(400 * KIB).fill(9);
    const placeholder = spill.overflowed("b" as ObjectId, big) as StoreLoc;
    assert.deepEqual(placeholder, { offset: 0, size: 400 * KIB });
    assert.equal(spill.sizeOf("b" as ObjectId), 400 * KIB);
    const s = spill.stats();
    assert.deepEqual([s.bornOnDisk, s.spilled, s.resident], [1, 1, 0]);
    const loc = spill.lend("b" as ObjectId, placeholder, "pin") as StoreLoc;
    assert.ok(loc.offset > 0);
    assert.ok(arena.view(loc).every((b) => b === 9));
    spill.unpin("b" as ObjectId);
    spill.drop("b" as ObjectId, placeholder);
    assert.equal(arena.stats().used, 1024);
    assert.equal(spill.stats().files.files, 0);
  } finally {
    spill.close();
  }
});

Deno.test("SpillManager hands a heap copy of a spilled object when the store cannot take it back", async () => {
  const { spill, put, arena, locs } = setup();
  try {
    put("a", 400 * KIB, 1);
    arena.alloc(400 * KIB).fill(2); // spills "a"
    arena.alloc(400 * KIB).fill(3); // held, not spillable: "a" no longer fits
    assert.equal(spill.stats().spilled, 1);
    const copy = spill.lend("a" as ObjectId, locs.get("a")!, "pin");
    assert.ok(copy instanceof Uint8Array && copy.length === 400 * KIB);
    assert.ok(copy.every((b) => b === 1));
    const [again] = await spill.lendAll(["a" as ObjectId], [locs.get("a")!]);
    assert.ok(again instanceof Uint8Array && again.every((b) => b === 1));
    const s = spill.stats();
    assert.deepEqual([s.heapCopies, s.restores, s.spilled], [2, 0, 1]);
  } finally {
    spill.close();
  }
});
