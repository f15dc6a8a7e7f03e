/**
 * The programs of examples/, unchanged, run as their own processes against
 * a three-node cluster (a head and two nodes, in this test's process) with
 * `RAYD_ADDRESS` and `RAYD_TOKEN` set: each checks its own results.
 */
import assert from "node:assert/strict";
import { checkExample } from "../integration/example_runner.ts";
import { type InProcessCluster, startInProcessCluster, TEST_TOKEN } from "./in_process_cluster.ts";

/** A test with a fresh three-node cluster whose address is in `env`. */
function onCluster(name: string, fn: (env: Record<string, string>) => Promise<void>): void {
  Deno.test({
    name,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const c: InProcessCluster = await startInProcessCluster(
        { numWorkers: 1 },
        [{ numWorkers: 2 }, { numWorkers: 2 }],
      );
      try {
        await fn({ RAYD_ADDRESS: c.address, RAYD_TOKEN: TEST_TOKEN });
      } finally {
        await c.stop();
      }
    },
  });
}

onCluster("examples/word_count.ts on a three-node cluster", async (env) => {
  const dir = await Deno.makeTempDir({ prefix: "rayd_word_count_cluster_" });
  try {
    for (let f = 0; f < 12; f++) {
      await Deno.writeTextFile(`${dir}/part_${f}.txt`, `ray task ray node actor ${f % 3}`);
    }
    const out = await checkExample(
      "word_count.ts",
      [dir, "--reducers", "3"],
      "word count matches",
      env,
    );
    assert.ok(out.includes("12 files, 72 words"), out);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

onCluster("examples/parameter_server.ts on a three-node cluster", async (env) => {
  const out = await checkExample(
    "parameter_server.ts",
    ["--workers", "3", "--steps", "30"],
    "parameter server converged",
    env,
  );
  assert.ok(out.includes("30 updates"), out);
});

onCluster("examples/hyperparameter_search.ts on a three-node cluster", async (env) => {
  const out = await checkExample(
    "hyperparameter_search.ts",
    ["--trials", "12"],
    "search reached the target",
    env,
  );
  const m = out.match(/(\d+) trials finished, (\d+) cancelled early/);
  assert.ok(m, out);
  assert.equal(Number(m[1]) + Number(m[2]), 12);
});
