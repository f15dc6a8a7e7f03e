import assert from "node:assert/strict";
import type { JobId, NodeId, WorkerId } from "../../runtime/common/mod.ts";
import { objectIdOf } from "../../runtime/common/mod.ts";
import { connectRedis, type ControlStore, MemoryControlStore } from "../../runtime/gcs/mod.ts";
import { spec, taskId } from "./_contract.ts";
import { REDIS_SERVER, type RedisServer, startRedis } from "./redis_server.ts";

const TASKS = 200_000;
const CAP = 1_000;
const CHUNK = 10_000;
const N1 = "node1" as NodeId;
const W1 = "w1" as WorkerId;

/** Records `count` tiny tasks (submitted, running, finished, an object made and freed). */
async function tinyTasks(store: ControlStore, count: number, ts: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const id = taskId();
    const obj = objectIdOf(id, 0);
    store.record({ type: "taskSubmitted", jobId: "j" as JobId, spec: spec(id), ts });
    store.record({ type: "taskState", taskId: id, state: "running", ts, nodeId: N1, workerId: W1 });
    store.record({ type: "objectCreated", objectId: obj, ts, size: 8, owner: N1, nodeId: N1 });
    store.record({ type: "taskState", taskId: id, state: "finished", ts: ts + 1 });
    store.record({ type: "objectFreed", objectId: obj });
  }
  await store.flush();
}

async function usedMemory(server: RedisServer): Promise<number> {
  const info = String(await server.command(["INFO", "memory"]));
  return Number(/used_memory:(\d+)/.exec(info)![1]);
}

async function countKeys(server: RedisServer, pattern: string): Promise<number> {
  let cursor = "0";
  let n = 0;
  do {
    const [next, keys] = await server.command([
      "SCAN",
      cursor,
      "MATCH",
      pattern,
      "COUNT",
      "1000",
    ]) as [
      string,
      string[],
    ];
    cursor = next;
    n += keys.length;
  } while (cursor !== "0");
  return n;
}

Deno.test("MemoryControlStore keeps only maxFinishedTasks of 200k finished tasks", async () => {
  const store = new MemoryControlStore({ maxFinishedTasks: CAP });
  for (let done = 0; done < TASKS; done += CHUNK) await tinyTasks(store, CHUNK, done);
  const sum = await store.summary();
  assert.equal(sum.tasks.retained, CAP);
  assert.equal(sum.tasks.evicted, TASKS - CAP);
  assert.deepEqual(sum.tasks.byState, { finished: TASKS });
  assert.deepEqual(sum.objects, { byState: {}, totalBytes: 0 });
  await store.close();
});

Deno.test({
  name: "RedisControlStore keeps memory flat over 200k finished tasks",
  ignore: !REDIS_SERVER,
  async fn() {
    const server = await startRedis();
    const store = await connectRedis(server.url, { maxFinishedTasks: CAP });
    try {
      await tinyTasks(store, 2 * CHUNK, 0);
      const early = await usedMemory(server);
      for (let done = 2 * CHUNK; done < TASKS; done += CHUNK) await tinyTasks(store, CHUNK, done);
      const late = await usedMemory(server);
      assert.ok(
        late - early < 2 * 1024 * 1024,
        `used_memory grew from ${early} to ${late} bytes over ${TASKS - 2 * CHUNK} more tasks`,
      );
      assert.equal(await countKeys(server, "rayd:task:*"), CAP);
      assert.equal(await countKeys(server, "rayd:object:*"), 0);
      assert.equal(await server.command(["ZCARD", "rayd:task_history"]), CAP);
      assert.equal(await server.command(["ZCARD", "rayd:tasks:finished"]), CAP);
      const sum = await store.summary();
      assert.equal(sum.tasks.retained, CAP);
      assert.equal(sum.tasks.evicted, TASKS - CAP);
      assert.deepEqual(sum.tasks.byState, { finished: TASKS });
    } finally {
      await store.close();
      await server.dispose();
    }
  },
});
