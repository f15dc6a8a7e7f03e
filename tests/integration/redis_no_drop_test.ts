/**
 * The control store drops no record under load: a cluster whose store is
 * in Redis runs at the speed Redis writes, and `rayd status` counts every
 * task. (The million-task run is scripts/bench/redis_soak.ts.)
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { main } from "../../cli/main.ts";
import { setBackend } from "../../runtime/core/mod.ts";
import { MemoryControlStore } from "../../runtime/gcs/mod.ts";
import { Node } from "../../runtime/node/mod.ts";
import { REDIS_SERVER, startRedis } from "../gcs/redis_server.ts";
import { add, noop } from "../fixtures/remote_fns.ts";

const TASKS = 100_000;
const WINDOW = 20_000;

Deno.test({
  name: "100k no-op tasks at full speed with the store in Redis: rayd status counts all 100,000",
  ignore: !REDIS_SERVER,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const redis = await startRedis();
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (...a: unknown[]) => warnings.push(a.join(" "));
    try {
      const t0 = performance.now();
      await ray.init({ numWorkers: 2, redisAddress: redis.url });
      try {
        for (let done = 0; done < TASKS; done += WINDOW) {
          const refs = [];
          for (let i = 0; i < WINDOW; i++) refs.push(noop.remote());
          assert.equal((await ray.get(refs)).length, WINDOW);
        }
      } finally {
        await ray.shutdown();
      }
      const seconds = (performance.now() - t0) / 1000;
      console.log(`${TASKS} tasks, every record written: ${seconds.toFixed(1)} s`);
      const out: string[] = [];
      const code = await main(["status", "--redis-address", redis.url], {
        out: (t) => out.push(t),
        err: (t) => out.push(t),
      });
      const status = out.join("\n");
      assert.equal(code, 0, status);
      assert.match(status, new RegExp(`^\\s+finished\\s+${TASKS}$`, "m"), status);
      assert.match(status, /Queued tasks: 0/, status);
      assert.match(status, /Nodes: 0 alive/, "the node's end is recorded too");
      assert.ok(!warnings.some((w) => /dropped|lost/.test(w)), warnings.join("\n"));
    } finally {
      console.warn = warn;
      await redis.dispose();
    }
  },
});

/** An in-memory store that says it is behind until `release()`. */
class BehindStore extends MemoryControlStore {
  #gate?: { promise: Promise<void>; resolve: () => void };

  hold(): void {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => resolve = r);
    this.#gate = { promise, resolve };
  }

  release(): void {
    this.#gate?.resolve();
    this.#gate = undefined;
  }

  override backpressure(): Promise<void> | undefined {
    return this.#gate?.promise;
  }
}

Deno.test({
  name: "while the control store is behind, the node starts no task; they run once it catches up",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const store = new BehindStore();
    const node = await Node.start({ numWorkers: 2, controlStore: store });
    setBackend(node);
    try {
      assert.equal(await ray.get(add.remote(1, 1)), 2);
      store.hold();
      const refs = Array.from({ length: 20 }, (_, i) => add.remote(i, 1));
      const [ready] = await ray.wait(refs, { numReturns: refs.length, timeoutMs: 500 });
      assert.equal(ready.length, 0, "no task ran while the store was behind");
      await store.flush();
      const summary = await store.summary();
      assert.equal(summary.tasks.byState.submitted, 20, "submitted, recorded, not started");
      store.release();
      assert.deepEqual(await ray.get(refs), refs.map((_, i) => i + 1));
    } finally {
      await node.shutdown();
      setBackend(undefined);
    }
  },
});
