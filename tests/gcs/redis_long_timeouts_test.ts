/**
 * Durations of 2^31 ms and more given to the Redis control store:
 * `setTimeout` fires those at once, the store's long timers do not.
 */
import assert from "node:assert/strict";
import process from "node:process";
import type { NodeId } from "../../runtime/common/mod.ts";
import { connectRedis } from "../../runtime/gcs/mod.ts";
import { REDIS_SERVER, startRedis } from "./redis_server.ts";

Deno.test({
  name: "connectRedis with connectTimeoutMs and flushIntervalMs of 2^31 ms and more",
  ignore: !REDIS_SERVER,
  async fn() {
    const server = await startRedis();
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on("warning", onWarning);
    try {
      const store = await connectRedis(server.url, {
        connectTimeoutMs: 2 ** 31,
        flushIntervalMs: 1e10,
        retryMaxMs: 1e10,
      });
      try {
        store.record({
          type: "nodeAdded",
          nodeId: "n1" as NodeId,
          ts: Date.now(),
          address: "127.0.0.1:1",
          resources: { CPU: 1 },
          numWorkers: 1,
        });
        await new Promise((r) => setTimeout(r, 200));
        assert.deepEqual(
          await store.listNodes({}),
          [],
          "the event waits for its batch (flushIntervalMs is 1e10 ms), not written at once",
        );
        await store.flush();
        assert.deepEqual((await store.listNodes({})).map((n) => n.nodeId), ["n1"]);
        assert.deepEqual(warnings, [], "no timer was given more than 2^31 - 1 ms");
      } finally {
        await store.close();
      }
    } finally {
      process.off("warning", onWarning);
      await server.dispose();
    }
  },
});
