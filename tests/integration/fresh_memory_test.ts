/**
 * A loop that puts one array again and again, dropping each ref, stays in
 * the store memory it has already written: before writing memory no object
 * used yet, the node's thread frees the refs it dropped (`gcBeforeFreshBytes`).
 * Without it, the loop walked fresh pages (a page fault each, several times
 * the copy's cost on some virtual machines) until the store had grown by an
 * eighth of its capacity.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { currentBackend, reclaimBeforeFresh, storeReclaimer } from "../../runtime/core/mod.ts";
import type { Node } from "../../runtime/node/mod.ts";

const MIB = 1024 * 1024;

function node(): Node {
  return currentBackend() as Node;
}

/**
 * Runs `fn` on a 1 GiB store whose node collects before fresh memory every
 * `every` bytes (installed here, as the node does with `gcBeforeFreshBytes`:
 * an environment variable would reach the other test files of this process).
 */
async function withStore(every: number, fn: () => Promise<void>): Promise<void> {
  await ray.init({ numWorkers: 1, objectStoreMemory: 1024 * MIB });
  try {
    node().arena.onFresh = undefined;
    reclaimBeforeFresh(node().arena, storeReclaimer(), every);
    await fn();
  } finally {
    await ray.shutdown();
  }
}

Deno.test({
  name: "puts of one array with dropped refs stay in the store memory already written",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await withStore(32 * MIB, async () => {
      const array = new Float64Array(8 * MIB / 8).fill(1.5);
      for (let i = 0; i < 64; i++) {
        ray.put(array);
        await new Promise((r) => setTimeout(r, 0));
      }
      const touched = node().arena.touched;
      assert.ok(
        touched <= 96 * MIB,
        `512 MiB of puts wrote ${
          (touched / MIB).toFixed(0)
        } MiB of the store (at most 96 expected)`,
      );
    });
  },
});

Deno.test({
  name: "objects still held are never freed by the collection before fresh memory",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await withStore(16 * MIB, async () => {
      const refs = [];
      for (let i = 0; i < 40; i++) {
        refs.push(ray.put(new Float64Array(4 * MIB / 8).fill(i)));
        ray.put(new Float64Array(4 * MIB / 8).fill(-i)); // dropped at once
        await new Promise((r) => setTimeout(r, 0));
      }
      const values = await ray.get(refs);
      values.forEach((v, i) => {
        assert.equal(v.length, 4 * MIB / 8);
        assert.ok(v.every((x) => x === i), `object ${i} changed`);
      });
      assert.ok(node().arena.touched >= 160 * MIB, "the held objects are all in the store");
    });
  },
});
