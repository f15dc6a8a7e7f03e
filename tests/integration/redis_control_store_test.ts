/**
 * An embedded cluster that keeps its control store in Redis, queried with
 * `rayd list` and `rayd status` as a user would.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { main } from "../../cli/main.ts";
import { config } from "../../runtime/common/mod.ts";
import { REDIS_SERVER, startRedis, waitFor } from "../gcs/redis_server.ts";
import { add, sleepMs, throwsTypeError } from "../fixtures/remote_fns.ts";
import { CounterActor } from "../fixtures/actor_classes.ts";

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

Deno.test({
  name: "rayd list tasks shows actor calls as Class.method tasks of their actor",
  ignore: !REDIS_SERVER,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const redis = await startRedis();
    try {
      await ray.init({ numWorkers: 2, redisAddress: redis.url });
      let actorId;
      try {
        const counter = CounterActor.remote();
        const refs = Array.from({ length: 30 }, () => counter.incr.remote(1));
        assert.equal((await ray.get(refs)).at(-1), 30);
        await assert.rejects(ray.get(counter.boom.remote()), ray.RayTaskError);
        actorId = await ray.get(counter.whoAmI.remote());
      } finally {
        await ray.shutdown();
      }
      const all = await rayd("list", "tasks", "--redis-address", redis.url, "--format", "json");
      assert.equal(all.code, 0, all.err);
      const tasks = JSON.parse(all.out) as { name: string; state: string; actorId?: string }[];
      const incr = tasks.filter((t) => t.name === "Counter.incr");
      assert.equal(incr.length, 30);
      assert.ok(incr.every((t) => t.state === "finished" && t.actorId === actorId));
      const failed = await rayd("list", "tasks", "--redis-address", redis.url, "--state", "failed");
      assert.match(failed.out, /Counter\.boom\s+failed/);
      const status = await rayd("status", "--redis-address", redis.url);
      assert.match(status.out, /finished\s+31\b/, "30 incr calls and whoAmI");
      assert.match(status.out, /failed\s+1\b/);
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

Deno.test({
  name: "a Redis that comes back empty gets the live cluster written again, with no partial task",
  ignore: !REDIS_SERVER,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const redis = await startRedis();
    const at = ["--redis-address", redis.url];
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (...a: unknown[]) => void warnings.push(a.join(" "));
    try {
      await ray.init({ numWorkers: 2, redisAddress: redis.url });
      try {
        const counter = CounterActor.options({ name: "survivor" }).remote(5);
        assert.equal(await ray.get(counter.incr.remote()), 6);
        const before = await ray.get(Array.from({ length: 200 }, (_, i) => add.remote(i, 1)));
        assert.equal(before.length, 200);
        // Running across the outage: submitted before it, finished during it.
        const slow = Array.from({ length: 2 }, (_, i) => sleepMs.remote(1500, i));
        const kept = ray.put(new Uint8Array(1 << 20).fill(7));
        await new Promise((r) => setTimeout(r, 300));

        await redis.stop("SIGKILL");
        await waitFor(() => warnings.some((w) => w.includes("is unreachable")), 10_000);
        const during = await ray.get(Array.from({ length: 300 }, (_, i) => add.remote(i, 2)));
        assert.equal(during.length, 300);
        assert.deepEqual(await ray.get(slow), [0, 1]);
        await redis.start();
        await waitFor(() => warnings.some((w) => w.includes("came back empty")), 10_000);
        assert.equal(await ray.get(add.remote(2, 2)), 4);
        assert.equal(await ray.get(counter.incr.remote()), 7);
        const nodes = async () => (await rayd("list", "nodes", ...at, "--format", "json")).out;
        await waitFor(async () => /alive/.test(await nodes()), 10_000);

        const status = await rayd("status", ...at);
        assert.equal(status.code, 0, status.err);
        assert.match(status.out, /^Nodes: 1 alive$/m, status.out);
        const alive = Number(/^Workers: (\d+) alive/m.exec(status.out)?.[1]);
        assert.ok(alive >= 2, status.out);
        const workers = JSON.parse((await rayd("list", "workers", ...at, "--format", "json")).out)
          .filter((w: { state: string }) => w.state === "alive");
        assert.ok(workers.length >= 2, `alive workers: ${JSON.stringify(workers)}`);
        const actors = JSON.parse((await rayd("list", "actors", ...at, "--format", "json")).out);
        assert.ok(
          actors.some((a: { name?: string; state: string }) =>
            a.name === "survivor" && a.state === "alive"
          ),
          JSON.stringify(actors),
        );
        const objects = JSON.parse((await rayd("list", "objects", ...at, "--format", "json")).out);
        assert.ok(objects.some((o: { objectId: string }) => o.objectId === kept.id), "the put");
        const listed = await rayd("list", "tasks", ...at, "--format", "json", "--limit", "10000");
        const tasks = JSON.parse(listed.out) as { name: string; jobId?: string; returns: [] }[];
        const partial = tasks.filter((t) => t.name === "" || !t.jobId || t.returns.length === 0);
        assert.deepEqual(partial, [], `${partial.length} of ${tasks.length} records are partial`);
        assert.equal(tasks.filter((t) => t.name === "sleepMs").length, 2, "the slow tasks");
        assert.ok(tasks.filter((t) => t.name === "add").length >= 301, "the tasks since");
      } finally {
        await ray.shutdown();
      }
    } finally {
      console.warn = warn;
      await redis.stop();
    }
  },
});

Deno.test({
  name:
    "a frozen Redis does not hang the driver: timeline() fails after the command deadline, shutdown() ends within its bound",
  ignore: !REDIS_SERVER,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const redis = await startRedis();
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (...a: unknown[]) => void warnings.push(a.join(" "));
    let frozen = false;
    try {
      await ray.init({ numWorkers: 1, redisAddress: redis.url });
      let down = false;
      try {
        assert.equal(await ray.get(add.remote(1, 1)), 2);
        Deno.kill(redis.pid!, "SIGSTOP");
        frozen = true;
        assert.equal(await ray.get(add.remote(2, 2)), 4, "tasks still run");
        const t0 = Date.now();
        const timeline = await ray.timeline().then(() => undefined, (e) => e);
        const took = Date.now() - t0;
        assert.ok(timeline instanceof ray.RayError, `timeline gave ${timeline}`);
        assert.match(timeline.message, /did not answer within 3000 ms/);
        assert.ok(took < 3000 + 1500, `timeline took ${took} ms`);
        const t1 = Date.now();
        down = true;
        await ray.shutdown();
        const bound = config("gcsRedisConnectTimeoutMs") + 2 * config("gcsRedisCommandTimeoutMs");
        assert.ok(Date.now() - t1 <= bound + 1000, `shutdown took ${Date.now() - t1} ms`);
        assert.ok(
          warnings.some((w) =>
            /closing with \d+ event\(s\) not written to .*did not answer/.test(w)
          ),
          warnings.join("\n"),
        );
      } finally {
        if (!down) await ray.shutdown();
      }
    } finally {
      console.warn = warn;
      if (frozen) Deno.kill(redis.pid!, "SIGCONT");
      await redis.stop();
    }
  },
});
