/**
 * A store full of pinned objects (views dropped but not yet collected, or
 * held) with a 64 MiB store: puts go straight to disk instead of failing,
 * a batch of tasks never needs all its spilled arguments in the store at
 * once, and a get bigger than the store gets heap copies of what does not
 * fit. Every byte is checked, and every object is freed after each test.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { overrideSetting, type SettingName } from "../../runtime/common/mod.ts";
import { collectGarbage, currentBackend } from "../../runtime/core/mod.ts";
import type { Node } from "../../runtime/node/mod.ts";
import {
  bytesOf,
  checkBytes,
  collectInWorker,
  holdPutsInWorker,
  wrongBytes,
} from "../fixtures/spill_fns.ts";

const MIB = 1024 * 1024;
const STORE = 64 * MIB;

function node(): Node {
  return currentBackend() as Node;
}

/** Objects in the store or on disk. */
function stored(): number {
  const stats = node().spillStats();
  return stats.resident + stats.spilled;
}

/** Collects garbage everywhere until every stored object is freed (dropped refs and views finalized). */
async function allFreed(): Promise<void> {
  for (let i = 0; i < 50 && stored() > 0; i++) {
    collectGarbage!();
    await ray.get([collectInWorker.remote(), collectInWorker.remote()]);
  }
  assert.equal(stored(), 0, Deno.inspect(node().spillStats()));
  assert.equal(node().arena.stats().used, 1024, "only the store's bookkeeping is in use");
}

/**
 * A test on a fresh 64 MiB store, with `settings` set for this file's thread
 * only (`overrideSetting`: an environment variable would reach the nodes the
 * other test files of this process start meanwhile).
 */
function storeTest(
  name: string,
  fn: () => Promise<void>,
  settings: Partial<Record<SettingName, number>> = {},
) {
  Deno.test({
    name,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      for (const [k, v] of Object.entries(settings)) overrideSetting(k as SettingName, v);
      await ray.init({ numWorkers: 2, objectStoreMemory: STORE });
      try {
        await fn();
        // Out of `fn`: nothing of it (not even a stale register of its frame) holds a ref or view.
        await allFreed();
      } finally {
        await ray.shutdown();
        for (const k of Object.keys(settings)) overrideSetting(k as SettingName, undefined);
      }
    },
  });
}

storeTest("puts of 40 MiB whose dropped views still pin the store all succeed", async () => {
  for (let i = 0; i < 5; i++) {
    // The view of the round before is dropped but not collected when the next put runs.
    const value = await ray.get(ray.put(new Uint8Array(40 * MIB).fill(i + 1)));
    assert.equal(wrongBytes(value, 40 * MIB, i + 1), 0, `round ${i}`);
  }
  assert.ok(node().spillStats().bornOnDisk > 0, "a put found the store full and went to disk");
});

storeTest(
  "batched tasks over spilled objects each get their argument intact",
  async () => {
    // Known short: its tasks go to workers in batches.
    for (let i = 0; i < 5; i++) {
      assert.equal(await ray.get(checkBytes.remote(new Uint8Array(8), 8, 0)), 0);
    }
    const refs = Array.from({ length: 30 }, (_, i) => bytesOf.remote(6 * MIB, i + 1));
    await ray.wait(refs, { numReturns: refs.length });
    assert.ok(node().spillStats().spilled > 0);
    const checks = await Promise.allSettled(
      refs.map((r, i) => ray.get(checkBytes.remote(r, 6 * MIB, i + 1))),
    );
    const failed = checks.filter((c) => c.status === "rejected");
    assert.deepEqual(failed, [], `${failed.length} of 30 failed`);
    assert.deepEqual(
      checks.map((c) => (c as PromiseFulfilledResult<number>).value),
      new Array(30).fill(0),
    );
  },
  // No waiting for garbage collection: a batch that needs more than the store fails at once.
  { spillRetryGcRounds: 0 },
);

storeTest("a get of more than the store gets heap copies of what does not fit", async () => {
  const refs = Array.from({ length: 10 }, (_, i) => bytesOf.remote(20 * MIB, i + 1));
  const values = await ray.get(refs);
  values.forEach((v, i) => assert.equal(wrongBytes(v, 20 * MIB, i + 1), 0, `object ${i}`));
  const copies = values.filter((v) => !(v.buffer instanceof SharedArrayBuffer)).length;
  assert.ok(copies >= 7, `${copies} heap copies: at most 3 of 10 fit in the store`);
  assert.equal(node().spillStats().heapCopies, copies);
  // A task gets a heap copy of an argument that cannot be restored, too.
  assert.equal(await ray.get(checkBytes.remote(refs[0], 20 * MIB, 1)), 0);
});

storeTest(
  "a worker holding views of its puts past the store puts to disk and reads copies",
  async () => {
    assert.equal(await ray.get(holdPutsInWorker.remote(16 * MIB, 6)), 0);
    const stats = node().spillStats();
    assert.ok(stats.bornOnDisk >= 2 && stats.heapCopies >= 2, Deno.inspect(stats));
  },
);
