import assert from "node:assert/strict";
import type { JobId, NodeId, TaskId } from "../../runtime/common/mod.ts";
import { connectRedis, ControlStoreError } from "../../runtime/gcs/mod.ts";
import { runTask } from "./_contract.ts";
import { REDIS_SERVER, startRedis, waitFor } from "./redis_server.ts";

const ignore = !REDIS_SERVER;
const N1 = "node1" as NodeId;

function captureWarnings(): { lines: string[]; restore: () => void } {
  const lines: string[] = [];
  const warn = console.warn;
  console.warn = (...a: unknown[]) => lines.push(a.join(" "));
  return { lines, restore: () => console.warn = warn };
}

Deno.test({
  name: "a Redis restart loses nothing: writes made while it is down are replayed",
  ignore,
  async fn() {
    const server = await startRedis({ args: ["--appendonly", "yes", "--appendfsync", "always"] });
    const warnings = captureWarnings();
    const store = await connectRedis(server.url, { retryMaxMs: 50, maxFinishedTasks: 1000 });
    try {
      store.record({ type: "jobStarted", jobId: "j1" as JobId, ts: 1 });
      store.record({
        type: "nodeAdded",
        nodeId: N1,
        ts: 1,
        address: "",
        resources: { CPU: 2 },
        numWorkers: 2,
      });
      const before: TaskId[] = [];
      for (let i = 0; i < 100; i++) before.push(runTask(store, 10 + 3 * i));
      await store.kvPut("phase", "before");

      await server.stop();
      await waitFor(() => warnings.lines.some((w) => w.includes("is unreachable")));
      const during: TaskId[] = [];
      for (let i = 0; i < 100; i++) during.push(runTask(store, 1000 + 3 * i));
      store.record({ type: "nodeHeartbeat", nodeId: N1, ts: 2000, available: { CPU: 1 } });
      store.record({ type: "kvPut", key: "phase", value: "during" });
      const write = await store.flush().then(() => undefined, (e) => e);
      assert.ok(write instanceof ControlStoreError);
      assert.equal(write.code, "unreachable");
      const read = await store.getTask(before[0]).then(() => undefined, (e) => e);
      assert.ok(read instanceof ControlStoreError);
      assert.match(read.message, /Redis is unreachable \(302 write\(s\) queued/);
      assert.equal(store.queued, 302);
      assert.equal(warnings.lines.filter((w) => w.includes("is unreachable")).length, 1);

      await server.start();
      await waitFor(() => store.queued === 0, 10_000);
      store.record({ type: "kvPut", key: "phase", value: "after" });
      await store.flush();

      for (const id of [...before, ...during]) {
        const t = await store.getTask(id);
        assert.equal(t?.state, "finished", `task ${id}`);
        assert.equal(t?.history.length, 3);
      }
      const sum = await store.summary();
      assert.deepEqual(sum.tasks.byState, { finished: 200 });
      assert.equal((await store.getNode(N1))?.heartbeatAt, 2000);
      assert.equal((await store.getJob("j1" as JobId))?.state, "running");
      assert.equal(await store.kvGet("phase"), "after");
      assert.ok(warnings.lines.some((w) => /is back; replaying 302 queued event/.test(w)));
      assert.equal(warnings.lines.filter((w) => w.includes("came back empty")).length, 0);
    } finally {
      warnings.restore();
      await store.close();
      await server.dispose();
    }
  },
});

Deno.test({
  name: "a Redis that comes back empty is reported to onReconnect with dataLost",
  ignore,
  async fn() {
    const server = await startRedis();
    const warnings = captureWarnings();
    const reconnects: boolean[] = [];
    const store = await connectRedis(server.url, {
      retryMaxMs: 50,
      onReconnect: ({ dataLost }) => reconnects.push(dataLost),
    });
    try {
      await store.kvPut("a", "1");
      await server.stop();
      await waitFor(() => warnings.lines.some((w) => w.includes("is unreachable")));
      store.record({ type: "kvPut", key: "b", value: "2" });
      await server.start();
      await waitFor(() => reconnects.length === 1 && store.queued === 0, 10_000);
      assert.deepEqual(reconnects, [true]);
      assert.ok(warnings.lines.some((w) => w.includes("came back empty")));
      assert.equal(await store.kvGet("b"), "2");
    } finally {
      warnings.restore();
      await store.close();
      await server.dispose();
    }
  },
});
