import assert from "node:assert/strict";
import type { JobId, TaskId } from "../../runtime/common/mod.ts";
import { connectRedis, ControlStoreError } from "../../runtime/gcs/mod.ts";
import { spec, taskId } from "./_contract.ts";
import { freePort, REDIS_SERVER, type RedisServer, startRedis, waitFor } from "./redis_server.ts";

const ignore = !REDIS_SERVER;

async function rejection(p: Promise<unknown>): Promise<ControlStoreError> {
  const err = await p.then(() => undefined, (e) => e);
  assert.ok(err instanceof ControlStoreError, `expected a ControlStoreError, got ${err}`);
  return err;
}

/** A TCP server on a free port; `reply` decides what each connection gets back. */
function tcpServer(
  reply: "echo" | "silent" | "http" | "flood",
): { port: number; close: () => Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const serving = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      if (reply === "echo") conn.readable.pipeTo(conn.writable).catch(() => {});
      if (reply === "flood") {
        // Bytes that are no Redis reply, as fast as the client takes them.
        const junk = new TextEncoder().encode("\u0000\u0001garbage }{ not redis ".repeat(256));
        (async () => {
          for (;;) await conn.write(junk);
        })().catch(() => {});
      }
      if (reply === "http") {
        conn.write(new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\n\r\n"))
          .then(() => conn.close()).catch(() => {});
      }
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // already closed
        }
      }
      await serving;
    },
  };
}

Deno.test("connectRedis rejects a TCP server that echoes instead of speaking Redis", async () => {
  const srv = tcpServer("echo");
  try {
    const err = await rejection(
      connectRedis(`redis://127.0.0.1:${srv.port}`, { connectTimeoutMs: 2000 }),
    );
    assert.equal(err.code, "not-redis");
    assert.match(err.message, /is not a Redis server \(PING answered \["PING"\]\)/);
  } finally {
    await srv.close();
  }
});

Deno.test("connectRedis says a server that floods bytes is not Redis and what it sent", async () => {
  const srv = tcpServer("flood");
  try {
    const err = await rejection(
      connectRedis(`redis://127.0.0.1:${srv.port}`, { connectTimeoutMs: 2000 }),
    );
    assert.equal(err.code, "not-redis");
    assert.match(err.message, /is not a Redis server \(it sent "\\x00\\x01garbage \}\{ not redis/);
    assert.doesNotMatch(err.message, /Cannot read properties|rejected the command/);
  } finally {
    await srv.close();
  }
});

Deno.test("connectRedis says when the host name cannot be resolved", async () => {
  const err = await rejection(
    connectRedis("redis://no-such-host.invalid:6379", { connectTimeoutMs: 2000 }),
  );
  assert.equal(err.code, "unreachable");
  assert.match(
    err.message,
    /^Cannot connect to control store at redis:\/\/no-such-host\.invalid:6379: cannot resolve host "no-such-host\.invalid"/,
  );
  assert.doesNotMatch(err.message, /rejected the command/);
});

Deno.test("connectRedis rejects an HTTP server with a clear error", async () => {
  const srv = tcpServer("http");
  try {
    const err = await rejection(connectRedis(`127.0.0.1:${srv.port}`, { connectTimeoutMs: 2000 }));
    assert.match(err.message, /^Cannot connect to control store at redis:\/\/127\.0\.0\.1:\d+: /);
  } finally {
    await srv.close();
  }
});

Deno.test("connectRedis rejects a server that never answers after connectTimeoutMs", async () => {
  const srv = tcpServer("silent");
  try {
    const t0 = Date.now();
    const err = await rejection(
      connectRedis(`redis://127.0.0.1:${srv.port}`, { connectTimeoutMs: 300 }),
    );
    assert.equal(err.code, "unreachable");
    assert.match(err.message, /no Redis answer within 300 ms/);
    assert.ok(Date.now() - t0 < 3000);
  } finally {
    await srv.close();
  }
});

Deno.test("connectRedis rejects a port with nothing listening as unreachable", async () => {
  const err = await rejection(connectRedis(`redis://127.0.0.1:${freePort()}`));
  assert.equal(err.code, "unreachable");
  assert.match(err.message, /Redis is unreachable \(.*ECONNREFUSED/);
});

Deno.test("connectRedis rejects a URL that is not redis:// with TypeError", async () => {
  await assert.rejects(() => connectRedis("http://127.0.0.1:6379"), TypeError);
  await assert.rejects(() => connectRedis("redis://"), TypeError);
});

Deno.test({
  name: "connectRedis rejects a wrong or missing password with code auth",
  ignore,
  async fn() {
    const server = await startRedis({ args: ["--requirepass", "s3cret"] });
    try {
      const wrong = await rejection(connectRedis(`redis://:nope@127.0.0.1:${server.port}`));
      assert.equal(wrong.code, "auth");
      assert.match(wrong.message, /authentication failed/);
      assert.doesNotMatch(wrong.message, /nope/, "the password is not shown");
      const missing = await rejection(connectRedis(server.url));
      assert.equal(missing.code, "auth");
      assert.match(missing.message, /needs a password/);
      const ok = await connectRedis(server.url, { password: "s3cret" });
      await ok.kvPut("k", "v");
      assert.equal(await ok.kvGet("k"), "v");
      await ok.close();
    } finally {
      await server.dispose();
    }
  },
});

Deno.test({
  name: "a key of the wrong type fails its events with code wrong-type, and the rest is recorded",
  ignore,
  async fn() {
    const server = await startRedis();
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (...a: unknown[]) => warnings.push(a.join(" "));
    const store = await connectRedis(server.url);
    try {
      const bad = taskId();
      const good = taskId();
      await server.command(["SET", `rayd:task:${bad}`, "not a hash"]);
      store.record({ type: "taskSubmitted", jobId: "j" as JobId, spec: spec(bad), ts: 1 });
      store.record({ type: "taskSubmitted", jobId: "j" as JobId, spec: spec(good), ts: 2 });
      const err = await rejection(store.flush());
      assert.equal(err.code, "wrong-type");
      assert.match(err.message, /wrong type/);
      assert.equal((await store.getTask(good))?.state, "submitted");
      const read = await rejection(store.getTask(bad));
      assert.equal(read.code, "wrong-type");
      assert.equal(store.queued, 0, "events that can never be written are not retried");
      await store.flush();
      assert.equal(warnings.filter((w) => w.includes("were not recorded")).length, 1);
    } finally {
      console.warn = warn;
      await store.close();
      await server.dispose();
    }
  },
});

Deno.test({
  name: "connectRedis rejects a store whose meta key has the wrong type",
  ignore,
  async fn() {
    const server = await startRedis();
    try {
      await server.command(["LPUSH", "rayd:meta", "x"]);
      const err = await rejection(connectRedis(server.url));
      assert.equal(err.code, "wrong-type");
      const other = await connectRedis(server.url, { prefix: "other:" });
      await other.close();
    } finally {
      await server.dispose();
    }
  },
});

async function refuseWrites(server: RedisServer, dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await server.command(["CONFIG", "SET", "save", "3600 1"]);
  await server.command(["CONFIG", "SET", "dir", dir]);
  await Deno.remove(dir, { recursive: true });
  await server.command(["BGSAVE"]);
  await waitFor(async () =>
    String(await server.command(["INFO", "persistence"])).includes("rdb_last_bgsave_status:err")
  );
}

Deno.test({
  name: "writes refused with MISCONF stay queued, warn once, and are written once Redis recovers",
  ignore,
  async fn() {
    const server = await startRedis({ args: ["--enable-protected-configs", "yes"] });
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (...a: unknown[]) => warnings.push(a.join(" "));
    const store = await connectRedis(server.url, { retryMaxMs: 50 });
    try {
      const dir = `${server.dir}/dump`;
      await refuseWrites(server, dir);
      const ids: TaskId[] = [];
      for (let i = 0; i < 10; i++) {
        ids.push(taskId());
        store.record({ type: "taskSubmitted", jobId: "j" as JobId, spec: spec(ids[i]), ts: i });
      }
      const err = await rejection(store.flush());
      assert.equal(err.code, "misconf");
      assert.match(err.message, /cannot save to disk/);
      await rejection(store.flush());
      assert.equal(store.queued, 10);
      assert.equal(warnings.filter((w) => w.includes("MISCONF")).length, 1);
      assert.equal(await store.getTask(ids[0]), undefined, "reads still work");

      await Deno.mkdir(dir, { recursive: true });
      await server.command(["CONFIG", "SET", "dir", dir]);
      await server.command(["BGSAVE"]);
      await waitFor(async () =>
        String(await server.command(["INFO", "persistence"])).includes("rdb_last_bgsave_status:ok")
      );
      await waitFor(() => store.queued === 0);
      for (const id of ids) assert.equal((await store.getTask(id))?.state, "submitted");
      assert.ok(warnings.some((w) => w.includes("accepts writes again")));
    } finally {
      console.warn = warn;
      await store.close();
      await server.dispose();
    }
  },
});
