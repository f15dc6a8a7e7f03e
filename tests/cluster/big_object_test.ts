/**
 * Big objects between real `rayd start` processes:
 * - one 256 MiB object read by tasks on every node at once arrives whole
 *   everywhere, each node's peak resident memory (VmHWM) staying within
 *   its resident size before plus the object plus a few chunks;
 * - the holder a pull reads from is killed (SIGKILL) mid-pull while another
 *   copy exists: the reader finishes from that copy, every byte right.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { fnv, KeeperActor, pattern, patternBytes } from "../fixtures/cluster_fns.ts";
import { checksumOf, mib, procFacts } from "../fixtures/transfer_fns.ts";
import { PULL_CHUNK_BYTES, PULL_IN_FLIGHT } from "../../runtime/cluster/fetch.ts";
import { TestCluster } from "../_cluster/test_cluster.ts";

const MIB = 1024 * 1024;
const SIZE = 256 * MIB;
/** Each node's store: the object, with room to spare. */
const STORE = "384MiB";

Deno.test({
  name: "one 256 MiB object read by tasks on every node at once: exact bytes, peak memory bounded",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using cluster = await TestCluster.start({
      head: { numWorkers: 1, resources: { N0: 1 }, objectStoreMemory: STORE },
      nodes: [
        { numWorkers: 1, resources: { N1: 1 }, objectStoreMemory: STORE },
        { numWorkers: 1, resources: { N2: 1 }, objectStoreMemory: STORE },
      ],
    });
    const names = ["N0", "N1", "N2"];
    await ray.init({ address: cluster.address, token: cluster.token });
    try {
      const want = fnv(patternBytes(SIZE, 11));
      const made = pattern.options({ resources: { N1: 1 } }).remote(SIZE, 11);
      await ray.wait([made], { fetchLocal: false });
      const before = cluster.all.map((n) => procFacts(n.pid));
      const started = performance.now();
      const sums = await ray.get(
        names.map((r) => checksumOf.options({ resources: { [r]: 1 } }).remote({ ref: made })),
      );
      const seconds = (performance.now() - started) / 1000;
      const after = cluster.all.map((n) => procFacts(n.pid));
      for (const [k, s] of sums.entries()) {
        assert.equal(s.length, SIZE, `length read on ${names[k]}`);
        assert.equal(s.sum, want, `checksum read on ${names[k]}`);
        assert.equal(s.nodeId, cluster.all[k].nodeId);
      }
      console.log(
        `256 MiB read on 3 nodes at once in ${seconds.toFixed(2)} s; peak memory (VmHWM) ` +
          names.map((r, k) => `${r} ${mib(after[k].hwm)} MiB (RSS before ${mib(before[k].rss)})`)
            .join(", ") +
          " (N1 made it)",
      );
      // A reader holds the object in its store, plus at most the chunks in flight.
      const bound = (k: number) =>
        before[k].rss + SIZE + PULL_IN_FLIGHT * PULL_CHUNK_BYTES + 64 * MIB;
      for (const k of [0, 2]) {
        assert.ok(
          after[k].hwm <= bound(k),
          `${names[k]} peaked at ${mib(after[k].hwm)} MiB, over ${mib(bound(k))} MiB`,
        );
      }
    } finally {
      await ray.shutdown();
    }
  },
});

Deno.test({
  name: "a holder killed mid-pull while another copy exists: the reader finishes from that copy",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using cluster = await TestCluster.start({
      head: { numWorkers: 1 },
      nodes: [
        { numWorkers: 1, resources: { A: 1 }, objectStoreMemory: STORE },
        { numWorkers: 1, resources: { B: 1 }, objectStoreMemory: STORE },
      ],
    });
    await ray.init({
      address: cluster.address,
      token: cluster.token,
      objectStoreMemory: 384 * MIB,
    });
    try {
      const want = fnv(patternBytes(SIZE, 13));
      // Made by a task on A: its owner (this driver) pulls from A first.
      const made = pattern.options({ resources: { A: 1 } }).remote(SIZE, 13);
      const keeper = KeeperActor.options({ resources: { B: 1 } }).remote();
      assert.equal(await ray.get(keeper.keep.remote({ ref: made })), want, "a copy on B");
      const [a] = cluster.nodes;
      // The pull's chunks land in this process's store, which grows resident as they do.
      const readSoFar = () => procFacts("self").rss;
      const base = readSoFar();
      let killedAt = -1;
      const watch = setInterval(() => {
        const read = readSoFar() - base;
        if (killedAt < 0 && read >= 32 * MIB) {
          killedAt = read;
          Deno.kill(a.pid, "SIGKILL");
        }
      }, 1);
      let got: Uint8Array;
      try {
        got = await ray.get(made, { timeoutMs: 60_000 });
      } finally {
        clearInterval(watch);
      }
      assert.ok(killedAt > 0, "A was killed during the pull");
      assert.ok(
        killedAt < SIZE - 32 * MIB,
        `A was killed mid-pull (after ${mib(killedAt)} of ${mib(SIZE)} MiB)`,
      );
      assert.equal(a.alive, false);
      assert.equal(got.length, SIZE);
      assert.equal(fnv(got), want, "every byte, from B's copy");
      console.log(`A killed after ${mib(killedAt)} MiB of the pull; the rest came from B`);
    } finally {
      await ray.shutdown();
    }
  },
});
