/**
 * The actor state table, on its own and through the ActorManager with a
 * fake node: the real worker pool making fake workers, which post what the
 * test says (constructor done or thrown, idle, crashes).
 */
import type { ActorId } from "../../runtime/common/mod.ts";
import assert from "node:assert/strict";
import { IdFactory, type ObjectId } from "../../runtime/common/mod.ts";
import { errorFrame } from "../../runtime/core/mod.ts";
import { SharedArena } from "../../runtime/object_store/mod.ts";
import type { ActorCreateSpec, ActorSettings } from "../../runtime/protocol/mod.ts";
import { WorkerPool } from "../../runtime/pool/mod.ts";
import {
  ACTOR_TRANSITIONS,
  type ActorHost,
  ActorManager,
  type ActorsElsewhere,
  checkTransition,
} from "../../runtime/node/actor_manager.ts";
import type { ActorState } from "../../runtime/gcs/mod.ts";
import { ObjectTable } from "../../runtime/node/object_table.ts";
import { FakePoolHost, FakeWorkers, poolOptions, warnings } from "../pool/fakes.ts";

const STATES: readonly ActorState[] = ["pending", "alive", "restarting", "dead"];
const LEGAL = [
  "pending -> alive",
  "pending -> restarting",
  "pending -> dead",
  "alive -> restarting",
  "alive -> dead",
  "restarting -> alive",
  "restarting -> restarting",
  "restarting -> dead",
];

Deno.test("the state table: every legal transition passes, every illegal one throws naming both states", () => {
  let legal = 0;
  for (const from of STATES) {
    for (const to of STATES) {
      const move = `${from} -> ${to}`;
      if (LEGAL.includes(move)) {
        checkTransition("C(1)", from, to);
        legal++;
      } else {
        assert.throws(() => checkTransition("C(1)", from, to), {
          message: `Actor C(1): illegal transition ${move}`,
        }, move);
      }
    }
  }
  assert.equal(legal, 8);
  assert.deepEqual(ACTOR_TRANSITIONS.dead, [], "dead is final");
});

const ids = new IdFactory();

function spec(settings: Partial<ActorSettings> = {}, deps: ObjectId[] = []): ActorCreateSpec {
  return {
    actorId: ids.nextTaskId() as unknown as ActorId,
    cls: { moduleUrl: "file:///fake.ts", key: "C#0", name: "C" },
    methods: ["m"],
    args: new Uint8Array(0),
    deps,
    argRefs: deps,
    settings: {
      detached: false,
      getIfExists: false,
      maxRestarts: 0,
      maxTaskRetries: 0,
      maxConcurrency: 1,
      numCpus: 1,
      resources: {},
      ...settings,
    },
  };
}

/**
 * An ActorManager on a fake node with `cpus` CPUs (in `cluster`, if given); `log` has what the
 * node heard, in order.
 */
function setup(cpus = 2, cluster?: ActorsElsewhere) {
  const workers = new FakeWorkers();
  const poolHost = new FakePoolHost();
  const pool = new WorkerPool(poolHost, poolOptions(workers, { numWorkers: 0 }));
  const table = new ObjectTable();
  const log: string[] = [];
  let free = cpus;
  const host: ActorHost = {
    workers: pool,
    arena: new SharedArena({ initialBytes: 64 * 1024, maxBytes: 64 * 1024 }),
    namespace: "default",
    total: { CPU: cpus },
    table,
    hold: (demand) => {
      if ((demand.CPU ?? 0) > free) return false;
      free -= demand.CPU ?? 0;
      return true;
    },
    release: (demand) => void (free += demand.CPU ?? 0),
    holdArgs: (refs) => void log.push(`hold args ${refs.length}`),
    releaseArgs: (refs) => void log.push(`release args ${refs.length}`),
    cluster: () => cluster,
    changed: (s) =>
      void log.push(`${s.state} ${s.workerId ?? "-"}${s.error ? `: ${s.error}` : ""}`),
  };
  const actors = new ActorManager(host);
  // As the node does: a worker that is gone drops its links to actors.
  const gone = poolHost.workerGone.bind(poolHost);
  poolHost.workerGone = (id, cause) => {
    gone(id, cause);
    actors.callerGone(id);
  };
  const state = (id: ActorId) => actors.list().find((a) => a.actorId === id)!;
  return { workers, poolHost, pool, table, log, actors, state, free: () => free };
}

Deno.test("(new) -> pending -> alive: a worker per actor, started with actorStart", () => {
  const { workers, poolHost, actors, log, state, free } = setup();
  const s = spec();
  assert.equal(actors.create(s), undefined);
  assert.equal(state(s.actorId).state, "pending");
  assert.deepEqual(log, ["pending -", "hold args 0"], "recorded as pending (its calls are named)");
  const a1 = workers.get("a1");
  assert.deepEqual(a1.sent.map((m) => m.type), ["actorStart"]);
  assert.equal(free(), 1, "its CPU is held");
  assert.deepEqual(poolHost.log, ["added a1"]);
  a1.post({ type: "actorCreated", actorId: s.actorId });
  assert.equal(state(s.actorId).state, "alive");
  assert.deepEqual(log.slice(2), ["alive a1"]);
});

Deno.test("pending -> dead: an error argument, infeasible resources, a constructor that throws, a kill", () => {
  const { workers, table, actors, log, state, free } = setup(2);
  const dep = ids.nextTaskId() as unknown as ObjectId;
  const bad = spec({}, [dep]);
  actors.create(bad);
  assert.equal(workers.made.size, 0, "waits for its argument");
  table.add(dep, errorFrame(new Error("arg failed")), true);
  return Promise.resolve().then(() => {
    assert.equal(state(bad.actorId).state, "dead");
    assert.match(state(bad.actorId).error!, /is dead: a constructor argument is an error/);

    const big = spec({ numCpus: 4 });
    actors.create(big);
    assert.equal(state(big.actorId).state, "dead");
    assert.match(state(big.actorId).error!, /is dead: .*CPU/);

    const throws = spec();
    actors.create(throws);
    workers.get("a1").post({
      type: "actorCreated",
      actorId: throws.actorId,
      error: errorFrame(new TypeError("boom")),
    });
    assert.equal(state(throws.actorId).state, "dead");
    assert.match(state(throws.actorId).error!, /its constructor threw TypeError: boom/);
    assert.equal(workers.get("a1").terminated, true);

    const killed = spec();
    actors.create(killed);
    actors.kill(killed.actorId, true);
    assert.equal(state(killed.actorId).state, "dead");
    assert.match(state(killed.actorId).error!, /it was killed with ray.kill$/);
    assert.equal(workers.get("a2").terminated, true);
    assert.equal(free(), 2, "every CPU is back");
    assert.equal(log.filter((l) => l.startsWith("release args")).length, 4);
  });
});

Deno.test("pending -> restarting -> restarting -> alive: the worker dies before the constructor returned", () => {
  const { workers, poolHost, actors, log, state } = setup();
  const s = spec({ maxRestarts: 2 });
  actors.create(s);
  workers.get("a1").fail("uncaught Error: x");
  assert.equal(state(s.actorId).state, "restarting");
  assert.deepEqual(workers.get("a2").sent.map((m) => m.type), ["actorStart"]);
  workers.get("a2").fail("uncaught Error: y");
  assert.equal(state(s.actorId).restarts, 2);
  workers.get("a3").post({ type: "actorCreated", actorId: s.actorId });
  assert.deepEqual(log.slice(2), ["restarting -", "restarting -", "alive a3"]);
  assert.deepEqual(poolHost.log, [
    "added a1",
    "gone a1: uncaught Error: x",
    "added a2",
    "gone a2: uncaught Error: y",
    "added a3",
  ]);
});

Deno.test("alive -> restarting -> alive, then -> dead once the restart budget is spent", () => {
  const { workers, actors, log, state, free } = setup();
  const s = spec({ maxRestarts: 1 });
  actors.create(s);
  workers.get("a1").post({ type: "actorCreated", actorId: s.actorId });
  workers.get("a1").fail("uncaught Error: first");
  assert.equal(state(s.actorId).state, "restarting");
  workers.get("a2").post({ type: "actorCreated", actorId: s.actorId });
  assert.equal(state(s.actorId).state, "alive");
  workers.get("a2").fail("uncaught Error: second");
  assert.equal(state(s.actorId).state, "dead");
  assert.equal(
    state(s.actorId).error,
    `Actor C(${s.actorId}) is dead: its worker a2 died: uncaught Error: second (after 1 restart(s))`,
  );
  assert.deepEqual(log.slice(2, 5), ["alive a1", "restarting -", "alive a2"]);
  assert.equal(workers.made.size, 2);
  assert.equal(free(), 2);
});

Deno.test("restarting -> dead: the constructor throws on a restart, or the actor is killed", () => {
  const { workers, actors, state } = setup();
  const a = spec({ maxRestarts: 5 });
  actors.create(a);
  workers.get("a1").fail("uncaught Error: x");
  workers.get("a2").post({
    type: "actorCreated",
    actorId: a.actorId,
    error: errorFrame(new Error("no more")),
  });
  assert.equal(state(a.actorId).state, "dead");
  assert.match(state(a.actorId).error!, /its constructor threw Error: no more/);

  const b = spec({ maxRestarts: -1 });
  actors.create(b);
  workers.get("a3").fail("uncaught Error: x");
  assert.equal(state(b.actorId).state, "restarting");
  actors.kill(b.actorId, true);
  assert.equal(state(b.actorId).state, "dead");
  assert.equal(workers.get("a4").terminated, true);
});

Deno.test("alive -> dead: a crash with no restarts, a kill, a kill that may restart but has no budget", () => {
  const { workers, actors, state } = setup(3);
  const [crash, kill, soft] = [spec(), spec(), spec()];
  for (const s of [crash, kill, soft]) actors.create(s);
  for (const [i, s] of [crash, kill, soft].entries()) {
    workers.get(`a${i + 1}`).post({ type: "actorCreated", actorId: s.actorId });
  }
  workers.get("a1").post({ type: "closing" });
  assert.match(
    state(crash.actorId).error!,
    /its worker a1 died: it closed itself \(self.close\(\)\)$/,
  );
  actors.kill(kill.actorId, true);
  assert.match(state(kill.actorId).error!, /it was killed with ray.kill$/);
  actors.kill(soft.actorId, false);
  assert.match(
    state(soft.actorId).error!,
    /died: it was killed with ray.kill \(noRestart: false\)$/,
  );
  for (const s of [crash, kill, soft]) assert.equal(state(s.actorId).state, "dead");
  assert.equal(workers.made.size, 3, "none restarted");
});

Deno.test("alive -> dead when no handle remains: at once without links, after actorIdle with links", () => {
  const { workers, actors, state } = setup();
  const alone = spec();
  actors.create(alone);
  workers.get("a1").post({ type: "actorCreated", actorId: alone.actorId });
  actors.handlesReleased(alone.actorId);
  assert.equal(state(alone.actorId).state, "dead");
  assert.match(state(alone.actorId).error!, /no handle to it remains$/);

  const linked = spec();
  actors.create(linked);
  const a2 = workers.get("a2");
  a2.post({ type: "actorCreated", actorId: linked.actorId });
  const caller = {
    id: "w9",
    alive: true,
    sent: [] as unknown[],
    send(m: unknown) {
      this.sent.push(m);
    },
  };
  actors.link(caller, {
    type: "actorLink",
    actorId: linked.actorId,
    linkId: 1,
    link: new SharedArrayBuffer(8),
    bell: new SharedArrayBuffer(8),
  });
  actors.handlesReleased(linked.actorId);
  assert.equal(state(linked.actorId).state, "alive", "calls may wait in its links");
  assert.deepEqual(a2.sent.map((m) => m.type), ["actorStart", "callerLink", "actorRetire"]);
  a2.post({ type: "actorIdle" });
  assert.equal(state(linked.actorId).state, "dead");

  const detached = spec({ detached: true });
  actors.create(detached);
  workers.get("a3").post({ type: "actorCreated", actorId: detached.actorId });
  actors.handlesReleased(detached.actorId);
  assert.equal(state(detached.actorId).state, "alive", "a detached actor stays");
});

Deno.test("an illegal transition from a worker's message ends that worker, not the node", () => {
  const { workers, actors, state } = setup();
  const s = spec({ maxRestarts: 1 });
  actors.create(s);
  const a1 = workers.get("a1");
  a1.post({ type: "actorCreated", actorId: s.actorId });
  const printed = warnings(() => a1.post({ type: "actorCreated", actorId: s.actorId }));
  assert.match(printed[0], /illegal transition alive -> alive; ending that worker/);
  assert.equal(a1.terminated, true);
  assert.equal(state(s.actorId).state, "restarting", "as any death of its worker");
  assert.equal(state(s.actorId).restarts, 1);
});

Deno.test("dead is final: kills, released handles and the old worker's messages change nothing", () => {
  const { workers, actors, log, state } = setup();
  const s = spec({ maxRestarts: -1 });
  actors.create(s);
  const a1 = workers.get("a1");
  a1.post({ type: "actorCreated", actorId: s.actorId });
  actors.kill(s.actorId, true);
  const recorded = log.length;
  actors.kill(s.actorId, true);
  actors.kill(s.actorId, false);
  actors.handlesReleased(s.actorId);
  a1.events.onMessage(a1, { type: "actorCreated", actorId: s.actorId });
  a1.events.onDeath(a1, "late");
  assert.equal(state(s.actorId).state, "dead");
  assert.equal(log.length, recorded);
  assert.equal(workers.made.size, 1);
});

Deno.test("names: a taken name throws in the driver, kills a worker's creation, aliases with getIfExists; freed at dead", async () => {
  const { workers, actors, state } = setup(4);
  const first = spec({ name: "n" });
  actors.create(first);
  assert.throws(() => actors.create(spec({ name: "n" })), /n/);
  const fromWorker = spec({ name: "n" });
  actors.fromWorker(workers.get("a1"), { type: "actorCreate", spec: fromWorker });
  assert.equal(state(fromWorker.actorId).state, "dead");
  assert.match(state(fromWorker.actorId).error!, /it was not created/);
  const alias = spec({ name: "n", getIfExists: true });
  assert.equal(actors.create(alias)?.actorId, first.actorId);
  assert.equal((await actors.lookup("n"))?.actorId, first.actorId);
  actors.kill(alias.actorId, true);
  assert.equal(state(first.actorId).state, "dead", "the alias names the same actor");
  assert.equal(await actors.lookup("n"), undefined);
  actors.create(spec({ name: "n" }));
  assert.ok(await actors.lookup("n"));
});

Deno.test("an actor whose resources do not fit now waits, and starts once they are released", () => {
  const { workers, actors, state } = setup(1);
  const [a, b] = [spec(), spec()];
  actors.create(a);
  actors.create(b);
  assert.equal(workers.made.size, 1, "b waits for a CPU");
  actors.retryWaiting();
  assert.equal(workers.made.size, 1);
  actors.kill(a.actorId, true);
  actors.retryWaiting();
  assert.equal(workers.made.size, 2);
  workers.get("a2").post({ type: "actorCreated", actorId: b.actorId });
  assert.equal(state(b.actorId).state, "alive");
});

Deno.test("(new) -> restarting -> alive: a creation with restarts (its node died) counts them on", () => {
  const { workers, actors, log, state } = setup();
  const s = { ...spec({ maxRestarts: 3 }), restarts: 2 };
  actors.create(s);
  assert.equal(state(s.actorId).state, "restarting");
  assert.equal(state(s.actorId).restarts, 2);
  assert.deepEqual(log, ["restarting -", "hold args 0"]);
  const a1 = workers.get("a1");
  a1.post({ type: "actorCreated", actorId: s.actorId });
  assert.equal(state(s.actorId).state, "alive");
  a1.fail("gone");
  assert.equal(state(s.actorId).restarts, 3, "the last restart its budget allows");
  workers.get("a2").fail("gone again");
  assert.equal(state(s.actorId).state, "dead");
  assert.match(state(s.actorId).error!, /after 3 restart\(s\)/);
});

Deno.test("a link to an actor the head placed here waits for its creation instead of failing", async () => {
  const cluster: ActorsElsewhere = {
    actorElsewhere: () => Promise.resolve(false), // placed on this node
    callViaNode: () => {},
    createFromWorker: () => {},
    lookup: () => Promise.resolve(undefined),
    kill: () => Promise.resolve(),
    ended: () => {},
  };
  const { workers, actors, state } = setup(2, cluster);
  const s = spec();
  const caller = {
    id: "w9",
    alive: true,
    sent: [] as { type: string }[],
    send(m: { type: string }) {
      this.sent.push(m);
    },
  };
  actors.link(caller, {
    type: "actorLink",
    actorId: s.actorId,
    linkId: 1,
    link: new SharedArrayBuffer(8),
    bell: new SharedArrayBuffer(8),
  });
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(caller.sent.length, 0, "not refused while its creation is on its way");
  actors.create(s);
  workers.get("a1").post({ type: "actorCreated", actorId: s.actorId });
  assert.equal(state(s.actorId).state, "alive");
  assert.deepEqual(caller.sent.map((m) => m.type), ["actorLinked"]);
});
