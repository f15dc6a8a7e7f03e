/**
 * The Redis store never drops a record: past `queueMax` queued entries it
 * reports `backpressure()` (the node then starts no task) until half are
 * written, whether Redis is slow, frozen or away.
 */
import assert from "node:assert/strict";
import type { JobId, TaskId } from "../../runtime/common/mod.ts";
import { connectRedis } from "../../runtime/gcs/mod.ts";
import { runTask } from "./_contract.ts";
import { REDIS_SERVER, startRedis } from "./redis_server.ts";

Deno.test({
  name:
    "past queueMax the Redis store reports backpressure, drops nothing, and clears it once written",
  ignore: !REDIS_SERVER,
  async fn() {
    const server = await startRedis();
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (...a: unknown[]) => warnings.push(a.join(" "));
    const store = await connectRedis(server.url, {
      queueMax: 100,
      retryMaxMs: 50,
      commandTimeoutMs: 300,
    });
    let frozen = false;
    try {
      store.record({ type: "jobStarted", jobId: "j1" as JobId, ts: 1 });
      await store.flush();
      assert.equal(store.backpressure(), undefined, "an empty queue");
      // Redis stops answering: nothing can be written while 1,000 tasks run.
      Deno.kill(server.pid!, "SIGSTOP");
      frozen = true;
      const ids: TaskId[] = [];
      for (let i = 0; i < 99; i++) ids.push(runTask(store, 10 + 3 * i));
      assert.equal(store.backpressure(), undefined, "below queueMax: no pressure");
      for (let i = 99; i < 1000; i++) ids.push(runTask(store, 10 + 3 * i));
      // Each task's three events are one entry, and none is dropped.
      assert.equal(store.queued, 3000);
      const pressure = store.backpressure();
      assert.ok(pressure instanceof Promise, "past queueMax: pressure");
      let relieved = false;
      pressure.then(() => relieved = true);
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(relieved, false, "still behind while Redis is frozen");

      Deno.kill(server.pid!, "SIGCONT");
      frozen = false;
      await pressure;
      assert.ok(store.queued < 50, `relieved at half of queueMax, ${store.queued} queued`);
      await store.flush();
      assert.equal(store.backpressure(), undefined);
      const sum = await store.summary();
      assert.deepEqual(sum.tasks.byState, { finished: 1000 });
      for (const id of [ids[0], ids[500], ids[999]]) {
        const t = await store.getTask(id);
        assert.deepEqual(t?.history.map((h) => h.state), ["submitted", "running", "finished"]);
      }
      assert.ok(!warnings.some((w) => /dropped|lost/.test(w)), warnings.join("\n"));
    } finally {
      if (frozen) Deno.kill(server.pid!, "SIGCONT");
      console.warn = warn;
      await store.close();
      await server.dispose();
    }
  },
});

Deno.test({
  name: "close() writes a long queue to the end instead of giving up at the command deadline",
  ignore: !REDIS_SERVER,
  async fn() {
    const server = await startRedis();
    // Short deadlines (the old close() gave all its writes connectTimeoutMs +
    // commandTimeoutMs), and every record written in full.
    const store = await connectRedis(server.url, {
      commandTimeoutMs: 1000,
      connectTimeoutMs: 500,
      maxFinishedTasks: 100_000,
      batchMax: 500,
      flushIntervalMs: 60_000,
      queueMax: 1_000_000,
    });
    try {
      for (let i = 0; i < 60_000; i++) runTask(store, i);
      const t0 = Date.now();
      await store.close();
      console.log(`close() wrote 60,000 tasks in ${Date.now() - t0} ms`);
      const check = await connectRedis(server.url);
      try {
        assert.deepEqual((await check.summary()).tasks.byState, { finished: 60_000 });
      } finally {
        await check.close();
      }
    } finally {
      await store.close();
      await server.dispose();
    }
  },
});

Deno.test({
  name:
    "tasks that ended far behind are only counted: the history and the counts are as if all were written",
  ignore: !REDIS_SERVER,
  async fn() {
    const server = await startRedis();
    const store = await connectRedis(server.url, {
      maxFinishedTasks: 100,
      flushIntervalMs: 60_000,
    });
    try {
      store.record({ type: "jobStarted", jobId: "j1" as JobId, ts: 1 });
      const ids: TaskId[] = [];
      for (let i = 0; i < 1000; i++) ids.push(runTask(store, 10 + 3 * i));
      await store.flush();
      const sum = await store.summary();
      assert.deepEqual(sum.tasks.byState, { finished: 1000 });
      assert.deepEqual(sum.tasks.byFunction, { add: { finished: 1000 } });
      assert.equal(sum.tasks.retained, 100);
      assert.equal(sum.tasks.evicted, 900);
      // The newest 100 are kept in full, the others are gone, as after eviction.
      for (const id of ids.slice(900)) {
        const t = await store.getTask(id);
        assert.deepEqual(t?.history.map((h) => h.state), ["submitted", "running", "finished"]);
      }
      assert.equal(await store.getTask(ids[899]), undefined);
      const finished = await store.listTasks({ state: "finished", limit: 1000 });
      assert.equal(finished.length, 100);
      // Only the kept records were written as hashes.
      const stats = String(await server.command(["INFO", "commandstats"]));
      const hsets = Number(/cmdstat_hset:calls=(\d+)/.exec(stats)![1]);
      assert.ok(hsets < 150, `${hsets} HSET calls for 100 kept records`);
      assert.doesNotMatch(stats, /cmdstat_publish:/, "nobody subscribes: nothing is published");
    } finally {
      await store.close();
      await server.dispose();
    }
  },
});
