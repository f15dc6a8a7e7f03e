/**
 * Bad input on a cluster process's port: each is refused (the link closed,
 * one line naming the peer and the reason) and the cluster goes on running
 * tasks exactly.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { dialFrames, FrameRpc } from "../../runtime/transport/mod.ts";
import { MSG } from "../../runtime/cluster/mod.ts";
import { square } from "../fixtures/remote_fns.ts";
import { startInProcessCluster, TEST_TOKEN } from "./in_process_cluster.ts";

/** Captures console.warn/error lines while `fn` runs. */
async function logged(fn: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const { warn, error } = console;
  console.warn = (...a: unknown[]) => lines.push(a.join(" "));
  console.error = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    await fn();
  } finally {
    console.warn = warn;
    console.error = error;
  }
  return lines;
}

async function closedSoon(conn: { closed: Promise<unknown> }, ms = 5000): Promise<boolean> {
  return await Promise.race([
    conn.closed.then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), ms)),
  ]);
}

Deno.test({
  name:
    "garbage, wrong versions and tokens, bad messages and a taken node id leave the cluster running",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const c = await startInProcessCluster({ numWorkers: 1 }, [{ numWorkers: 1 }]);
    const [hostname, port] = [c.address.split(":")[0], Number(c.address.split(":")[1])];
    try {
      const lines = await logged(async () => {
        // Garbage bytes instead of a handshake.
        const raw = await Deno.connect({ hostname, port });
        await raw.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        const buf = new Uint8Array(64);
        assert.equal(await raw.read(buf).catch(() => null), null, "closed without an answer");
        raw.close();
        // A wrong protocol version and a wrong token.
        await assert.rejects(
          dialFrames({ hostname, port, token: TEST_TOKEN, protocolVersion: 99 }),
          /version/,
        );
        await assert.rejects(dialFrames({ hostname, port, token: "wrong-token-1234" }), /token/);
        // A valid link that sends messages no one takes, or takes badly.
        const conn = await dialFrames({ hostname, port, token: TEST_TOKEN, role: "node" });
        const rpc = new FrameRpc(conn, {});
        await assert.rejects(rpc.request(999, "what"), /999/);
        await conn.send(MSG.run, { owner: "x", specs: "not a list" });
        assert.ok(await closedSoon(conn), "a bad message closes that link");
        // A node id that is already in the cluster.
        const again = await dialFrames({ hostname, port, token: TEST_TOKEN, role: "node" });
        const head = new FrameRpc(again, {});
        await assert.rejects(
          head.request(MSG.join, {
            nodeId: c.nodes[0].nodeId,
            role: "node",
            address: "127.0.0.1:1",
            resources: { CPU: 1 },
            numWorkers: 1,
          }),
          /already in use/,
        );
        again.close("done");
      });
      const text = lines.join("\n");
      assert.match(text, /not a rayd peer|not-rayd-peer|garbage|preamble/i, text);
      assert.match(text, /token/, text);
      assert.match(
        text,
        /closed the link from 127\.0\.0\.1:\d+ \(node\): message of type 10/,
        text,
      );
      // Nothing else was disturbed.
      await ray.init({ address: c.address, token: TEST_TOKEN });
      try {
        const got = await ray.get(Array.from({ length: 100 }, (_, i) => square.remote(i)));
        assert.deepEqual(got, Array.from({ length: 100 }, (_, i) => i * i));
        assert.equal((await ray.nodes()).filter((n) => n.alive).length, 2);
      } finally {
        await ray.shutdown();
      }
    } finally {
      await c.stop();
    }
  },
});
