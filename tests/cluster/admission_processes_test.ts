/**
 * Admission between real `rayd start` processes, at the sizes: a
 * node whose store holds 1.5x one task's arguments (90 MiB) runs ten tasks
 * of 60 MiB arguments each, one by one, every byte right, its peak
 * resident memory (VmHWM) within its resident size before plus its store
 * and a few chunks (no argument copied to the heap).
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { fnv, pattern, patternBytes } from "../fixtures/cluster_fns.ts";
import { checksumOf, mib, procFacts } from "../fixtures/transfer_fns.ts";
import { PULL_CHUNK_BYTES, PULL_IN_FLIGHT } from "../../runtime/cluster/fetch.ts";
import { TestCluster } from "../_cluster/test_cluster.ts";

const MIB = 1024 * 1024;

Deno.test({
  name: "a receiver store of 1.5x one task's 60 MiB arguments runs ten such tasks, memory bounded",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const n = 60 * MIB;
    await using cluster = await TestCluster.start({
      head: { numWorkers: 1 },
      nodes: [
        { numWorkers: 1, resources: { A: 1 }, objectStoreMemory: "700MiB" },
        { numWorkers: 2, resources: { B: 2 }, objectStoreMemory: String(n * 1.5) },
      ],
    });
    await ray.init({ address: cluster.address, token: cluster.token });
    try {
      const made = Array.from(
        { length: 10 },
        (_, i) => pattern.options({ resources: { A: 1 } }).remote(n, 200 + i),
      );
      await ray.wait(made, { numReturns: made.length, fetchLocal: false });
      const b = cluster.nodes[1];
      const before = procFacts(b.pid);
      const started = performance.now();
      const sums = await ray.get(
        made.map((ref) => checksumOf.options({ resources: { B: 1 } }).remote({ ref })),
        { timeoutMs: 120_000 },
      );
      const seconds = (performance.now() - started) / 1000;
      sums.forEach((s, i) => {
        assert.equal(s.length, n);
        assert.equal(s.sum, fnv(patternBytes(n, 200 + i)), `task ${i}`);
        assert.equal(s.nodeId, b.nodeId);
      });
      const after = procFacts(b.pid);
      console.log(
        `ten tasks of 60 MiB arguments through a 90 MiB store in ${seconds.toFixed(2)} s; ` +
          `B's peak memory ${mib(after.hwm)} MiB (RSS before ${mib(before.rss)} MiB)`,
      );
      // One argument at a time in the store (touched once), never a second copy on the heap.
      const bound = before.rss + n * 1.5 + PULL_IN_FLIGHT * PULL_CHUNK_BYTES + 64 * MIB;
      assert.ok(after.hwm <= bound, `B peaked at ${mib(after.hwm)} MiB, over ${mib(bound)} MiB`);
    } finally {
      await ray.shutdown();
    }
  },
});
