import assert from "node:assert/strict";
import {
  ConnectionClosedError,
  dialFrames,
  HandshakeError,
  listenFrames,
} from "../../runtime/transport/mod.ts";
import { encodeFrame, heapAllocator } from "../../runtime/serialization/mod.ts";
import { testListener, TOKEN } from "./_tcp_pair.ts";

/** Dials and checks the listener still serves a good client afterwards. */
async function stillServes(t: Awaited<ReturnType<typeof testListener>>): Promise<void> {
  const [c, s] = await Promise.all([dialFrames(t.dialOptions()), t.accepted()]);
  assert.equal(s.peerInfo.role, "node");
  c.close();
  s.close();
}

async function rawClient(port: number, bytes: Uint8Array): Promise<Uint8Array> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(bytes);
  return rawRead(conn);
}

/** Reads until the peer closes, then closes `conn`. */
async function rawRead(conn: Deno.Conn): Promise<Uint8Array> {
  const got: number[] = [];
  const buf = new Uint8Array(1024);
  try {
    for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
      got.push(...buf.subarray(0, n));
    }
  } catch { /* reset */ }
  conn.close();
  return new Uint8Array(got);
}

Deno.test({
  name: "dial with a wrong token fails with HandshakeError bad-token on both sides",
  sanitizeOps: true,
  sanitizeResources: true,
  async fn() {
    const t = await testListener();
    try {
      const err = await dialFrames(t.dialOptions({ token: "wrong" })).then(
        () => assert.fail("dial must fail"),
        (e) => e,
      );
      assert.ok(err instanceof HandshakeError);
      assert.equal(err.failure, "bad-token");
      assert.equal(err.peer, `127.0.0.1:${t.listener.addr.port}`);
      assert.match(err.message, /^Handshake with 127\.0\.0\.1:\d+ failed: bad token/);
      const seen = await t.rejected();
      assert.equal(seen.failure, "bad-token");
      assert.match(seen.message, /peer refused us: bad token: the listener's proof does not match/);
      await stillServes(t);
    } finally {
      t.listener.close();
      await t.listener.closed;
    }
  },
});

Deno.test("a forged auth proof is refused by the listener with bad-token", async () => {
  // A client that ignores the listener's proof and answers with made-up bytes.
  const t = await testListener();
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: t.listener.addr.port });
    const frame = (kind: number, value: unknown) => {
      const m = encodeFrame(value, "test", heapAllocator);
      const out = new Uint8Array(16 + m.byteLength);
      const dv = new DataView(out.buffer);
      dv.setUint32(0, m.byteLength, true);
      dv.setUint32(4, m.byteLength, true);
      out[8] = kind;
      out.set(m, 16);
      return out;
    };
    const preamble = new Uint8Array([0x52, 0x41, 0x59, 0x44, 1, 0, 0, 0]);
    const hello = frame(1, { role: "node", nodeId: "x", nonce: new Uint8Array(32) });
    const auth = frame(2, { proof: new Uint8Array(32).fill(7) });
    await conn.write(new Uint8Array([...preamble, ...hello]));
    await new Promise((r) => setTimeout(r, 50));
    await conn.write(auth);
    const answer = await rawRead(conn); // preamble, Hello, then Reject
    const dv = new DataView(answer.buffer);
    assert.equal(answer[8 + 8], 1, "the listener's hello");
    const reject = 8 + 16 + dv.getUint32(8, true);
    assert.equal(answer[reject + 8], 4, "then a Reject frame");
    const seen = await t.rejected();
    assert.equal(seen.failure, "bad-token");
    assert.match(seen.message, /the dialer's proof does not match/);
    await stillServes(t);
  } finally {
    t.listener.close();
    await t.listener.closed;
  }
});

Deno.test("a wrong protocol version fails with HandshakeError protocol-version naming both", async () => {
  const t = await testListener();
  try {
    await assert.rejects(
      dialFrames(t.dialOptions({ protocolVersion: 2 })),
      (err: Error) =>
        err instanceof HandshakeError && err.failure === "protocol-version" &&
        /peer speaks 1, this process speaks 2/.test(err.message),
    );
    const seen = await t.rejected();
    assert.equal(seen.failure, "protocol-version");
    assert.match(seen.message, /peer speaks 2, this process speaks 1/);
    await stillServes(t);
  } finally {
    t.listener.close();
    await t.listener.closed;
  }
});

Deno.test("garbage from a raw TCP client is rejected as not a rayd peer; the listener stays up", async () => {
  const t = await testListener();
  try {
    const answer = await rawClient(
      t.listener.addr.port,
      new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
    );
    assert.equal(answer.byteLength, 0, "a non-rayd client gets nothing back");
    const seen = await t.rejected();
    assert.equal(seen.failure, "not-rayd-peer");
    assert.match(seen.message, /not a rayd peer \(first bytes 47 45 54 20/);
    assert.match(seen.peer, /^127\.0\.0\.1:\d+$/);

    // A correct preamble followed by junk: a header claiming a huge handshake frame.
    const junk = new Uint8Array(24);
    junk.set([0x52, 0x41, 0x59, 0x44, 1, 0, 0, 0]);
    new DataView(junk.buffer).setUint32(8, 0xfffffff0, true);
    await rawClient(t.listener.addr.port, junk);
    const second = await t.rejected();
    assert.equal(second.failure, "not-rayd-peer");
    assert.match(second.message, /bad hello: .*more than maxFrameBytes \(4096\)/);

    // A well-formed header whose message is not a serialization frame.
    const undecodable = new Uint8Array(8 + 16 + 8);
    undecodable.set([0x52, 0x41, 0x59, 0x44, 1, 0, 0, 0]);
    undecodable.set([8, 0, 0, 0, 8, 0, 0, 0, 1], 8);
    undecodable.fill(0x99, 24);
    await rawClient(t.listener.addr.port, undecodable);
    const third = await t.rejected();
    assert.equal(third.failure, "not-rayd-peer");
    assert.match(third.message, /bad hello: .*undecodable message/);

    // Random bytes after the preamble.
    const random = crypto.getRandomValues(new Uint8Array(600));
    random.set([0x52, 0x41, 0x59, 0x44, 1, 0, 0, 0]);
    await rawClient(t.listener.addr.port, random);
    assert.ok((await t.rejected()) instanceof HandshakeError);

    await stillServes(t);
  } finally {
    t.listener.close();
    await t.listener.closed;
  }
});

Deno.test("a client that connects and says nothing is dropped after handshakeTimeoutMs", async () => {
  const t = await testListener({ handshakeTimeoutMs: 100 });
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: t.listener.addr.port });
    const started = Date.now();
    const seen = await t.rejected();
    assert.equal(seen.failure, "timeout");
    assert.match(seen.message, /no handshake within 100 ms/);
    assert.ok(Date.now() - started >= 90);
    assert.equal(await conn.read(new Uint8Array(8)), null);
    conn.close();
    await stillServes(t);
  } finally {
    t.listener.close();
    await t.listener.closed;
  }
});

Deno.test("dialing something that is not rayd fails with not-rayd-peer or timeout", async () => {
  const raw = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serve = (async () => {
    const a = await raw.accept();
    await a.write(new TextEncoder().encode("SSH-2.0-OpenSSH_9.6\r\n"));
    const b = await raw.accept(); // a silent server
    return [a, b];
  })();
  try {
    const opts = { hostname: "127.0.0.1", port: raw.addr.port, token: TOKEN };
    await assert.rejects(
      dialFrames(opts),
      (err: Error) => err instanceof HandshakeError && err.failure === "not-rayd-peer",
    );
    await assert.rejects(
      dialFrames({ ...opts, handshakeTimeoutMs: 100 }),
      (err: Error) => err instanceof HandshakeError && err.failure === "timeout",
    );
  } finally {
    for (const c of await serve) c.close();
    raw.close();
  }
});

Deno.test("dialing a closed port fails with ConnectionClosedError naming the address", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  await assert.rejects(
    dialFrames({ hostname: "127.0.0.1", port, token: TOKEN }),
    (err: Error) =>
      err instanceof ConnectionClosedError && err.message.includes(`127.0.0.1:${port}`) &&
      /cannot connect/.test(err.message),
  );
});

Deno.test("an empty token or a bad limit is refused before any socket opens", async () => {
  await assert.rejects(
    listenFrames({ hostname: "127.0.0.1", port: 0, token: "", onConnection() {} }),
    /token: it must be a non-empty string/,
  );
  await assert.rejects(
    dialFrames({ hostname: "127.0.0.1", port: 1, token: "" }),
    TypeError,
  );
  await assert.rejects(
    listenFrames({
      hostname: "127.0.0.1",
      port: 0,
      token: "t",
      maxFrameBytes: 0,
      onConnection() {},
    }),
    /maxFrameBytes must be > 0, got 0/,
  );
});

Deno.test("many connections at once each complete their handshake and exchange frames", async () => {
  const t = await testListener();
  const n = 64;
  try {
    const servers: Promise<void>[] = [];
    const accepting = (async () => {
      for (let i = 0; i < n; i++) {
        const s = await t.accepted();
        const { promise, resolve } = Promise.withResolvers<void>();
        s.start((f) => {
          s.send(f.type, { echo: f.message }, f.body).then(resolve, resolve);
        });
        servers.push(promise);
      }
    })();
    const clients = await Promise.all(
      Array.from({ length: n }, (_, i) => dialFrames(t.dialOptions({ nodeId: `node-${i}` }))),
    );
    await accepting;
    const answers = await Promise.all(clients.map((c, i) => {
      const { promise, resolve } = Promise.withResolvers<unknown>();
      c.start((f) => resolve(f.message));
      c.send(i, i * 10, new Uint8Array(i + 1));
      return promise;
    }));
    answers.forEach((a, i) => assert.deepEqual(a, { echo: i * 10 }));
    await Promise.all(servers);
    for (const c of clients) c.close();
  } finally {
    t.listener.close();
    await t.listener.closed;
  }
});

Deno.test("closing the listener drops connections still in their handshake", async () => {
  const t = await testListener();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: t.listener.addr.port });
  await new Promise((r) => setTimeout(r, 20));
  t.listener.close();
  await t.listener.closed;
  const n = await conn.read(new Uint8Array(8)).catch(() => null);
  assert.equal(n, null);
  conn.close();
});

Deno.test("an onConnection that throws closes that link only; the listener stays up", async () => {
  let calls = 0;
  const warned: string[] = [];
  const warn = console.warn;
  console.warn = (line: string) => warned.push(line);
  const listener = await listenFrames({
    hostname: "127.0.0.1",
    port: 0,
    token: TOKEN,
    onConnection(conn) {
      if (++calls === 1) throw new Error("app bug");
      conn.close();
    },
  });
  try {
    const opts = { hostname: "127.0.0.1", port: listener.addr.port, token: TOKEN };
    const first = await dialFrames(opts);
    first.start(() => {});
    assert.match((await first.closed).message, /peer closed the connection/);
    const second = await dialFrames(opts);
    second.start(() => {});
    await second.closed;
    assert.equal(calls, 2);
    assert.equal(warned.length, 1);
    assert.match(warned[0], /onConnection threw for 127\.0\.0\.1:\d+: Error: app bug/);
  } finally {
    console.warn = warn;
    listener.close();
    await listener.closed;
  }
});
