import assert from "node:assert/strict";
import {
  ConnectionClosedError,
  type Frame,
  FrameKind,
  FrameTooLargeError,
  SendQueueFullError,
} from "../../runtime/transport/mod.ts";
import { framePair } from "./_tcp_pair.ts";

const MIB = 1024 * 1024;

/** Collects frames until `n` have arrived. */
function collect(n: number): { frames: Frame[]; done: Promise<Frame[]>; onFrame(f: Frame): void } {
  const frames: Frame[] = [];
  const { promise, resolve } = Promise.withResolvers<Frame[]>();
  return {
    frames,
    done: promise,
    onFrame(f) {
      frames.push(f);
      if (frames.length === n) resolve(frames);
    },
  };
}

Deno.test({
  name: "frames round trip with message, body, type and the handshake's peer info",
  sanitizeOps: true,
  sanitizeResources: true,
  async fn() {
    const p = await framePair();
    try {
      assert.deepEqual(p.client.peerInfo, { role: "head", nodeId: "head-node", version: 1 });
      assert.deepEqual(p.server.peerInfo, { role: "node", nodeId: "worker-node", version: 1 });
      assert.match(p.client.peer, /^127\.0\.0\.1:\d+$/);
      const atServer = collect(4);
      p.server.start(atServer.onFrame);
      const message = {
        n: 1,
        big: 2n ** 70n,
        m: new Map([["a", [1, 2]]]),
        f: new Float64Array([1.5, -0]),
      };
      await Promise.all([
        p.client.send(7, message, new Uint8Array([9, 8, 7])),
        p.client.send(65535),
        p.client.send(0, undefined, new Uint8Array(100_000).fill(3)),
        p.client.send(1, "only a message"),
      ]);
      const [a, b, c, d] = await atServer.done;
      assert.equal(a.kind, FrameKind.Message);
      assert.equal(a.type, 7);
      assert.deepEqual(a.message, message);
      assert.deepEqual(a.body, new Uint8Array([9, 8, 7]));
      assert.equal(b.type, 65535);
      assert.equal(b.message, undefined);
      assert.equal(b.body.byteLength, 0);
      assert.equal(c.message, undefined);
      assert.deepEqual(c.body, new Uint8Array(100_000).fill(3));
      assert.equal(d.message, "only a message");
      // and back the other way
      const atClient = collect(1);
      p.client.start(atClient.onFrame);
      await p.server.send(2, { ok: true });
      assert.deepEqual((await atClient.done)[0].message, { ok: true });
    } finally {
      await p.close();
    }
  },
});

Deno.test("send refuses a type outside 0..65535 with a RangeError", async () => {
  const p = await framePair();
  try {
    await assert.rejects(p.client.send(65536), /type 65536 is not in 0\.\.65535/);
    await assert.rejects(p.client.send(-1), RangeError);
  } finally {
    await p.close();
  }
});

Deno.test("a 100 MiB body crosses both ways intact, into the allocator's memory", async () => {
  const store = new SharedArrayBuffer(100 * MIB + 64);
  let allocated = 0;
  const p = await framePair({
    allocateBody: (bytes) => {
      allocated++;
      return new Uint8Array(store, 64, bytes);
    },
  });
  try {
    const body = new Uint8Array(100 * MIB);
    for (let i = 0; i < body.length; i += 4096) body[i] = (i / 4096) & 0xff;
    body[body.length - 1] = 0xab;
    const atServer = collect(1);
    p.server.start(atServer.onFrame);
    await p.client.send(3, { name: "blob" }, body);
    const [frame] = await atServer.done;
    assert.equal(allocated, 1);
    assert.equal(frame.body.buffer, store);
    assert.equal(frame.body.byteLength, body.byteLength);
    assert.deepEqual(frame.message, { name: "blob" });
    for (let i = 0; i < body.length; i += 4096) assert.equal(frame.body[i], (i / 4096) & 0xff);
    assert.equal(frame.body[body.length - 1], 0xab);

    const atClient = collect(1);
    p.client.start(atClient.onFrame);
    await p.server.send(4, undefined, frame.body);
    const [back] = await atClient.done;
    assert.equal(back.body.byteLength, 100 * MIB);
    assert.equal(back.body.byteOffset % 8, 0);
    assert.equal(back.body[4096 * 3], 3);
    assert.equal(back.body[body.length - 1], 0xab);
  } finally {
    await p.close();
  }
});

Deno.test("many small frames arrive in order, batched into few socket writes", async () => {
  const p = await framePair();
  try {
    const n = 100_000;
    const atServer = collect(n);
    p.server.start(atServer.onFrame);
    const sends: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      sends.push(p.client.send(i % 100, i, i % 10 === 0 ? new Uint8Array([i & 0xff]) : undefined));
      if (i % 10_000 === 9_999) await sends[sends.length - 1];
    }
    await Promise.all(sends);
    const frames = await atServer.done;
    frames.forEach((f, i) => {
      assert.equal(f.message, i);
      assert.equal(f.type, i % 100);
    });
    assert.ok(p.client.writes < n / 100, `${p.client.writes} writes for ${n} frames`);
  } finally {
    await p.close();
  }
});

Deno.test("send rejects a frame over maxFrameBytes with FrameTooLargeError", async () => {
  const p = await framePair({}, { maxFrameBytes: 1024 });
  try {
    await assert.rejects(
      p.client.send(1, undefined, new Uint8Array(1025)),
      (err: Error) =>
        err instanceof FrameTooLargeError &&
        /1025 bytes is more than maxFrameBytes \(1024\)/.test(err.message),
    );
    await assert.rejects(p.client.send(1, "x".repeat(2000)), FrameTooLargeError);
    // the connection still works
    const at = collect(1);
    p.server.start(at.onFrame);
    await p.client.send(1, "fits");
    assert.equal((await at.done)[0].message, "fits");
  } finally {
    await p.close();
  }
});

Deno.test("a received frame over maxFrameBytes closes the link naming the size and the peer", async () => {
  const p = await framePair({ maxFrameBytes: 1000 });
  try {
    p.server.start(() => assert.fail("no frame should arrive"));
    p.client.start(() => {});
    await p.client.send(1, undefined, new Uint8Array(5000)).catch(() => {});
    const err = await p.server.closed;
    assert.ok(err instanceof ConnectionClosedError);
    assert.ok(err.cause instanceof FrameTooLargeError);
    assert.equal(err.protocolViolation, true);
    assert.match(err.message, /5000 bytes is more than maxFrameBytes \(1000\)/);
    assert.ok(err.message.includes(p.server.peer));
    const seen = await p.client.closed;
    assert.match(seen.message, /peer closed the connection|reset|read failed/i);
  } finally {
    await p.close();
  }
});

Deno.test("a peer that disconnects mid-frame closes the link with a clear error", async (t) => {
  for (const [label, bytes] of [["small", 100], ["large", 4 * MIB]] as const) {
    await t.step(`${label} frame`, async () => {
      const p = await framePair();
      try {
        p.server.start(() => assert.fail("a cut frame must not be delivered"));
        const header = new Uint8Array(16);
        const dv = new DataView(header.buffer);
        dv.setUint32(0, bytes, true);
        dv.setUint8(8, FrameKind.Message);
        await p.client.conn.write(header);
        await p.client.conn.write(new Uint8Array(bytes / 2));
        p.client.conn.close();
        const err = await p.server.closed;
        assert.ok(err instanceof ConnectionClosedError);
        assert.match(err.message, /mid-frame/);
        assert.equal(err.peer, p.server.peer);
        assert.ok(p.server.isClosed);
      } finally {
        await p.close();
      }
    });
  }
});

Deno.test("a malformed header after the handshake closes the link", async () => {
  const p = await framePair();
  try {
    p.server.start(() => assert.fail("no frame should arrive"));
    const header = new Uint8Array(16);
    new DataView(header.buffer).setUint32(0, 8, true);
    header[8] = 200; // no such kind
    await p.client.conn.write(header);
    const err = await p.server.closed;
    assert.match(err.message, /malformed frame header \(kind 200/);
  } finally {
    await p.close();
  }
});

Deno.test("close rejects pending sends and the peer sees the close", async () => {
  const p = await framePair();
  try {
    let received = 0;
    p.server.start(() => received++);
    const body = new Uint8Array(8 * MIB);
    const sends = [p.client.send(1, "a", body), p.client.send(1, "b", body)];
    await new Promise((r) => setTimeout(r, 0)); // the first write is under way
    sends.push(p.client.send(1, "c", body), p.client.send(1, "small"));
    p.client.close("test closes");
    const results = await Promise.allSettled(sends);
    const rejected = results.filter((r) => r.status === "rejected");
    assert.ok(rejected.length >= 2, `${rejected.length} of 4 sends rejected`);
    for (const r of rejected) {
      const reason = (r as PromiseRejectedResult).reason;
      assert.ok(reason instanceof ConnectionClosedError);
      assert.match(reason.message, /closed: test closes/);
    }
    await assert.rejects(p.client.send(1, "late"), ConnectionClosedError);
    assert.match((await p.client.closed).message, /test closes/);
    const seen = await p.server.closed;
    assert.match(seen.message, /peer closed|mid-frame|reset/);
    assert.ok(received <= 2);
  } finally {
    await p.close();
  }
});

Deno.test("an unawaited send does not crash the process when the link closes", async () => {
  const p = await framePair();
  try {
    p.client.send(1, "fire and forget", new Uint8Array(MIB));
    p.client.close();
    await p.client.closed;
    await new Promise((r) => setTimeout(r, 10));
  } finally {
    await p.close();
  }
});

Deno.test("sends past maxQueuedBytes reject until drained() resolves", async () => {
  const p = await framePair({}, { maxQueuedBytes: MIB });
  try {
    const at = collect(3);
    p.server.start(at.onFrame);
    const first = p.client.send(1, undefined, new Uint8Array(700 * 1024));
    await assert.rejects(
      p.client.send(2, undefined, new Uint8Array(700 * 1024)),
      (err: Error) =>
        err instanceof SendQueueFullError && /await conn.drained\(\)/.test(err.message),
    );
    assert.ok(p.client.queuedBytes > 700 * 1024);
    await p.client.drained();
    assert.equal(p.client.queuedBytes, 0);
    await first;
    await p.client.send(2, undefined, new Uint8Array(700 * 1024));
    await p.client.send(3, undefined, new Uint8Array(3 * MIB)); // alone in the queue: allowed
    assert.deepEqual((await at.done).map((f) => f.type), [1, 2, 3]);
  } finally {
    await p.close();
  }
});

Deno.test("start twice is refused with a TypeError", async () => {
  const p = await framePair();
  try {
    p.server.start(() => {});
    assert.throws(() => p.server.start(() => {}), /already started/);
  } finally {
    await p.close();
  }
});

Deno.test("a throwing frame handler closes the link with its error as cause", async () => {
  const p = await framePair();
  try {
    p.server.start(() => {
      throw new Error("handler broke");
    });
    await p.client.send(1, "x");
    const err = await p.server.closed;
    assert.match(err.message, /receive failed: handler broke/);
  } finally {
    await p.close();
  }
});
