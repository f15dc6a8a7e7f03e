import assert from "node:assert/strict";
import {
  ConnectionClosedError,
  FrameRpc,
  RemoteRequestError,
  RequestTimeoutError,
} from "../../runtime/transport/mod.ts";
import { framePair } from "./_tcp_pair.ts";

Deno.test({
  name: "request gets the response with the same type, message and body",
  sanitizeOps: true,
  sanitizeResources: true,
  async fn() {
    const p = await framePair();
    try {
      const messages: unknown[] = [];
      new FrameRpc(p.server, {
        onRequest: (f) => ({
          message: { sum: (f.message as number[]).reduce((a, b) => a + b) },
          body: f.body.reverse(),
        }),
        onMessage: (f) => messages.push(f.message),
      });
      const client = new FrameRpc(p.client);
      const answer = await client.request(12, [1, 2, 3], new Uint8Array([1, 2, 3]));
      assert.equal(answer.type, 12);
      assert.deepEqual(answer.message, { sum: 6 });
      assert.deepEqual(answer.body, new Uint8Array([3, 2, 1]));
      await p.client.send(5, "one way");
      const many = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => client.request(1, [i, i])),
      );
      many.forEach((f, i) => assert.deepEqual(f.message, { sum: 2 * i }));
      assert.deepEqual(messages, ["one way"]);
      assert.equal(client.pendingCount, 0);
    } finally {
      await p.close();
    }
  },
});

Deno.test("a throwing or async-rejecting handler reaches the requester as RemoteRequestError", async () => {
  const p = await framePair();
  try {
    new FrameRpc(p.server, {
      onRequest: async (f) => {
        await Promise.resolve();
        if (f.type === 1) throw new RangeError("no such object");
        return {};
      },
    });
    const client = new FrameRpc(p.client);
    await assert.rejects(
      client.request(1),
      (err: Error) =>
        err instanceof RemoteRequestError && err.remoteName === "RangeError" &&
        err.message.includes(p.client.peer) && /RangeError: no such object/.test(err.message),
    );
    assert.equal((await client.request(2)).message, undefined);
  } finally {
    await p.close();
  }
});

Deno.test("a side without onRequest answers requests with an error", async () => {
  const p = await framePair();
  try {
    new FrameRpc(p.server);
    await assert.rejects(new FrameRpc(p.client).request(3), /this side takes no requests/);
  } finally {
    await p.close();
  }
});

Deno.test("a request without an answer rejects with RequestTimeoutError after timeoutMs", async () => {
  const p = await framePair();
  try {
    new FrameRpc(p.server, { onRequest: () => new Promise(() => {}) });
    const client = new FrameRpc(p.client);
    const started = Date.now();
    await assert.rejects(
      client.request(9, "x", undefined, { timeoutMs: 50 }),
      (err: Error) =>
        err instanceof RequestTimeoutError && /type 9 .* within 50 ms/.test(err.message),
    );
    assert.ok(Date.now() - started >= 45);
    assert.equal(client.pendingCount, 0);
  } finally {
    await p.close();
  }
});

Deno.test("a timeout of 2^31 ms or more does not fire at once", async () => {
  const p = await framePair();
  try {
    let answer: () => void = () => {};
    new FrameRpc(p.server, {
      onRequest: () => new Promise((resolve) => answer = () => resolve({ message: "late" })),
    });
    const client = new FrameRpc(p.client);
    const pending = client.request(1, undefined, undefined, { timeoutMs: 2 ** 31 });
    const infinite = client.request(1, undefined, undefined, { timeoutMs: Infinity });
    const first = await Promise.race([
      pending.then(() => "settled", () => "settled"),
      new Promise((r) => setTimeout(() => r("waiting"), 50)),
    ]);
    assert.equal(first, "waiting");
    answer();
    assert.equal((await infinite).message, "late");
    p.client.close();
    await assert.rejects(pending, ConnectionClosedError);
  } finally {
    await p.close();
  }
});

Deno.test("closing the link rejects every pending request with ConnectionClosedError", async () => {
  const p = await framePair();
  try {
    new FrameRpc(p.server, { onRequest: () => new Promise(() => {}) });
    const client = new FrameRpc(p.client);
    const pending = [client.request(1), client.request(2, "x", new Uint8Array(10))];
    await new Promise((r) => setTimeout(r, 10));
    p.server.close("server going away");
    for (const r of pending) await assert.rejects(r, ConnectionClosedError);
    assert.equal(client.pendingCount, 0);
    await assert.rejects(client.request(3), ConnectionClosedError);
  } finally {
    await p.close();
  }
});

Deno.test("a negative timeout is refused with a RangeError", async () => {
  const p = await framePair();
  try {
    const client = new FrameRpc(p.client);
    await assert.rejects(client.request(1, undefined, undefined, { timeoutMs: -1 }), RangeError);
    assert.equal(client.pendingCount, 0);
  } finally {
    await p.close();
  }
});

Deno.test("a reply the link cannot take reaches the requester as an error at once, not a timeout", async () => {
  const p = await framePair({ maxFrameBytes: 64 * 1024 });
  try {
    let sent = 0;
    new FrameRpc(p.server, {
      onRequest: () => ({ body: new Uint8Array(100 * 1024), sent: () => sent++ }),
    });
    const client = new FrameRpc(p.client);
    const started = performance.now();
    await assert.rejects(
      client.request(4, undefined, undefined, { timeoutMs: 20_000 }),
      (err: Error) =>
        err instanceof RemoteRequestError && /the reply could not be sent/.test(err.message) &&
        /102400 bytes is more than maxFrameBytes \(65536\)/.test(err.message),
    );
    assert.ok(performance.now() - started < 10_000, "answered before the timeout");
    assert.equal(sent, 1, "sent() is called even when the reply could not go");
  } finally {
    await p.close();
  }
});

Deno.test("bodyInto: a response's body lands in the memory given, large or small; sent() follows the write", async () => {
  const p = await framePair();
  try {
    const source = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251);
    const sent: number[] = [];
    new FrameRpc(p.server, {
      onRequest: (f) => {
        const [from, to] = f.message as [number, number];
        return {
          message: { size: to - from },
          body: source.subarray(from, to),
          sent: () => sent.push(to - from),
        };
      },
    });
    const client = new FrameRpc(p.client);
    const dest = new Uint8Array(new SharedArrayBuffer(source.length));
    const asked: [number, unknown][] = [];
    const ranges: [number, number][] = [[0, 1024 * 1024], [1024 * 1024, 1024 * 1024 + 100], [
      1024 * 1024 + 100,
      source.length,
    ]];
    const frames = await Promise.all(
      ranges.map(([from, to]) =>
        client.request(1, [from, to], undefined, {
          bodyInto: (bytes, message) => {
            asked.push([bytes, message]);
            return dest.subarray(from, from + bytes);
          },
        })
      ),
    );
    assert.deepEqual(dest, new Uint8Array(source));
    frames.forEach((f, i) => {
      assert.equal(f.body.buffer, dest.buffer, `body ${i} is the memory given`);
      assert.equal(f.body.byteOffset, ranges[i][0]);
    });
    assert.deepEqual(
      asked.map(([bytes, m]) => [bytes, (m as { size: number }).size]),
      ranges.map(([from, to]) => [to - from, to - from]),
    );
    assert.deepEqual(sent.sort((a, b) => a - b), [
      100,
      1024 * 1024,
      source.length - 1024 * 1024 - 100,
    ]);
    // undefined: fresh memory as before
    const plain = await client.request(1, [0, 10], undefined, { bodyInto: () => undefined });
    assert.deepEqual(plain.body, source.subarray(0, 10));
  } finally {
    await p.close();
  }
});

Deno.test("reading resolves once a closed connection's read loop stopped", async () => {
  const p = await framePair();
  try {
    new FrameRpc(p.server, { onRequest: () => new Promise(() => {}) });
    const client = new FrameRpc(p.client);
    const pending = client.request(1, undefined, undefined, { timeoutMs: 60_000 });
    p.client.close("test");
    await assert.rejects(pending, ConnectionClosedError);
    await p.client.reading;
  } finally {
    await p.close();
  }
});
