import assert from "node:assert/strict";
import type { NodeId } from "../../runtime/common/mod.ts";
import {
  type Decision,
  GlobalScheduler,
  type GlobalSchedulerOptions,
  type Resources,
} from "../../runtime/scheduler/mod.ts";

const id = (s: string) => s as NodeId;

/** A scheduler with nodes `n1..` of the given totals, joined at time 0, and a seeded tie-break. */
function cluster(
  totals: Resources[],
  options: GlobalSchedulerOptions = {},
): GlobalScheduler {
  const gs = new GlobalScheduler({ random: seeded(1), ...options });
  totals.forEach((total, i) =>
    gs.addNode({ nodeId: id(`n${i + 1}`), address: `h${i + 1}:1`, total }, 0)
  );
  return gs;
}

/** A small linear congruential generator: the same picks on every run. */
function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

function placedOn(d: Decision): string {
  assert.equal(d.type, "place", `expected a placement, got ${JSON.stringify(d)}`);
  return d.type === "place" ? d.nodeId : "";
}

function reasonOf(d: Decision, type: "infeasible" | "waiting" = "infeasible"): string {
  assert.equal(d.type, type, `expected ${type}, got ${JSON.stringify(d)}`);
  return d.type === type ? d.reason : "";
}

Deno.test("place() picks the node with the most free capacity", () => {
  const gs = cluster([{ CPU: 4 }, { CPU: 4 }, { CPU: 4 }]);
  gs.report(id("n1"), { available: { CPU: 1 }, queueLength: 0, at: 1 });
  gs.report(id("n2"), { available: { CPU: 3 }, queueLength: 0, at: 1 });
  gs.report(id("n3"), { available: { CPU: 2 }, queueLength: 0, at: 1 });
  const d = gs.place({ id: "t1", demand: { CPU: 1 } });
  assert.equal(placedOn(d), "n2");
  assert.equal(d.type === "place" && d.rule, "load");
  assert.equal(d.type === "place" && d.address, "h2:1");
});

Deno.test("place() weighs utilization by each node's size", () => {
  // n1 has 4 of 16 CPUs free (13/16 used after placing), n2 2 of 4 (3/4): n2, with fewer free CPUs.
  const gs = cluster([{ CPU: 16 }, { CPU: 4 }]);
  gs.report(id("n1"), { available: { CPU: 4 }, queueLength: 0, at: 1 });
  gs.report(id("n2"), { available: { CPU: 2 }, queueLength: 0, at: 1 });
  assert.equal(placedOn(gs.place({ id: "t", demand: { CPU: 1 } })), "n2");
});

Deno.test("place() prefers a node with the demand free over a less utilized one without it", () => {
  // n1: custom resource busy but CPU idle; n2: CPU fairly busy but the custom resource free.
  const gs = cluster([{ CPU: 8, disk: 1 }, { CPU: 2, disk: 1 }]);
  gs.report(id("n1"), { available: { CPU: 8, disk: 0 }, queueLength: 0, at: 1 });
  gs.report(id("n2"), { available: { CPU: 1, disk: 1 }, queueLength: 0, at: 1 });
  assert.equal(placedOn(gs.place({ id: "t", demand: { disk: 1 } })), "n2");
});

Deno.test("place() prefers a node with the demand free even behind a queue", () => {
  // n1's queued tasks wait for their arguments, its disk is free; n2's disk is taken.
  const gs = cluster([{ CPU: 8, disk: 1 }, { CPU: 8, disk: 1 }]);
  gs.report(id("n1"), { available: { CPU: 8, disk: 1 }, queueLength: 20, at: 1 });
  gs.report(id("n2"), { available: { CPU: 8, disk: 0 }, queueLength: 0, at: 1 });
  assert.equal(placedOn(gs.place({ id: "t", demand: { disk: 1 } })), "n1");
});

Deno.test("place() counts queued tasks as load", () => {
  // random() = 0 would pick n1 on a tie: only the queue makes n2 win.
  const gs = cluster([{ CPU: 2 }, { CPU: 2 }], { random: () => 0 });
  gs.report(id("n1"), { available: { CPU: 2 }, queueLength: 5, at: 1 });
  gs.report(id("n2"), { available: { CPU: 2 }, queueLength: 1, at: 1 });
  assert.equal(placedOn(gs.place({ id: "t", demand: { CPU: 1 } })), "n2");
});

Deno.test("place() counts its own placements until the node reports", () => {
  const gs = cluster([{ CPU: 2 }, { CPU: 2 }]);
  const first = placedOn(gs.place({ id: "a", demand: { CPU: 1 } }));
  const second = placedOn(gs.place({ id: "b", demand: { CPU: 1 } }));
  assert.notEqual(first, second);
  const view = gs.nodes().find((n) => n.nodeId === first)!;
  assert.deepEqual(view.available, { CPU: 1 });
  assert.equal(view.queueLength, 1);
  gs.report(id(first), { available: { CPU: 2 }, queueLength: 0, at: 5 });
  assert.deepEqual(gs.nodes().find((n) => n.nodeId === first)!.available, { CPU: 2 });
});

Deno.test("place() handles fractional CPU", () => {
  const gs = cluster([{ CPU: 1 }]);
  for (let i = 0; i < 10; i++) placedOn(gs.place({ id: `t${i}`, demand: { CPU: 0.1 } }));
  assert.deepEqual(gs.nodes()[0].available, { CPU: 0 });
  // Beyond the free amount it still goes to the only feasible node (it queues there).
  assert.equal(placedOn(gs.place({ id: "t10", demand: { CPU: 0.1 } })), "n1");
  // More than the node has in total: infeasible.
  assert.match(reasonOf(gs.place({ id: "big", demand: { CPU: 1.5 } })), /CPU \(asks 1.5/);
});

Deno.test("place() breaks ties with the injected random source", () => {
  const picks = (r: number) => {
    const gs = cluster([{ CPU: 1 }, { CPU: 1 }, { CPU: 1 }], { random: () => r });
    return placedOn(gs.place({ id: "t", demand: { CPU: 1 } }));
  };
  assert.equal(picks(0), "n1");
  assert.equal(picks(0.5), "n2");
  assert.equal(picks(0.99), "n3");
  const gs = cluster([{ CPU: 100 }, { CPU: 100 }, { CPU: 100 }, { CPU: 100 }]);
  const seen = new Set<string>();
  // Each placement changes that node's load; re-reporting keeps all four tied.
  for (let i = 0; i < 40; i++) {
    seen.add(placedOn(gs.place({ id: `t${i}`, demand: {} })));
    for (const n of ["n1", "n2", "n3", "n4"]) {
      gs.report(id(n), { available: { CPU: 100 }, queueLength: 0, at: i + 1 });
    }
  }
  assert.equal(seen.size, 4);
});

Deno.test("place() gives the forwarding node a task back only when it is strictly best", () => {
  const gs = cluster([{ CPU: 2 }, { CPU: 2 }], { random: () => 0 });
  // Tied: the other node wins even though random() = 0 would pick n1 first.
  assert.equal(placedOn(gs.place({ id: "a", demand: { CPU: 1 }, from: id("n1") })), "n2");
  gs.report(id("n2"), { available: { CPU: 0 }, queueLength: 3, at: 1 });
  assert.equal(placedOn(gs.place({ id: "b", demand: { CPU: 1 }, from: id("n1") })), "n1");
});

Deno.test("place() follows argument bytes to the node holding the most", () => {
  const gs = cluster([{ CPU: 4 }, { CPU: 4 }, { CPU: 4 }]);
  gs.report(id("n3"), { available: { CPU: 1 }, queueLength: 0, at: 1 });
  const bytes = new Map([[id("n1"), 100], [id("n3"), 5_000]]);
  const d = gs.place({ id: "t", demand: { CPU: 1 }, localityBytes: bytes });
  assert.equal(placedOn(d), "n3");
  assert.equal(d.type === "place" && d.rule, "locality");
});

Deno.test("place() ignores locality on nodes over the spillback length, infeasible, dead or unknown", () => {
  const gs = cluster([{ CPU: 4 }, { CPU: 4 }, { CPU: 1 }, { CPU: 4 }], {
    spillbackQueueLength: 10,
  });
  gs.report(id("n1"), { available: { CPU: 4 }, queueLength: 11, at: 1 });
  gs.report(id("n2"), { available: { CPU: 1 }, queueLength: 0, at: 1 });
  gs.nodeDied(id("n4"));
  const bytes = new Map([
    [id("n1"), 9_000],
    [id("n3"), 8_000],
    [id("n4"), 7_000],
    [id("n9"), 6_000],
    [id("n2"), 10],
  ]);
  // n1 is over the spillback length, n3 lacks 2 CPUs, n4 is dead, n9 unknown: n2 holds the most of the rest.
  assert.equal(placedOn(gs.place({ id: "t", demand: { CPU: 2 }, localityBytes: bytes })), "n2");
});

Deno.test("place() breaks equal locality by load", () => {
  const gs = cluster([{ CPU: 4 }, { CPU: 4 }, { CPU: 4 }]);
  gs.report(id("n1"), { available: { CPU: 0 }, queueLength: 0, at: 1 });
  const bytes = new Map([[id("n1"), 64], [id("n2"), 64]]);
  assert.equal(placedOn(gs.place({ id: "t", demand: { CPU: 1 }, localityBytes: bytes })), "n2");
});

Deno.test("place() uses no locality under SPREAD, affinity or for actors", () => {
  const gs = cluster([{ CPU: 4 }, { CPU: 4 }], { random: () => 0 });
  gs.report(id("n1"), { available: { CPU: 1 }, queueLength: 0, at: 1 });
  const bytes = new Map([[id("n1"), 1_000_000]]);
  assert.equal(
    placedOn(gs.placeActor({ id: "a", demand: { CPU: 1 }, localityBytes: bytes })),
    "n2",
  );
  const spread = gs.place({ id: "s", demand: {}, strategy: "SPREAD", localityBytes: bytes });
  assert.equal(spread.type === "place" && spread.rule, "spread");
});

Deno.test("SPREAD goes round robin by node id over nodes with the demand free", () => {
  const gs = cluster([{ CPU: 8 }, { CPU: 8 }, { CPU: 8 }]);
  const order = Array.from(
    { length: 6 },
    (_, i) => placedOn(gs.place({ id: `t${i}`, demand: { CPU: 1 }, strategy: "SPREAD" })),
  );
  assert.deepEqual(order, ["n1", "n2", "n3", "n1", "n2", "n3"]);
  gs.report(id("n2"), { available: { CPU: 0 }, queueLength: 4, at: 1 });
  assert.equal(placedOn(gs.place({ id: "x", demand: { CPU: 1 }, strategy: "SPREAD" })), "n1");
  assert.equal(placedOn(gs.place({ id: "y", demand: { CPU: 1 }, strategy: "SPREAD" })), "n3");
});

Deno.test("SPREAD falls back to feasible busy nodes and skips infeasible ones", () => {
  const gs = cluster([{ CPU: 1 }, { CPU: 1, GPU: 1 }, { CPU: 1, GPU: 1 }]);
  for (const n of ["n2", "n3"]) {
    gs.report(id(n), { available: { CPU: 0, GPU: 0 }, queueLength: 1, at: 1 });
  }
  const got = [0, 1, 2].map((i) =>
    placedOn(gs.place({ id: `g${i}`, demand: { GPU: 1 }, strategy: "SPREAD" }))
  );
  assert.deepEqual(got, ["n2", "n3", "n2"]);
});

Deno.test("SPREAD keeps its turn when nodes join and die", () => {
  const gs = cluster([{ CPU: 8 }, { CPU: 8 }, { CPU: 8 }]);
  assert.equal(placedOn(gs.place({ id: "a", demand: {}, strategy: "SPREAD" })), "n1");
  assert.equal(placedOn(gs.place({ id: "b", demand: {}, strategy: "SPREAD" })), "n2");
  gs.addNode({ nodeId: id("n0"), address: "h0:1", total: { CPU: 8 } }, 1);
  gs.nodeDied(id("n1"));
  assert.equal(placedOn(gs.place({ id: "c", demand: {}, strategy: "SPREAD" })), "n3");
  assert.equal(placedOn(gs.place({ id: "d", demand: {}, strategy: "SPREAD" })), "n0");
  assert.equal(placedOn(gs.place({ id: "e", demand: {}, strategy: "SPREAD" })), "n2");
});

Deno.test("affinity places on the named node even when it is busy", () => {
  const gs = cluster([{ CPU: 2 }, { CPU: 2 }]);
  gs.report(id("n2"), { available: { CPU: 0 }, queueLength: 50, at: 1 });
  const d = gs.place({ id: "t", demand: { CPU: 1 }, strategy: { nodeId: id("n2") } });
  assert.equal(placedOn(d), "n2");
  assert.equal(d.type === "place" && d.rule, "affinity");
});

Deno.test("hard affinity fails naming an unknown, dead, draining or too small node", () => {
  const gs = cluster([{ CPU: 2 }, { CPU: 2 }, { CPU: 2 }]);
  gs.nodeDied(id("n1"));
  gs.drain(id("n2"));
  const hard = (nodeId: string, demand: Resources = { CPU: 1 }) =>
    reasonOf(gs.place({ id: "t9", demand, strategy: { nodeId: id(nodeId) } }));
  assert.equal(hard("nx"), "Cannot place task t9: its affinity node nx is unknown");
  assert.equal(hard("n1"), "Cannot place task t9: its affinity node n1 is dead");
  assert.equal(hard("n2"), "Cannot place task t9: its affinity node n2 is draining");
  assert.equal(
    hard("n3", { CPU: 1, GPU: 1 }),
    "Cannot place task t9: its affinity node n3 cannot hold CPU: 1, GPU: 1 (it has CPU: 2)",
  );
});

Deno.test("soft affinity falls back to the other rules", () => {
  const gs = cluster([{ CPU: 2 }, { CPU: 2 }]);
  gs.nodeDied(id("n1"));
  const d = gs.place({ id: "t", demand: { CPU: 1 }, strategy: { nodeId: id("n1"), soft: true } });
  assert.equal(placedOn(d), "n2");
  assert.equal(d.type === "place" && d.rule, "load");
  const big = gs.place({ id: "g", demand: { GPU: 1 }, strategy: { nodeId: id("n2"), soft: true } });
  assert.match(reasonOf(big), /no node has enough GPU/);
});

Deno.test("infeasible names each missing resource and the largest node", () => {
  const gs = cluster([{ CPU: 4, GPU: 1 }, { CPU: 8 }]);
  assert.equal(
    reasonOf(gs.place({ id: "t1", demand: { CPU: 16, GPU: 2, TPU: 1 } })),
    "Cannot place task t1: no node has enough CPU (asks 16; the largest node n2 has 8), " +
      "GPU (asks 2; the largest node n1 has 1), TPU (asks 1; no node has any)",
  );
});

Deno.test("infeasible says when no single node has the whole demand", () => {
  const gs = cluster([{ CPU: 1, GPU: 1 }, { CPU: 8 }]);
  assert.equal(
    reasonOf(gs.placeActor({ id: "a1", demand: { CPU: 4, GPU: 1 } })),
    "Cannot place actor a1: no single node has all of CPU: 4, GPU: 1; the closest, n1, lacks CPU 3",
  );
});

Deno.test("infeasible says when no node takes work", () => {
  const empty = new GlobalScheduler();
  assert.match(
    reasonOf(empty.place({ id: "t", demand: { CPU: 1 } })),
    /no alive node takes work \(0 draining, 0 dead\)/,
  );
  const gs = cluster([{ CPU: 4 }, { CPU: 4 }]);
  gs.drain(id("n1"));
  gs.nodeDied(id("n2"));
  assert.match(
    reasonOf(gs.place({ id: "t", demand: { CPU: 1 } })),
    /\(1 draining, 1 dead\); asks CPU: 1/,
  );
});

Deno.test("draining and dead nodes get no new work", () => {
  const gs = cluster([{ CPU: 4 }, { CPU: 1 }, { CPU: 4 }]);
  gs.drain(id("n1"));
  gs.nodeDied(id("n3"));
  for (let i = 0; i < 5; i++) {
    assert.equal(placedOn(gs.place({ id: `t${i}`, demand: { CPU: 1 } })), "n2");
  }
  assert.equal(gs.nodes().find((n) => n.nodeId === "n1")!.state, "draining");
  assert.equal(gs.drain(id("n3")), false);
  assert.equal(gs.drain(id("nx")), false);
});

Deno.test("waiting requests are placed when a node that fits joins, oldest first", () => {
  const gs = cluster([{ CPU: 2 }], { ifInfeasible: "wait" });
  assert.match(reasonOf(gs.place({ id: "g1", demand: { GPU: 1 } }), "waiting"), /GPU/);
  assert.equal(gs.placeActor({ id: "a1", demand: { GPU: 1 } }).type, "waiting");
  assert.equal(gs.place({ id: "big", demand: { CPU: 64 } }).type, "waiting");
  assert.equal(gs.place({ id: "f", demand: { TPU: 1 }, ifInfeasible: "fail" }).type, "infeasible");
  assert.deepEqual(gs.waiting(), ["g1", "a1", "big"]);
  assert.deepEqual(gs.addNode({ nodeId: id("n5"), address: "h5:1", total: { CPU: 2 } }, 1), []);
  const placed = gs.addNode({ nodeId: id("gpu"), address: "h6:1", total: { CPU: 4, GPU: 2 } }, 2);
  assert.deepEqual(placed.map((d) => [d.type, d.id, d.type === "place" && d.nodeId]), [
    ["place", "g1", "gpu"],
    ["place", "a1", "gpu"],
  ]);
  assert.deepEqual(gs.waiting(), ["big"]);
  assert.equal(gs.cancelWaiting("big"), true);
  assert.equal(gs.cancelWaiting("big"), false);
  assert.deepEqual(gs.waiting(), []);
});

Deno.test("a request parked twice is queued once", () => {
  const gs = cluster([{ CPU: 1 }], { ifInfeasible: "wait" });
  gs.place({ id: "g", demand: { GPU: 1 } });
  gs.place({ id: "g", demand: { GPU: 1 } });
  assert.deepEqual(gs.waiting(), ["g"]);
});

Deno.test("an actor holds its demand for its life and gives it back when gone", () => {
  const gs = cluster([{ CPU: 2, GPU: 1 }, { CPU: 2 }]);
  assert.equal(placedOn(gs.placeActor({ id: "A", demand: { GPU: 1, CPU: 1 } })), "n1");
  const n1 = () => gs.nodes().find((n) => n.nodeId === "n1")!;
  assert.deepEqual(n1().available, { CPU: 1, GPU: 0 });
  assert.equal(n1().actors, 1);
  assert.equal(n1().queueLength, 0);
  assert.throws(() => gs.placeActor({ id: "A", demand: {} }), /actor A: it is already placed/);
  assert.equal(gs.actorGone("A"), true);
  assert.equal(gs.actorGone("A"), false);
  assert.deepEqual(n1().available, { CPU: 2, GPU: 1 });
  assert.equal(n1().actors, 0);
});

Deno.test("nodeDied() returns the actors that lived there", () => {
  const gs = cluster([{ CPU: 1 }, { CPU: 1 }], { random: () => 0 });
  const a = placedOn(gs.placeActor({ id: "a", demand: { CPU: 1 } }));
  const b = placedOn(gs.placeActor({ id: "b", demand: { CPU: 1 } }));
  assert.notEqual(a, b);
  assert.deepEqual(gs.nodeDied(id(a)), ["a"]);
  assert.equal(gs.nodeDied(id(a)), undefined);
  assert.equal(gs.nodeDied(id("nx")), undefined);
  assert.equal(gs.actorGone("a"), false);
  assert.equal(gs.actorGone("b"), true);
});

Deno.test("expire() declares dead the nodes silent longer than the timeout", () => {
  const gs = cluster([{ CPU: 1 }, { CPU: 1 }, { CPU: 1 }], { heartbeatTimeoutMs: 100 });
  gs.placeActor({ id: "a", demand: {}, strategy: { nodeId: id("n2") } });
  gs.report(id("n1"), { available: { CPU: 1 }, queueLength: 0, at: 90 });
  gs.report(id("n3"), { available: { CPU: 1 }, queueLength: 0, at: 150 });
  assert.deepEqual(gs.expire(100), []);
  assert.deepEqual(gs.expire(191), [{ nodeId: "n1", actors: [] }, { nodeId: "n2", actors: ["a"] }]);
  assert.deepEqual(gs.nodes().map((n) => n.state), ["dead", "dead", "alive"]);
  assert.equal(gs.report(id("n1"), { available: {}, queueLength: 0, at: 300 }), false);
});

Deno.test("report() ignores reports older than the newest and from unknown nodes", () => {
  const gs = cluster([{ CPU: 4 }]);
  assert.equal(gs.report(id("n1"), { available: { CPU: 1 }, queueLength: 2, at: 10 }), true);
  assert.equal(gs.report(id("n1"), { available: { CPU: 4 }, queueLength: 0, at: 9 }), false);
  assert.deepEqual(gs.nodes()[0].available, { CPU: 1 });
  assert.equal(gs.nodes()[0].lastHeartbeat, 10);
  assert.equal(gs.report(id("nx"), { available: {}, queueLength: 0, at: 10 }), false);
});

Deno.test("spillReason() says infeasible, draining, busy, or nothing", () => {
  const gs = cluster([{ CPU: 2 }], { spillbackQueueLength: 3 });
  assert.equal(gs.spillReason(id("n1"), { GPU: 1 }), "infeasible");
  assert.equal(gs.spillReason(id("n1"), { CPU: 1 }), undefined);
  gs.report(id("n1"), { available: { CPU: 0 }, queueLength: 3, at: 1 });
  assert.equal(gs.spillReason(id("n1"), { CPU: 1 }), undefined);
  gs.report(id("n1"), { available: { CPU: 0 }, queueLength: 4, at: 2 });
  assert.equal(gs.spillReason(id("n1"), { CPU: 1 }), "busy");
  gs.drain(id("n1"));
  assert.equal(gs.spillReason(id("n1"), { CPU: 1 }), "draining");
  assert.equal(gs.spillReason(id("n1"), { GPU: 1 }), "infeasible");
  assert.throws(() => gs.spillReason(id("nx"), {}), /node nx is unknown/);
  gs.nodeDied(id("n1"));
  assert.throws(() => gs.spillReason(id("n1"), {}), /node n1 is dead/);
});

Deno.test("resources() sums the totals and free amounts of the nodes not dead", () => {
  const gs = cluster([{ CPU: 2, GPU: 1 }, { CPU: 0.5 }, { CPU: 8 }]);
  gs.nodeDied(id("n3"));
  gs.place({ id: "t", demand: { CPU: 1 }, strategy: { nodeId: id("n1") } });
  assert.deepEqual(gs.resources("total"), { CPU: 2.5, GPU: 1 });
  assert.deepEqual(gs.resources("available"), { CPU: 1.5, GPU: 1 });
});

Deno.test("addNode() refuses an id in use or used by a dead node", () => {
  const gs = cluster([{ CPU: 1 }]);
  const join = { nodeId: id("n1"), address: "x:1", total: { CPU: 1 } };
  assert.throws(() => gs.addNode(join, 1), /Cannot add node n1: the id is already in use/);
  gs.nodeDied(id("n1"));
  assert.throws(
    () => gs.addNode(join, 1),
    /Cannot add node n1: the id is already used by a dead node/,
  );
  assert.throws(() => gs.addNode({ ...join, nodeId: id("") }, 1), TypeError);
});

Deno.test("bad amounts and options are refused naming the problem", () => {
  const gs = cluster([{ CPU: 1 }]);
  assert.throws(
    () => gs.addNode({ nodeId: id("n2"), address: "x:1", total: { CPU: -1 } }, 0),
    {
      name: "RangeError",
      message: "Invalid node n2 total: CPU is -1 (must be a finite number >= 0)",
    },
  );
  assert.throws(
    () => gs.place({ id: "t", demand: { GPU: NaN } }),
    {
      name: "RangeError",
      message: "Invalid demand of task t: GPU is NaN (must be a finite number >= 0)",
    },
  );
  assert.throws(
    () => gs.report(id("n1"), { available: { CPU: Infinity }, queueLength: 0, at: 1 }),
    /Invalid report of node n1: CPU is Infinity/,
  );
  assert.throws(
    () => gs.report(id("n1"), { available: {}, queueLength: -2, at: 1 }),
    /queueLength is -2/,
  );
  assert.throws(
    () => gs.place({ id: "t", demand: {}, strategy: "PACK" as never }),
    /Invalid scheduling strategy of task t: "PACK"/,
  );
  assert.throws(() => new GlobalScheduler({ heartbeatTimeoutMs: 0 }), /heartbeatTimeoutMs: 0/);
  assert.throws(
    () => new GlobalScheduler({ spillbackQueueLength: -1 }),
    /spillbackQueueLength: -1/,
  );
});

Deno.test("place() on a big cluster stops after scanLimit free nodes from a random start", () => {
  const loaded = (r: number) => {
    const gs = cluster(Array.from({ length: 6 }, () => ({ CPU: 10 })), {
      scanLimit: 2,
      random: () => r,
    });
    // Free CPUs 9, 8, 10, 7, 6, 10 of 10: n3 and n6 are the least loaded.
    [9, 8, 10, 7, 6, 10].forEach((cpu, i) =>
      gs.report(id(`n${i + 1}`), { available: { CPU: cpu }, queueLength: 0, at: 1 })
    );
    return placedOn(gs.place({ id: "t", demand: { CPU: 1 } }));
  };
  assert.equal(loaded(0), "n1"); // scans n1, n2
  assert.equal(loaded(0.5), "n4"); // starts at n4: scans n4, n5
  assert.equal(loaded(0.9), "n6"); // starts at n6: scans n6, n1
});

Deno.test("place() scans past scanLimit until it finds nodes with the demand free", () => {
  const gs = cluster(Array.from({ length: 6 }, () => ({ CPU: 4 })), {
    scanLimit: 1,
    random: () => 0,
  });
  for (let i = 1; i <= 5; i++) {
    gs.report(id(`n${i}`), { available: { CPU: 0 }, queueLength: 0, at: 1 });
  }
  assert.equal(placedOn(gs.place({ id: "t", demand: { CPU: 1 } })), "n6");
  assert.throws(() => new GlobalScheduler({ scanLimit: 0 }), /Invalid scanLimit: 0/);
});

Deno.test("place() takes one demand object shared by many requests", () => {
  const gs = cluster([{ CPU: 4 }]);
  const shared = { CPU: 1 };
  for (let i = 0; i < 3; i++) placedOn(gs.place({ id: `t${i}`, demand: shared }));
  assert.deepEqual(gs.nodes()[0].available, { CPU: 1 });
});
