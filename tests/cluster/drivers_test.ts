/**
 * Drivers as their own processes against one cluster: several at once, and
 * a driver that exits (without `shutdown()`) ends its non-detached actors
 * but not its detached ones, nor the cluster.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { startInProcessCluster, TEST_TOKEN } from "./in_process_cluster.ts";

const DRIVER = new URL("../fixtures/cluster_driver.ts", import.meta.url);

async function driver(env: Record<string, string>, ...args: string[]): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", DRIVER.href, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout);
  assert.equal(
    code,
    0,
    `driver ${args.join(" ")} exited ${code}:\n${out}\n${new TextDecoder().decode(stderr)}`,
  );
  return out;
}

Deno.test({
  name: "three drivers at once share a cluster, each with exact results",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const c = await startInProcessCluster({ numWorkers: 1 }, [{ numWorkers: 2 }]);
    try {
      const env = { RAYD_ADDRESS: c.address, RAYD_TOKEN: TEST_TOKEN };
      const outs = await Promise.all([300, 400, 500].map((n) => driver(env, "squares", String(n))));
      const want = (n: number) => ((n - 1) * n * (2 * n - 1)) / 6;
      assert.deepEqual(outs.map((o) => o.trim()), [300, 400, 500].map((n) => `sum ${want(n)}`));
    } finally {
      await c.stop();
    }
  },
});

Deno.test({
  name:
    "a driver joining a cluster with a leasedTasks setting other than 0, 1 or 2 fails, naming it",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const c = await startInProcessCluster({ numWorkers: 1 }, []);
    try {
      const env = { RAYD_ADDRESS: c.address, RAYD_TOKEN: TEST_TOKEN, RAYD_LEASED_TASKS: "7" };
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", DRIVER.href, "squares", "3"],
        env: { ...env, NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.notEqual(out.code, 0, "it ran with RAYD_LEASED_TASKS=7");
      assert.match(
        new TextDecoder().decode(out.stderr),
        /RAYD_LEASED_TASKS\): expected 0, 1 or 2, got 7/,
      );
    } finally {
      await c.stop();
    }
  },
});

Deno.test({
  name: "a driver's exit ends its actors but not its detached ones, nor the cluster",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const c = await startInProcessCluster({ numWorkers: 1 }, [{ numWorkers: 2, numCpus: 4 }]);
    try {
      const env = { RAYD_ADDRESS: c.address, RAYD_TOKEN: TEST_TOKEN };
      assert.equal((await driver(env, "actors", "mine")).trim(), "counts 1 101");
      await ray.init({ address: c.address, token: TEST_TOKEN });
      try {
        const detached = await ray.getActor<{ incr(): number }>("mine-detached");
        assert.equal(await ray.get(detached.incr.remote()), 102);
        await assert.rejects(ray.getActor("mine"), /mine/);
        // On its node, the driver's own actor is dead and the detached one alive.
        const hosts = [c.head, ...c.nodes];
        let states: Record<string, string> = {};
        for (let i = 0; i < 100 && states.mine !== "dead"; i++) {
          const all = (await Promise.all(hosts.map((h) => h.node.gcs.listActors()))).flat();
          states = Object.fromEntries(all.map((a) => [a.name ?? "", a.state]));
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.equal(states.mine, "dead");
        assert.equal(states["mine-detached"], "alive");
      } finally {
        await ray.shutdown();
      }
    } finally {
      await c.stop();
    }
  },
});
