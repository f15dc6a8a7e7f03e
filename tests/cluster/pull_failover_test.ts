/**
 * A holder that stops answering mid-pull (its process stopped with SIGSTOP,
 * real `rayd start` processes): the reader's pull gives it up after
 * `pullRequestTimeoutMs` and takes the object from another copy; a `get`
 * with `timeoutMs` ends at its deadline meanwhile.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { fnv, KeeperActor, pattern, patternBytes } from "../fixtures/cluster_fns.ts";
import { TestCluster } from "../_cluster/test_cluster.ts";
import { withEnv } from "../_cluster/env_lock.ts";

const MIB = 1024 * 1024;

Deno.test({
  name: "a stalled holder is left for another copy; get's timeoutMs holds during the pull",
  sanitizeOps: false,
  sanitizeResources: false,
  // The processes started below inherit the setting.
  fn: () =>
    withEnv({ RAYD_PULL_REQUEST_TIMEOUT_MS: "1500" }, async () => {
      await using cluster = await TestCluster.start({
        // The stopped node must not be declared dead during the test: only the pull notices it.
        head: { numWorkers: 1, healthCheckPeriodMs: 1000, healthCheckFailureThreshold: 60 },
        nodes: [
          { numWorkers: 1, resources: { A: 1 }, objectStoreMemory: "128MiB" },
          { numWorkers: 1, resources: { B: 1 }, objectStoreMemory: "128MiB" },
        ],
      });
      await ray.init({ address: cluster.address, token: cluster.token });
      try {
        const n = 24 * MIB + 3;
        const want = fnv(patternBytes(n, 5));
        const made = pattern.options({ resources: { A: 1 } }).remote(n, 5);
        const keeper = KeeperActor.options({ resources: { B: 1 } }).remote();
        assert.equal(await ray.get(keeper.keep.remote({ ref: made })), want, "a copy on B");
        const [a] = cluster.nodes;
        Deno.kill(a.pid, "SIGSTOP");
        try {
          const started = performance.now();
          await assert.rejects(ray.get(made, { timeoutMs: 300 }), ray.GetTimeoutError);
          const waited = performance.now() - started;
          assert.ok(waited < 1400, `the get ended at its deadline (${waited.toFixed(0)} ms)`);
          const got = await ray.get(made, { timeoutMs: 30_000 });
          assert.equal(got.length, n);
          assert.equal(fnv(got), want, "from B's copy");
        } finally {
          Deno.kill(a.pid, "SIGCONT");
        }
      } finally {
        await ray.shutdown();
      }
    }),
});
