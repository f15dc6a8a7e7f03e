import assert from "node:assert/strict";
import type { SharedArena } from "../../runtime/object_store/mod.ts";
import type { TaskId } from "../../runtime/common/mod.ts";
import type { RunActorCall } from "../../runtime/protocol/mod.ts";
import { NO_ARGS } from "../../runtime/protocol/mod.ts";
import { Doorbell } from "../../runtime/transport/mod.ts";
import { ActorLinks, CallLink, type LinkState } from "../../runtime/links/mod.ts";

function links(broken: [string, string][], runs: RunActorCall[]): ActorLinks {
  return new ActorLinks({
    arena: {} as SharedArena,
    fetch: () => Promise.reject(new Error("no fetch in this test")),
    put: () => {},
    enqueue: (run: RunActorCall, _from: LinkState) => void runs.push(run),
    wake: () => {},
    broken: (key, why) => void broken.push([key, why]),
  });
}

Deno.test("an actor reads each link's calls in order", () => {
  const runs: RunActorCall[] = [];
  const actor = links([], runs);
  const a = CallLink.create(4096);
  actor.add("w1/1", a.sab, new Doorbell().sab);
  const call = (i: number): RunActorCall => [
    ("0011223344556677" + i.toString(16).padStart(8, "0")) as TaskId,
    "m",
    NO_ARGS,
    1,
    [],
    [],
    i,
  ];
  assert.ok(a.sendWork(0, [call(0), call(1)]));
  assert.ok(a.sendWork(1, [call(2)]));
  assert.ok(actor.waiting());
  assert.equal(actor.collect(), 3);
  assert.deepEqual(runs.map((r) => r[6]), [0, 1, 2]);
  assert.equal(actor.waiting(), false);
  assert.ok(actor.idle());
});

Deno.test("a link that holds garbage is dropped and the node told, and other links go on", () => {
  const broken: [string, string][] = [];
  const runs: RunActorCall[] = [];
  const actor = links(broken, runs);
  const bad = CallLink.create(1024);
  const good = CallLink.create(1024);
  actor.add("w1/1", bad.sab, new Doorbell().sab);
  actor.add("w2/1", good.sab, new Doorbell().sab);
  // A work message whose count says 1,000,000 calls in 12 bytes.
  const words = new Int32Array(bad.sab, 0, 16);
  const data = new DataView(bad.sab, 64, 1024);
  data.setUint32(0, 12, true);
  data.setUint32(4, 0, true);
  data.setUint32(8, 0, true);
  data.setUint32(12, 1_000_000, true);
  Atomics.store(words, 0, 16);
  assert.ok(good.sendWork(0, [[
    "0011223344556677000000ff" as TaskId,
    "m",
    NO_ARGS,
    1,
    [],
    [],
    7,
  ]]));
  assert.equal(actor.collect(), 1);
  assert.deepEqual(runs.map((r) => r[6]), [7]);
  assert.equal(broken.length, 1);
  assert.equal(broken[0][0], "w1/1");
  assert.match(broken[0][1], /garbage/);
  assert.equal(actor.collect(), 0, "the dropped link is not read again");
});

Deno.test("a batch of results bigger than half the link is written in parts, in order", async () => {
  const routes: LinkState[] = [];
  const runs: RunActorCall[] = [];
  const actor = new ActorLinks({
    arena: {} as SharedArena,
    fetch: () => Promise.reject(new Error("no fetch in this test")),
    put: () => {},
    enqueue: (run: RunActorCall, from: LinkState) => {
      runs.push(run);
      routes.push(from);
    },
    wake: () => {},
    broken: () => {},
  });
  const link = CallLink.create(4096);
  actor.add("w1/1", link.sab, new Doorbell().sab);
  const calls = Array.from({ length: 40 }, (_, i): RunActorCall => [
    ("0011223344556677" + i.toString(16).padStart(8, "0")) as TaskId,
    "m",
    NO_ARGS,
    1,
    [],
    [],
    i,
  ]);
  assert.ok(link.sendWork(0, calls.slice(0, 20)));
  assert.ok(link.sendWork(1, calls.slice(20)));
  assert.equal(actor.collect(), 40);
  // 40 results of 200 bytes: 8 KB in one turn, more than an empty 4 KiB ring ever takes at once.
  runs.forEach((run, i) => actor.report(routes[i], run, [run[6], [new Uint8Array(200)], false]));
  const got: number[] = [];
  const deadline = Date.now() + 2000;
  actor.pump();
  while (got.length < 40 && Date.now() < deadline) {
    for (let b; (b = link.takeResults());) for (const r of b.results) got.push(r[0]);
    await new Promise((r) => setTimeout(r, 2));
  }
  assert.deepEqual(got, Array.from({ length: 40 }, (_, i) => i), "every result came, in order");
  assert.ok(actor.idle());
});
