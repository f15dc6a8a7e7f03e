/**
 * Pulls between nodes (runtime/cluster/pulls.ts, fetch.ts) in an in-process
 * cluster: objects of every size around the chunk and inline limits cross
 * byte for byte; a node whose store holds 1.5x one task's arguments runs ten
 * such tasks one by one (admission), with nothing written to disk or copied
 * to the heap; one object read on every node at once arrives whole.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { checksum, fnv, pattern, patternBytes } from "../fixtures/cluster_fns.ts";
import { INLINE_MAX, PULL_CHUNK_BYTES, PULL_IN_FLIGHT } from "../../runtime/cluster/fetch.ts";
import { ObjectRef } from "../../runtime/core/mod.ts";
import { clusterTest, startInProcessCluster, TEST_TOKEN } from "./in_process_cluster.ts";

const MIB = 1024 * 1024;

clusterTest("objects around the chunk and inline sizes cross nodes byte for byte", [
  { numWorkers: 1, resources: { A: 1 }, objectStoreMemory: 256 * MIB },
  { numWorkers: 1, resources: { B: 1 }, objectStoreMemory: 256 * MIB },
], async (c) => {
  const window = PULL_CHUNK_BYTES * PULL_IN_FLIGHT;
  const sizes = [
    INLINE_MAX + 1,
    PULL_CHUNK_BYTES - 1,
    PULL_CHUNK_BYTES,
    PULL_CHUNK_BYTES + 1,
    window + PULL_CHUNK_BYTES + 12_345, // more chunks than in flight at once
  ];
  for (const [i, n] of sizes.entries()) {
    const made = pattern.options({ resources: { A: 1 } }).remote(n, i + 1);
    const want = fnv(patternBytes(n, i + 1));
    const there = await ray.get(checksum.options({ resources: { B: 1 } }).remote(made));
    assert.deepEqual(there, { sum: want, length: n, nodeId: c.nodes[1].nodeId }, `size ${n}`);
    const here = await ray.get(made);
    assert.equal(fnv(here), want, `size ${n} at the driver`);
  }
});

clusterTest(
  "a store of 1.5x one task's arguments runs ten such tasks one by one, nothing on disk or heap",
  [
    { numWorkers: 1, resources: { A: 1 }, objectStoreMemory: 256 * MIB },
    { numWorkers: 2, resources: { B: 2 }, objectStoreMemory: 24 * MIB + MIB },
  ],
  async (c) => {
    const n = 16 * MIB;
    const made = Array.from(
      { length: 10 },
      (_, i) => pattern.options({ resources: { A: 1 } }).remote(n, 100 + i),
    );
    await ray.wait(made, { numReturns: made.length, fetchLocal: false });
    const sums = await ray.get(
      made.map((ref) => checksum.options({ resources: { B: 1 } }).remote(ref)),
    );
    sums.forEach((s, i) => {
      assert.equal(s.sum, fnv(patternBytes(n, 100 + i)), `task ${i}`);
      assert.equal(s.nodeId, c.nodes[1].nodeId);
    });
    const stats = c.nodes[1].node.spillStats();
    assert.equal(stats.bornOnDisk, 0, "no pulled argument went to disk");
    assert.equal(stats.heapCopies, 0);
  },
);

clusterTest(
  "one object read by tasks on every node at once (a broadcast) arrives whole everywhere",
  [
    { numWorkers: 1, resources: { A: 1 } },
    { numWorkers: 1, resources: { B: 1 } },
    { numWorkers: 1, resources: { C: 1 } },
  ],
  async (c) => {
    const n = 3 * PULL_CHUNK_BYTES + 5;
    const made = pattern.options({ resources: { A: 1 } }).remote(n, 7);
    await ray.wait([made], { fetchLocal: false });
    const readers = ["B", "C", "B", "C"].map((r) =>
      checksum.options({ resources: { [r]: 1 } }).remote(made)
    );
    const [sums, here] = await Promise.all([ray.get(readers), ray.get(made)]);
    const want = fnv(patternBytes(n, 7));
    for (const s of sums) assert.equal(s.sum, want);
    assert.equal(fnv(here), want);
    assert.deepEqual(
      new Set(sums.map((s) => s.nodeId)),
      new Set([c.nodes[1].nodeId, c.nodes[2].nodeId]),
    );
  },
);

Deno.test({
  name:
    "shutting down while a pull waits for a copy nobody published leaves no unhandled rejection",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: PromiseRejectionEvent) => {
      e.preventDefault();
      unhandled.push(e.reason);
    };
    globalThis.addEventListener("unhandledrejection", onUnhandled);
    const c = await startInProcessCluster({ numWorkers: 1 }, []);
    try {
      await ray.init({ address: c.address, token: TEST_TOKEN });
      try {
        // An object no process holds or will make, owned by the head's process: its pull asks the
        // head's process where it is, and waits (an id of no member's tag would be lost at once).
        const nowhere = new ObjectRef(`${c.head.node.ids.ownerTag}00c0ffee000000010000`);
        await assert.rejects(ray.get(nowhere, { timeoutMs: 200 }), ray.GetTimeoutError);
      } finally {
        await ray.shutdown(); // the pull's question is still open: its link closes under it
      }
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(unhandled.map(String), [], "no promise rejected unhandled");
    } finally {
      globalThis.removeEventListener("unhandledrejection", onUnhandled);
      await c.stop();
    }
  },
});

clusterTest(
  "objects spilled on a full holder are served to a reader from disk, all at once",
  [{ numWorkers: 1, resources: { A: 1 }, objectStoreMemory: 128 * MIB }],
  async (c) => {
    const n = 48 * MIB;
    const made = [1, 2, 3, 4].map((i) => pattern.options({ resources: { A: 1 } }).remote(n, i));
    await ray.wait(made, { numReturns: made.length, fetchLocal: false });
    const holder = c.nodes[0].node;
    assert.ok(
      holder.spillStats().spilled >= 2,
      "A's store holds two of the four: the rest spilled",
    );
    const got = await ray.get(made, { timeoutMs: 60_000 });
    got.forEach((bytes, i) => assert.equal(fnv(bytes), fnv(patternBytes(n, i + 1)), `object ${i}`));
    assert.equal(holder.spillStats().restores, 0, "read from disk, not restored into A's store");
  },
);
