/**
 * RefSyncs: releases that wait for a worker's earlier messages. One sync is
 * under way per worker at a time; what is queued while one is under way
 * waits for the next; a worker that is gone runs everything.
 */
import assert from "node:assert/strict";
import type { WorkerId } from "../../runtime/common/mod.ts";
import type { ToWorker } from "../../runtime/protocol/mod.ts";
import { RefSyncs } from "../../runtime/node/ref_syncs.ts";

function worker(id: string) {
  const sent: ToWorker[] = [];
  return { id: id as WorkerId, sent, send: (msg: ToWorker) => sent.push(msg) };
}

Deno.test("RefSyncs: a release runs at the answer to a sync asked after it, not before", () => {
  const syncs = new RefSyncs();
  const w = worker("n/w1");
  const ran: string[] = [];
  syncs.after(w, () => ran.push("a"));
  syncs.after(w, () => ran.push("b")); // a sync is under way, asked before b: b needs the next
  assert.deepEqual(w.sent, [{ type: "refSync", seq: 1 }]);
  syncs.synced(w.id, 1);
  assert.deepEqual(ran, ["a"]);
  assert.deepEqual(w.sent.at(-1), { type: "refSync", seq: 2 }, "asked again for b");
  syncs.synced(w.id, 1); // an answer twice, or one never asked, changes nothing
  syncs.synced(w.id, 7);
  syncs.synced(w.id, Number.NaN);
  assert.deepEqual(ran, ["a"]);
  syncs.synced(w.id, 2);
  assert.deepEqual(ran, ["a", "b"]);
  assert.equal(syncs.size, 0);
  assert.equal(w.sent.length, 2, "nothing waits: no more syncs");
});

Deno.test("RefSyncs: workers wait apart; a worker gone runs what waited for it", () => {
  const syncs = new RefSyncs();
  const [w1, w2] = [worker("n/w1"), worker("n/w2")];
  const ran: string[] = [];
  syncs.after(w1, () => ran.push("w1"));
  syncs.after(w2, () => ran.push("w2"));
  syncs.synced(w2.id, 1);
  assert.deepEqual(ran, ["w2"]);
  syncs.gone(w1.id);
  assert.deepEqual(ran, ["w2", "w1"]);
  syncs.gone(w1.id); // twice is harmless
  syncs.synced(w1.id, 1);
  assert.deepEqual(ran, ["w2", "w1"]);
  assert.equal(syncs.size, 0);
});
