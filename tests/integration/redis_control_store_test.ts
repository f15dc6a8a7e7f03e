/**
 * An embedded cluster that keeps its control store in Redis, queried with
 * `rayd list` and `rayd status` as a user would.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { main } from "../../cli/main.ts";
import { REDIS_SERVER, startRedis } from "../gcs/redis_server.ts";
import { add, throwsTypeError } from "../fixtures/remote_fns.ts";

async function rayd(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

if (!REDIS_SERVER) {
  console.warn("SKIPPED: redis-server not on PATH: Redis control store tests skipped");
}

Deno.test({
  name: "rayd list and status read a finished job's tasks from Redis",
  ignore: !REDIS_SERVER,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const redis = await startRedis();
    try {
      await ray.init({ numWorkers: 2, redisAddress: redis.url });
      try {
        const refs = Array.from({ length: 20 }, (_, i) => add.remote(i, 1));
        assert.equal((await ray.get(refs)).length, 20);
        await assert.rejects(ray.get(throwsTypeError.remote()), ray.RayTaskError);
      } finally {
        await ray.shutdown();
      }
      const all = await rayd("list", "tasks", "--redis-address", redis.url, "--format", "json");
      assert.equal(all.code, 0, all.err);
      const tasks = JSON.parse(all.out) as { name: string; state: string; workerId?: string }[];
      assert.equal(tasks.filter((t) => t.name === "add" && t.state === "finished").length, 20);
      assert.ok(tasks.every((t) => t.workerId !== undefined), "every task records its worker");

      const failed = await rayd("list", "tasks", "--redis-address", redis.url, "--state", "FAILED");
      assert.equal(failed.code, 0, failed.err);
      assert.match(failed.out, /throwsTypeError\s+failed/);
      assert.doesNotMatch(failed.out, /\badd\b/);

      const limited = await rayd("list", "tasks", "--redis-address", redis.url, "--limit", "3");
      assert.equal(limited.out.trim().split("\n").length, 4, "a header and three rows");

      const status = await rayd("status", "--redis-address", redis.url);
      assert.equal(status.code, 0, status.err);
      assert.match(status.out, /finished\s+20/);
      assert.match(status.out, /failed\s+1/);
    } finally {
      await redis.stop();
    }
  },
});

Deno.test("rayd list without a control store to read says how to name one", async () => {
  const { code, err } = await rayd("list", "tasks");
  assert.equal(code, 2);
  assert.match(err, /--redis-address/);
});

Deno.test("rayd list reports a Redis that is not there as an error, not a crash", async () => {
  const { code, err } = await rayd("list", "nodes", "--redis-address", "redis://127.0.0.1:1");
  assert.equal(code, 1);
  assert.match(err, /cannot read the control store/);
});

Deno.test({
  name: "a cluster keeps running tasks while its Redis restarts, and the records arrive after",
  ignore: !REDIS_SERVER,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const redis = await startRedis({ args: ["--appendonly", "yes"] });
    try {
      await ray.init({ numWorkers: 2, redisAddress: redis.url });
      try {
        assert.equal(await ray.get(add.remote(1, 1)), 2);
        await redis.stop();
        const during = await ray.get(Array.from({ length: 50 }, (_, i) => add.remote(i, 0)));
        assert.equal(during.length, 50);
        await redis.start();
        assert.equal(await ray.get(add.remote(2, 2)), 4);
      } finally {
        await ray.shutdown();
      }
      const listed = await rayd(
        "list",
        "tasks",
        "--redis-address",
        redis.url,
        "--format",
        "json",
        "--limit",
        "1000",
      );
      assert.equal(listed.code, 0, listed.err);
      const finished = (JSON.parse(listed.out) as { state: string }[])
        .filter((t) => t.state === "finished");
      assert.equal(finished.length, 52, "every task's record survived the outage");
    } finally {
      await redis.stop();
    }
  },
});
