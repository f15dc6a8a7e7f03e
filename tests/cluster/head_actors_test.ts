/**
 * The head's actor table (runtime/cluster/head_actors.ts) driven by hand:
 * a real global scheduler, a fake head around it (members, sent creations,
 * records). No sockets, no workers.
 */
import assert from "node:assert/strict";
import { HeadActors } from "../../runtime/cluster/head_actors.ts";
import type { FoundActor, PlaceActorRequest } from "../../runtime/cluster/messages.ts";
import type { ActorId, NodeId } from "../../runtime/common/mod.ts";
import type { ActorStateChanged } from "../../runtime/gcs/mod.ts";
import type { ActorCreateSpec, ActorSettings } from "../../runtime/protocol/mod.ts";
import { GlobalScheduler } from "../../runtime/scheduler/mod.ts";

const n = (id: string) => id as NodeId;

/** A head with nodes n1..n3 (A: 1 each) and a driver at d:1. */
function headWith(nodes = ["n1", "n2", "n3"]) {
  const scheduler = new GlobalScheduler({ random: () => 0 });
  const alive = new Set<string>(["d:1"]);
  for (const id of nodes) {
    scheduler.addNode({ nodeId: n(id), address: `${id}:1`, total: { A: 1 } }, 0);
    alive.add(id);
  }
  const sent: { address: string; spec: ActorCreateSpec; owner?: string }[] = [];
  const records: ActorStateChanged[] = [];
  const actors = new HeadActors({
    scheduler,
    alive: (id) => alive.has(id),
    memberAlive: (address) => alive.has(address) || alive.has(address.split(":")[0]),
    recreate: (address, spec, owner) => sent.push({ address, spec, owner }),
    record: (e) => records.push(e),
  });
  const kill = (id: string) => {
    alive.delete(id);
    scheduler.nodeDied(n(id));
    actors.nodeDied(n(id), `${id}:1`);
  };
  return { scheduler, actors, sent, records, kill, alive };
}

function request(
  id: string,
  settings: Partial<ActorSettings> = {},
  extra: Partial<PlaceActorRequest> = {},
): PlaceActorRequest {
  const full: ActorSettings = {
    detached: false,
    getIfExists: false,
    maxRestarts: 0,
    maxTaskRetries: 0,
    maxConcurrency: 1,
    numCpus: 0,
    resources: { A: 1 },
    ...settings,
  };
  const entry = {
    actorId: id as ActorId,
    cls: { moduleUrl: "file:///c.ts", key: "C", name: "C" },
    methods: ["m"],
  };
  const spec: ActorCreateSpec = {
    ...entry,
    args: new Uint8Array([1]),
    deps: [],
    argRefs: [],
    settings: full,
  };
  return {
    entry,
    owner: "d:1",
    detached: full.detached,
    demand: { A: 1 },
    name: full.name,
    namespace: full.namespace,
    strategy: full.schedulingStrategy,
    maxTaskRetries: full.maxTaskRetries,
    spec: full.maxRestarts === 0 ? undefined : spec,
    ...extra,
  };
}

Deno.test("HeadActors restarts an actor of a dead node on another, recording RESTARTING with its count", () => {
  const h = headWith();
  const d = h.actors.place(undefined, request("a1", { maxRestarts: 2, maxTaskRetries: 1 }));
  assert.equal(d.type, "place");
  const first = (d as { nodeId: NodeId }).nodeId;
  h.kill(first);
  assert.equal(h.sent.length, 1);
  const [re] = h.sent;
  assert.notEqual(re.address, `${first}:1`);
  assert.equal(re.spec.restarts, 1);
  assert.equal(re.owner, "d:1");
  const found = h.actors.find("a1" as ActorId);
  assert.ok(found && "address" in found);
  assert.equal(found.address, re.address);
  assert.equal(found.maxTaskRetries, 1);
  assert.deepEqual(h.records.map((r) => [r.state, r.restarts, r.nodeId]), [
    ["restarting", 1, found.nodeId],
  ]);
});

Deno.test("HeadActors: without restarts left an actor of a dead node is dead, and find says why", () => {
  const h = headWith();
  const home = (id: string) => (h.actors.find(id as ActorId) as { nodeId: NodeId }).nodeId;
  h.actors.place(undefined, request("a0"));
  const a0Home = home("a0");
  h.kill(a0Home);
  const a0 = h.actors.find("a0" as ActorId);
  assert.ok(a0 && "refused" in a0);
  assert.equal(a0.refused, `its node ${a0Home} (${a0Home}:1) died`);
  h.actors.place(undefined, request("a1", { maxRestarts: 1 }));
  h.kill(home("a1"));
  const second = home("a1");
  h.kill(second);
  const a1 = h.actors.find("a1" as ActorId);
  assert.ok(a1 && "refused" in a1);
  assert.equal(a1.refused, `its node ${second} (${second}:1) died (after 1 restart(s))`);
  assert.equal(h.records.at(-1)?.state, "dead");
  assert.equal(h.sent.length, 1);
});

Deno.test("HeadActors: hard affinity to the dead node fails the restart saying so; soft falls back", () => {
  const h = headWith(["n1", "n2"]);
  h.actors.place(
    undefined,
    request("hard", { maxRestarts: 1, resources: {} }, {
      demand: {},
      strategy: { nodeId: n("n1") },
    }),
  );
  h.actors.place(
    undefined,
    request("soft", { maxRestarts: 1, resources: {} }, {
      demand: {},
      strategy: { nodeId: n("n1"), soft: true },
    }),
  );
  h.kill("n1");
  const hard = h.actors.find("hard" as ActorId);
  assert.ok(hard && "refused" in hard);
  assert.match(hard.refused, /cannot be restarted: .*n1/);
  const soft = h.actors.find("soft" as ActorId);
  assert.ok(soft && "address" in soft);
  assert.equal(soft.nodeId, "n2");
});

Deno.test("HeadActors: a name stays taken across a restart; an actor owned by the dead node ends with it", () => {
  const h = headWith(["n1", "n2"]);
  h.actors.place(
    undefined,
    request("named", { maxRestarts: -1, name: "x", detached: true }, {
      strategy: { nodeId: n("n1"), soft: true },
    }),
  );
  const owned = request("owned", { maxRestarts: 3, resources: {} }, {
    owner: "n1:1",
    demand: {},
    strategy: { nodeId: n("n1") },
  });
  h.actors.place(n("n1"), owned);
  assert.equal((h.actors.lookup("default/x") as FoundActor).nodeId, "n1");
  h.kill("n1");
  assert.equal((h.actors.lookup("default/x") as FoundActor).nodeId, "n2");
  const taken = h.actors.place(undefined, request("again", { name: "x" }));
  assert.equal(taken.type, "infeasible");
  const gone = h.actors.find("owned" as ActorId);
  assert.ok(gone && "refused" in gone);
  assert.match(gone.refused, /with its owner/);
});

Deno.test("HeadActors: an actor no node can host waits for one to join; its callers wait too", async () => {
  const h = headWith(["n1"]);
  h.actors.place(undefined, request("a1", { maxRestarts: 1, name: "w" }));
  h.kill("n1");
  assert.equal(h.sent.length, 0, "nowhere to go yet");
  const found = h.actors.find("a1" as ActorId);
  const named = h.actors.lookup("default/w");
  assert.ok(found instanceof Promise && named instanceof Promise, "callers wait");
  const joined = h.scheduler.addNode({ nodeId: n("n9"), address: "n9:1", total: { A: 1 } }, 0);
  h.alive.add("n9");
  h.actors.joined(joined);
  assert.deepEqual(h.sent.map((s) => [s.address, s.spec.restarts]), [["n9:1", 1]]);
  assert.equal(((await found) as { nodeId: string }).nodeId, "n9");
  assert.equal((await named)?.nodeId, "n9");
});
