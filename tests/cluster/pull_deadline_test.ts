/**
 * The deadline of a pull (runtime/cluster/pulls.ts) once a try failed: a
 * pull whose only copy was gone (freed, or its holder unreachable) and for
 * which no other copy is ever published seals the object as lost within
 * `pullDeadlineMs`, instead of waiting for a copy forever.
 */
import assert from "node:assert/strict";
import type { ObjectId } from "../../runtime/common/mod.ts";
import { Peers } from "../../runtime/cluster/peers.ts";
import { Puller, type PullHost } from "../../runtime/cluster/pulls.ts";
import type { ClusterSide } from "../../runtime/node/mod.ts";
import { fromFrame } from "../../runtime/core/mod.ts";
import type { SharedArena } from "../../runtime/object_store/mod.ts";
import { withEnv } from "../_cluster/env_lock.ts";

/** The error an error frame on the heap holds. */
function decodeError(frame: Uint8Array): Error {
  try {
    fromFrame(frame, undefined as unknown as SharedArena);
  } catch (err) {
    return err as Error;
  }
  throw new Error("not an error frame");
}

Deno.test("a pull whose copy is gone and no other is published is lost by pullDeadlineMs", () =>
  withEnv({ RAYD_PULL_DEADLINE_MS: "300" }, async () => {
    const peers = new Peers({ token: "t", role: "node", nodeId: "n", unref: false, handlers: {} });
    const asked: string[][] = [];
    const { promise: sealed, resolve } = Promise.withResolvers<Uint8Array>();
    let missing = true;
    const side = {
      isMissing: () => missing,
      sealFetched(_id: ObjectId, frame: Uint8Array, error: boolean) {
        assert.equal(error, true);
        missing = false;
        resolve(frame);
      },
    } as unknown as ClusterSide;
    const host: PullHost = {
      peers,
      address: "127.0.0.1:9",
      side: () => side,
      closed: () => false,
      known: () => undefined,
      notAt: () => {},
      // The first answer is a holder nobody listens at; no other copy is ever published.
      locate: (_id, tried) => {
        asked.push([...tried]);
        return asked.length === 1 ? Promise.resolve("127.0.0.1:1") : new Promise(() => {});
      },
      heldAt: () => {},
      pulled: () => {},
    };
    const pulls = new Puller(host);
    try {
      const started = performance.now();
      pulls.need("0123456789abcdef000000010000" as ObjectId);
      const frame = await Promise.race([
        sealed,
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000)),
      ]);
      assert.ok(frame, "sealed as lost, not waiting for a copy forever");
      const waited = performance.now() - started;
      assert.ok(waited < 3000, `by the deadline (${waited.toFixed(0)} ms)`);
      assert.match(decodeError(frame).message, /is lost: could not be fetched/);
      assert.deepEqual(asked[1], ["127.0.0.1:1"], "asked again for a copy not tried");
      assert.equal(pulls.size, 0);
    } finally {
      pulls.close();
      await peers.close();
    }
  }));
