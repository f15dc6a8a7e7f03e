import assert from "node:assert/strict";
import { TcpProxy } from "../_net/mod.ts";

/** An echo server in this process on 127.0.0.1, counting its connections. */
function echoServer(): { port: number; connections: () => number } & AsyncDisposable {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const pipes = new Set<Promise<void>>();
  let count = 0;
  const loop = (async () => {
    for await (const conn of listener) {
      count++;
      conns.add(conn);
      const pipe = conn.readable.pipeTo(conn.writable).catch(() => {}).finally(() => {
        conns.delete(conn);
      });
      pipes.add(pipe);
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    connections: () => count,
    async [Symbol.asyncDispose]() {
      listener.close();
      await loop;
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed by its pipe */ }
      }
      await Promise.allSettled([...pipes]);
    },
  };
}

/** Writes `text` and reads `text.length` bytes back. */
async function roundTrip(conn: Deno.Conn, text: string): Promise<string> {
  await conn.write(new TextEncoder().encode(text));
  const buf = new Uint8Array(text.length);
  let got = 0;
  while (got < buf.length) {
    const n = await conn.read(buf.subarray(got));
    if (n === null) throw new Error(`closed after ${got} bytes`);
    got += n;
  }
  return new TextDecoder().decode(buf);
}

/** Reads until the connection ends or `ms` pass: "closed", or "open" when nothing ended it. */
async function endsWithin(conn: Deno.Conn, ms: number): Promise<"closed" | "open"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"open">((resolve) => (timer = setTimeout(() => resolve("open"), ms)));
  const read = (async () => {
    const buf = new Uint8Array(64);
    try {
      while ((await conn.read(buf)) !== null) { /* drain */ }
    } catch { /* reset */ }
    return "closed" as const;
  })();
  try {
    return await Promise.race([read, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("TcpProxy forwards both ways and half-closes like the server", async () => {
  await using server = echoServer();
  await using proxy = TcpProxy.start({ target: { hostname: "127.0.0.1", port: server.port } });
  const conn = await Deno.connect({ hostname: proxy.hostname, port: proxy.port });
  assert.equal(await roundTrip(conn, "hello"), "hello");
  const big = "x".repeat(300_000);
  assert.equal(await roundTrip(conn, big), big);
  await conn.closeWrite();
  assert.equal(await endsWithin(conn, 5_000), "closed");
  conn.close();
  assert.equal(server.connections(), 1);
});

Deno.test("TcpProxy delays each chunk each way by delayMs", async () => {
  await using server = echoServer();
  await using proxy = TcpProxy.start({
    target: { hostname: "127.0.0.1", port: server.port },
    delayMs: 250,
  });
  const conn = await Deno.connect({ hostname: proxy.hostname, port: proxy.port });
  try {
    const start = performance.now();
    assert.equal(await roundTrip(conn, "ping"), "ping");
    const rtt = performance.now() - start;
    assert.ok(rtt >= 490, `round trip took ${rtt} ms, less than 2 x 250 ms`);
    proxy.delayMs = 0;
    assert.equal(await roundTrip(conn, "pong"), "pong");
  } finally {
    conn.close();
  }
});

Deno.test("TcpProxy killAll() ends open connections and later ones still work", async () => {
  await using server = echoServer();
  await using proxy = TcpProxy.start({ target: { hostname: "127.0.0.1", port: server.port } });
  const a = await Deno.connect({ hostname: proxy.hostname, port: proxy.port });
  const b = await Deno.connect({ hostname: proxy.hostname, port: proxy.port });
  assert.equal(await roundTrip(a, "a"), "a");
  assert.equal(await roundTrip(b, "b"), "b");
  assert.equal(proxy.active, 2);
  assert.equal(proxy.killAll(), 2);
  assert.equal(proxy.active, 0);
  assert.equal(await endsWithin(a, 5_000), "closed");
  assert.equal(await endsWithin(b, 5_000), "closed");
  a.close();
  b.close();
  const c = await Deno.connect({ hostname: proxy.hostname, port: proxy.port });
  assert.equal(await roundTrip(c, "c"), "c");
  c.close();
});

Deno.test("TcpProxy in refuse mode closes new connections without reaching the target", async () => {
  await using server = echoServer();
  await using proxy = TcpProxy.start({ target: { hostname: "127.0.0.1", port: server.port } });
  proxy.mode = "refuse";
  const conn = await Deno.connect({ hostname: proxy.hostname, port: proxy.port });
  assert.equal(await endsWithin(conn, 5_000), "closed");
  conn.close();
  assert.equal(proxy.accepted, 1);
  assert.equal(server.connections(), 0);
  proxy.mode = "forward";
  const ok = await Deno.connect({ hostname: proxy.hostname, port: proxy.port });
  assert.equal(await roundTrip(ok, "back"), "back");
  ok.close();
});

Deno.test("TcpProxy in blackhole mode keeps connections open and silent", async () => {
  await using server = echoServer();
  await using proxy = TcpProxy.start({ target: { hostname: "127.0.0.1", port: server.port } });
  proxy.mode = "blackhole";
  const conn = await Deno.connect({ hostname: proxy.hostname, port: proxy.port });
  await conn.write(new TextEncoder().encode("anyone?"));
  assert.equal(await endsWithin(conn, 300), "open");
  assert.equal(proxy.active, 1);
  assert.equal(server.connections(), 0);
  proxy.killAll();
  assert.equal(await endsWithin(conn, 5_000), "closed");
  conn.close();
});

Deno.test("TcpProxy closes the client when the target refuses", async () => {
  const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (free.addr as Deno.NetAddr).port;
  free.close();
  await using proxy = TcpProxy.start({ target: { hostname: "127.0.0.1", port } });
  const conn = await Deno.connect({ hostname: proxy.hostname, port: proxy.port });
  assert.equal(await endsWithin(conn, 5_000), "closed");
  conn.close();
  assert.throws(
    () => TcpProxy.start({ target: { hostname: "127.0.0.1", port }, delayMs: -1 }),
    /Invalid delayMs: -1/,
  );
});

Deno.test("TcpProxy stall() holds data and closes both ways until resume()", async () => {
  await using server = echoServer();
  await using proxy = TcpProxy.start({ target: { hostname: "127.0.0.1", port: server.port } });
  const conn = await Deno.connect({ hostname: proxy.hostname, port: proxy.port });
  assert.equal(await roundTrip(conn, "before"), "before");
  proxy.stall();
  await conn.write(new TextEncoder().encode("held"));
  const buf = new Uint8Array(4);
  const read = conn.read(buf);
  const early = await Promise.race([read, new Promise((r) => setTimeout(() => r("nothing"), 300))]);
  assert.equal(early, "nothing", "nothing comes back while stalled");
  proxy.resume();
  assert.equal(await read, 4);
  assert.equal(new TextDecoder().decode(buf), "held");
  conn.close();
});
