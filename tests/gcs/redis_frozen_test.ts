/**
 * A frozen Redis (SIGSTOP: the socket stays open, nothing answers): every
 * call has a deadline, close() ends within its bound and says what it could
 * not write, and nothing is lost once Redis runs again.
 */
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

async function timed<T>(p: Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const t0 = Date.now();
  try {
    const value = await p;
    return { ms: Date.now() - t0, value };
  } catch (error) {
    return { ms: Date.now() - t0, error };
  }
}

Deno.test({
  name: "a frozen Redis fails queries after the command deadline; writes are kept and land after",
  ignore,
  async fn() {
    const server = await startRedis();
    const warnings = captureWarnings();
    const store = await connectRedis(server.url, { retryMaxMs: 50, commandTimeoutMs: 300 });
    let frozen = false;
    try {
      store.record({ type: "jobStarted", jobId: "j1" as JobId, ts: 1 });
      const before: TaskId[] = [];
      for (let i = 0; i < 50; i++) before.push(runTask(store, 10 + 3 * i));
      await store.flush();

      Deno.kill(server.pid!, "SIGSTOP");
      frozen = true;
      const during: TaskId[] = [];
      for (let i = 0; i < 50; i++) during.push(runTask(store, 1000 + 3 * i));
      const read = await timed(store.getTask(before[0]));
      assert.ok(read.error instanceof ControlStoreError, `got ${read.error ?? read.value}`);
      assert.equal(read.error.code, "unreachable");
      assert.match(read.error.message, /Redis did not answer within 300 ms/);
      assert.ok(read.ms < 2000, `query took ${read.ms} ms`);
      const list = await timed(store.listTasks({}));
      assert.ok(list.error instanceof ControlStoreError);
      assert.ok(list.ms < 2000, `list took ${list.ms} ms`);
      const write = await timed(store.flush());
      assert.ok(write.error instanceof ControlStoreError);
      assert.ok(write.ms < 2000, `flush took ${write.ms} ms`);
      assert.equal(store.queued, 150);

      Deno.kill(server.pid!, "SIGCONT");
      frozen = false;
      await waitFor(() => store.queued === 0, 10_000);
      await store.flush();
      for (const id of [...before, ...during]) {
        const t = await store.getTask(id);
        assert.equal(t?.state, "finished", `task ${id}`);
        assert.equal(t?.history.length, 3);
      }
      assert.deepEqual((await store.summary()).tasks.byState, { finished: 100 });
      assert.ok(warnings.lines.some((w) => /did not answer within 300 ms/.test(w)));
    } finally {
      if (frozen) Deno.kill(server.pid!, "SIGCONT");
      warnings.restore();
      await store.close();
      await server.dispose();
    }
  },
});

Deno.test({
  name:
    "close() on a frozen Redis ends within connectTimeoutMs + 2 * commandTimeoutMs and says what it did not write",
  ignore,
  async fn() {
    const server = await startRedis();
    const warnings = captureWarnings();
    const store = await connectRedis(server.url, {
      retryMaxMs: 50,
      commandTimeoutMs: 300,
      connectTimeoutMs: 500,
    });
    let frozen = false;
    try {
      store.record({
        type: "nodeAdded",
        nodeId: N1,
        ts: 1,
        address: "",
        resources: { CPU: 1 },
        numWorkers: 1,
      });
      await store.flush();
      Deno.kill(server.pid!, "SIGSTOP");
      frozen = true;
      for (let i = 0; i < 7; i++) store.record({ type: "kvPut", key: `k${i}`, value: "v" });
      const closing = await timed(store.close());
      assert.equal(closing.error, undefined);
      assert.ok(closing.ms <= 500 + 2 * 300 + 400, `close took ${closing.ms} ms`);
      assert.ok(
        warnings.lines.some((w) =>
          /closing with 7 event\(s\) not written to redis:\/\/127\.0\.0\.1:\d+ \(.*did not answer within/
            .test(w)
        ),
        warnings.lines.join("\n"),
      );
    } finally {
      if (frozen) Deno.kill(server.pid!, "SIGCONT");
      warnings.restore();
      await store.close();
      await server.dispose();
    }
  },
});
