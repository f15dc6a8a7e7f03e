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
