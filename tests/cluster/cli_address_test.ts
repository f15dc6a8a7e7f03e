/**
 * The inspecting commands with `--address`: they ask the head where the
 * control store is and read it, as with `--redis-address`.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { square } from "../fixtures/remote_fns.ts";
import { REDIS_SERVER, startRedis } from "../gcs/redis_server.ts";
import { startClusterProcess } from "../../runtime/cluster/mod.ts";
import { startInProcessCluster, TEST_TOKEN } from "./in_process_cluster.ts";

const CLI = new URL("../../cli/main.ts", import.meta.url);

async function rayd(
  env: Record<string, string>,
  ...args: string[]
): Promise<{ code: number; out: string; err: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI.href, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code, out: dec.decode(stdout), err: dec.decode(stderr).trim() };
}

if (!REDIS_SERVER) console.warn("SKIPPED: redis-server not on PATH: rayd status --address skipped");

Deno.test({
  name: "rayd status and list --address, and the head's dashboard, show the whole cluster",
  ignore: !REDIS_SERVER,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const redis = await startRedis();
    const options = {
      bind: "127.0.0.1",
      port: 0,
      nodeIpAddress: "127.0.0.1",
      numCpus: 1,
      numWorkers: 1,
      resources: {},
      objectStoreMemory: 64 * 1024 * 1024,
      token: TEST_TOKEN,
    };
    const head = await startClusterProcess({
      ...options,
      role: "head",
      redisAddress: redis.url,
      dashboardPort: 0,
    });
    const node = await startClusterProcess({ ...options, role: "node", headAddress: head.address });
    try {
      await ray.init({ address: head.address, token: TEST_TOKEN });
      assert.equal(
        (await ray.get(Array.from({ length: 20 }, (_, i) => square.remote(i)))).length,
        20,
      );
      await ray.shutdown();
      const env = { RAYD_TOKEN: TEST_TOKEN };
      const status = await rayd(env, "status", "--address", head.address);
      assert.equal(status.code, 0, status.err);
      assert.ok(status.out.includes(node.nodeId), status.out);
      assert.ok(status.out.includes(head.nodeId), status.out);
      // Each node reports what is free (all of it, the tasks done), not "unknown".
      for (const id of [head.nodeId, node.nodeId]) {
        const line = status.out.split("\n").find((l) => l.includes(id)) ?? "";
        assert.match(line, /\(available: CPU 1\)$/, status.out);
      }
      const list = await rayd(env, "list", "tasks", "--address", head.address, "--format", "json");
      assert.equal(list.code, 0, list.err);
      const finished = (JSON.parse(list.out) as { state: string; name: string }[])
        .filter((t) => t.name === "square" && t.state === "finished");
      assert.ok(finished.length >= 20, `20 finished squares listed, got ${finished.length}`);
      // The head's dashboard shows every node of the cluster.
      const state = await (await fetch(new URL("api/state", head.dashboardUrl))).json() as {
        nodes: { nodeId: string }[];
      };
      const shown = new Set(state.nodes.map((n) => n.nodeId));
      assert.ok(shown.has(head.nodeId) && shown.has(node.nodeId), JSON.stringify(state.nodes));
      const refused = await rayd(
        { RAYD_TOKEN: "a-wrong-token-000" },
        "status",
        "--address",
        head.address,
      );
      assert.equal(refused.code, 1);
      assert.match(refused.err, /refused/);
    } finally {
      await ray.shutdown();
      await node.stop();
      await head.stop();
      await redis.stop();
    }
  },
});

Deno.test({
  name: "rayd status --address says when the head keeps its records in memory, or is not there",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const c = await startInProcessCluster({ numWorkers: 1 }, []);
    try {
      const env = { RAYD_TOKEN: TEST_TOKEN };
      const memory = await rayd(env, "status", "--address", c.address);
      assert.equal(memory.code, 1);
      assert.match(memory.err, /in memory/);
    } finally {
      await c.stop();
    }
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = probe.addr.port;
    probe.close();
    const gone = await rayd({ RAYD_TOKEN: TEST_TOKEN }, "status", "--address", `127.0.0.1:${port}`);
    assert.equal(gone.code, 1);
    assert.match(gone.err, new RegExp(`127\\.0\\.0\\.1:${port}`));
  },
});
