/**
 * Spilling on an embedded cluster with a 64 MiB store: three times that much
 * live data put and read back, task results and arguments beyond the store,
 * puts from workers, reads while spilling, shutdown in the middle of
 * spilling, and ObjectStoreFullError when nothing can be spilled.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { collectGarbage, currentBackend } from "../../runtime/core/mod.ts";
import type { Node } from "../../runtime/node/mod.ts";
import {
  checkFilled,
  fill,
  filled,
  getAndCheck,
  mismatches,
  putManyThenRead,
} from "../fixtures/spill_fns.ts";

const MIB = 1024 * 1024;
const STORE = 64 * MIB;
/** Doubles in one 8 MiB array. */
const N = MIB;
/** 8 MiB arrays in 192 MiB: three times the store. */
const COUNT = 24;

function node(): Node {
  return currentBackend() as Node;
}

async function collect(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    collectGarbage!();
    await new Promise((r) => setTimeout(r, 20));
  }
}

function spillTest(
  name: string,
  fn: () => Promise<void>,
  init: ray.InitOptions = {},
): void {
  Deno.test({
    name,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      await ray.init({ numWorkers: 2, objectStoreMemory: STORE, ...init });
      try {
        await fn();
      } finally {
        await ray.shutdown();
      }
    },
  });
}

spillTest(
  "put of three times objectStoreMemory keeps every value and reads each back",
  async () => {
    const refs = Array.from({ length: COUNT }, (_, i) => ray.put(fill(N, i * 1000)));
    const afterPut = node().spillStats();
    assert.ok(afterPut.spilled >= COUNT - 8, `spilled ${afterPut.spilled}`);
    assert.ok(afterPut.files.files >= 1);
    for (let i = 0; i < COUNT; i++) {
      assert.equal(mismatches(await ray.get(refs[i]), N, i * 1000), 0, `object ${i}`);
    }
    assert.ok(node().spillStats().restores >= COUNT - 8);
    // Read twice: restored objects may be spilled again (their disk copy is reused).
    for (let i = COUNT - 1; i >= 0; i--) {
      assert.equal(mismatches(await ray.get(refs[i]), N, i * 1000), 0, `object ${i} again`);
    }
  },
);

spillTest("task results beyond the store are spilled and read back intact", async () => {
  const refs = Array.from({ length: COUNT }, (_, i) => filled.remote(N, 7 + i));
  await ray.wait(refs, { numReturns: COUNT });
  assert.ok(node().spillStats().spills > 0);
  for (let i = 0; i < COUNT; i++) {
    assert.equal(mismatches(await ray.get(refs[i]), N, 7 + i), 0, `result ${i}`);
  }
});

spillTest("tasks whose arguments were spilled get them restored", async () => {
  const refs = Array.from({ length: COUNT }, (_, i) => ray.put(fill(N, i)));
  const checks = await ray.get(refs.map((r, i) => checkFilled.remote(r, i)));
  assert.deepEqual(checks, new Array(COUNT).fill(0));
  const nested = await ray.get(refs.map((ref, i) => getAndCheck.remote({ ref }, N, i)));
  assert.deepEqual(nested, new Array(COUNT).fill(0));
});

spillTest(
  "a worker putting more than the store holds spills and reads everything back",
  async () => {
    assert.equal(await ray.get(putManyThenRead.remote(N, COUNT, 3)), 0);
    assert.ok(node().spillStats().spills > 0);
  },
);

// One run per worker: a worker that still holds garbage zero-copy views of its own
// and then puts past the store in a synchronous loop cannot free them (its
// finalizers cannot run while it waits for room), so two runs sharing a worker
// would send many puts to disk. See docs/ARCHITECTURE.md, "Spilling".
spillTest("workers putting and reading beyond the store at once corrupt nothing", async () => {
  const runs = [0, 1, 2, 3].map((k) => putManyThenRead.remote(N / 2, COUNT, k * 100));
  assert.deepEqual(await ray.get(runs), [0, 0, 0, 0]);
}, { numWorkers: 4 });

spillTest("a value being read is never spilled while its views are alive", async () => {
  const kept = ray.put(fill(N, 42));
  const view = await ray.get(kept);
  const more = Array.from({ length: COUNT }, (_, i) => ray.put(fill(N, i)));
  const results = Array.from({ length: 8 }, (_, i) => filled.remote(N, 500 + i));
  await ray.wait(results, { numReturns: results.length });
  assert.ok(node().spillStats().pinnedBytes >= N * 8);
  assert.equal(mismatches(view, N, 42), 0);
  for (let i = 0; i < COUNT; i += 5) assert.equal(mismatches(await ray.get(more[i]), N, i), 0);
  assert.equal(mismatches(view, N, 42), 0);
});

spillTest("gets run while the store spills for puts and other objects are freed", async () => {
  const keep = Array.from({ length: 4 }, (_, i) => ray.put(fill(N, i)));
  for (let round = 0; round < 4; round++) {
    const reads = keep.map((r) => ray.get(r));
    (() => {
      for (let i = 0; i < 6; i++) ray.put(fill(N, -i));
    })();
    const values = await Promise.all(reads);
    values.forEach((v, i) => assert.equal(mismatches(v, N, i), 0, `round ${round} object ${i}`));
    await collect();
  }
});

spillTest(
  "a store full of views: puts go to disk, gets give heap copies, task results fail",
  async () => {
    const held: Float64Array[] = [];
    for (let i = 0; i < 10; i++) held.push(await ray.get(ray.put(fill(N, i))));
    held.forEach((v, i) => assert.equal(mismatches(v, N, i), 0, `object ${i}`));
    const stats = node().spillStats();
    assert.ok(stats.bornOnDisk >= 3, `${stats.bornOnDisk} puts went straight to disk`);
    assert.ok(stats.heapCopies >= 3, `${stats.heapCopies} gets were heap copies`);
    assert.ok(held.slice(-3).every((v) => !(v.buffer instanceof SharedArrayBuffer)));
    // A task result has nowhere to go but the store: it fails, naming what is pinned.
    let error: unknown;
    await ray.get(filled.remote(N, 1)).catch((err) => error = err);
    assert.ok((error as Error).cause instanceof ray.ObjectStoreFullError, String(error));
    assert.match(
      ((error as Error).cause as Error).message,
      /^Object store is full: asked for 83886\d\d bytes, \d+ of 67108864 in use, \d+ pinned \(raise objectStoreMemory in init\(\) or free references\)$/,
    );
    const pinned = Number(/(\d+) pinned/.exec((error as Error).message)![1]);
    assert.ok(pinned >= 7 * N * 8, (error as Error).message);
    held.forEach((v, i) => assert.equal(mismatches(v, N, i), 0));
    held.length = 0;
    await collect();
    assert.equal(mismatches(await ray.get(filled.remote(N, 1)), N, 1), 0);
  },
);

Deno.test({
  name: "shutdown while spilling leaves no spill files and keeps a given spillDirectory",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "rayd-spill-test-" });
    try {
      await ray.init({ numWorkers: 2, objectStoreMemory: STORE, spillDirectory: dir });
      const results = Array.from({ length: COUNT }, (_, i) => filled.remote(N, i));
      const puts = Array.from({ length: COUNT / 2 }, (_, i) => ray.put(fill(N, i)));
      const workerPuts = putManyThenRead.remote(N, COUNT, 0);
      const settled = ray.get([...results, workerPuts]).then(() => "done", (e: Error) => e.message);
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(node().spillStats().files.files > 0);
      assert.equal(puts.length, COUNT / 2);
      await ray.shutdown();
      const outcome = await settled;
      assert.ok(outcome === "done" || /shut down/.test(outcome), outcome);
      assert.deepEqual([...Deno.readDirSync(dir)], []);
    } finally {
      await ray.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

spillTest("the temporary spill directory is removed at shutdown", async () => {
  const refs = Array.from({ length: 12 }, (_, i) => ray.put(fill(N, i)));
  const dir = node().spillStats().files.directory!;
  assert.ok(Deno.statSync(dir).isDirectory);
  assert.equal(refs.length, 12);
  await ray.shutdown();
  assert.throws(() => Deno.statSync(dir), Deno.errors.NotFound);
});
