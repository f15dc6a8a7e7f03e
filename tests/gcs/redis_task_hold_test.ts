/**
 * The Redis store holds a submitted task's record up to `taskHoldMs` for the
 * task's end, so a short task is written once, with its whole history, and
 * not once per state change; a task still open after that is written as it
 * stands, and an explicit flush writes everything at once.
 */
import assert from "node:assert/strict";
import type { JobId } from "../../runtime/common/mod.ts";
import { connectRedis, type RedisControlStore } from "../../runtime/gcs/mod.ts";
import { spec, taskId } from "./_contract.ts";
import { REDIS_SERVER, startRedis } from "./redis_server.ts";

const JOB = "j" as JobId;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` on a store in a fresh Redis that flushes every 5 ms and holds open tasks `holdMs`. */
async function withStore(holdMs: number, fn: (store: RedisControlStore) => Promise<void>) {
  const server = await startRedis();
  const store = await connectRedis(server.url, { flushIntervalMs: 5, taskHoldMs: holdMs });
  try {
    await fn(store);
  } finally {
    await store.close();
    await server.dispose();
  }
}

Deno.test({
  name: "Redis store: a task's record waits taskHoldMs for its end, then is written as it stands",
  ignore: !REDIS_SERVER,
  fn: () =>
    withStore(400, async (store) => {
      const short = taskId();
      const long = taskId();
      store.record({ type: "taskSubmitted", jobId: JOB, spec: spec(short), ts: Date.now() });
      store.record({ type: "taskSubmitted", jobId: JOB, spec: spec(long), ts: Date.now() });
      store.record({ type: "kvPut", key: "behind", value: "1" });
      await sleep(100);
      assert.equal(await store.getTask(short), undefined, "held: it may yet end");
      assert.equal(await store.kvGet("behind"), undefined, "what came after waits behind it");
      store.record({ type: "taskState", taskId: short, state: "running", ts: Date.now() });
      store.record({ type: "taskState", taskId: short, state: "finished", ts: Date.now() });
      store.record({ type: "taskState", taskId: long, state: "running", ts: Date.now() });
      // The hold ends about 400 ms after the submissions: both are written then.
      const deadline = Date.now() + 5_000;
      while ((await store.getTask(long)) === undefined) {
        assert.ok(Date.now() < deadline, "an open task is written once its hold is over");
        await sleep(20);
      }
      const s = await store.getTask(short);
      assert.deepEqual(s?.history.map((h) => h.state), ["submitted", "running", "finished"]);
      assert.equal((await store.getTask(long))?.state, "running", "written as it stands");
      assert.equal(await store.kvGet("behind"), "1");

      // An explicit flush does not wait for the hold.
      const fresh = taskId();
      store.record({ type: "taskSubmitted", jobId: JOB, spec: spec(fresh), ts: Date.now() });
      await store.flush();
      assert.equal((await store.getTask(fresh))?.state, "submitted");
    }),
});

Deno.test({
  name:
    "Redis store: a held task that ends is written at the next flush interval, not at its hold's end",
  ignore: !REDIS_SERVER,
  fn: () =>
    withStore(3_000, async (store) => {
      const id = taskId();
      store.record({ type: "taskSubmitted", jobId: JOB, spec: spec(id), ts: Date.now() });
      await sleep(60); // the timer found it open and held it
      assert.equal(await store.getTask(id), undefined);
      store.record({ type: "taskState", taskId: id, state: "finished", ts: Date.now() });
      const ended = Date.now();
      while ((await store.getTask(id))?.state !== "finished") {
        assert.ok(Date.now() - ended < 1_500, "written soon after it ended");
        await sleep(10);
      }
    }),
});
