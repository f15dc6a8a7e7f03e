import assert from "node:assert/strict";
import type { WorkerId } from "../../runtime/common/mod.ts";
import {
  type ActorWorkerMessage,
  type ActorWorkerOwner,
  type WorkerHandle,
  WorkerPool,
} from "../../runtime/pool/mod.ts";
import { FakePoolHost, FakeWorkers, poolOptions, warnings } from "./fakes.ts";

/** A pool of `numWorkers` fake task workers, all started. */
async function startedPool(numWorkers = 2, maxWorkers = 8) {
  const workers = new FakeWorkers();
  const host = new FakePoolHost();
  const pool = new WorkerPool(host, poolOptions(workers, { numWorkers, maxWorkers }));
  const started = pool.start();
  for (const w of workers.made.values()) w.start();
  await started;
  host.log.length = 0;
  return { workers, host, pool };
}

/** An actor's owner that logs what it hears. */
function actorOwner(log: string[]): ActorWorkerOwner {
  return {
    message: (w: WorkerHandle, msg: ActorWorkerMessage) =>
      void log.push(`${w.id} says ${msg.type}`),
    lost: (w) => void log.push(`owner lost ${w.id}`),
    died: (w, death) => void log.push(`owner heard ${w.id} died: ${death.cause}`),
  };
}

Deno.test("start spawns numWorkers task workers and settles once every one said it started", async () => {
  const workers = new FakeWorkers();
  const host = new FakePoolHost();
  const pool = new WorkerPool(host, poolOptions(workers, { numWorkers: 3, logToDriver: true }));
  let settled = false;
  const started = pool.start().then(() => settled = true);
  assert.deepEqual([...workers.made.keys()], ["w1", "w2", "w3"]);
  assert.deepEqual([...pool.taskWorkers.keys()], ["w1", "w2", "w3"]);
  const init = workers.get("w2").init;
  assert.equal(init.jobId, "j1");
  assert.equal(init.nodeId, "n1");
  assert.equal(init.logToDriver, true);
  assert.equal(init.channel, host.channels.get("w2" as WorkerId), "its own task channel");
  assert.deepEqual(host.log, ["added w1", "added w2", "added w3"]);
  workers.get("w1").start();
  workers.get("w3").start();
  await Promise.resolve();
  assert.equal(settled, false, "w2 has not started yet");
  workers.get("w2").start();
  await started;
  assert.deepEqual(host.log.slice(3), ["started w1", "started w3", "started w2"]);
});

Deno.test("a task worker that does not start in time fails the start; if it starts later it joins", async () => {
  const workers = new FakeWorkers();
  const host = new FakePoolHost();
  const pool = new WorkerPool(host, poolOptions(workers, { numWorkers: 1, startTimeoutMs: 5 }));
  await assert.rejects(pool.start(), {
    message: "Worker w1 failed to start: not started within 5 ms",
  });
  assert.equal(pool.taskWorkers.size, 1, "it is not ended");
  workers.get("w1").start();
  assert.deepEqual(host.log, ["added w1", "started w1"]);
});

Deno.test("a task worker that dies while starting fails the start and is not replaced", async () => {
  const workers = new FakeWorkers();
  const host = new FakePoolHost();
  const pool = new WorkerPool(host, poolOptions(workers, { numWorkers: 1 }));
  const start = pool.start();
  const w1 = workers.get("w1");
  w1.fail("uncaught SyntaxError: bad module");
  await assert.rejects(start, {
    message: "Worker w1 failed to start: uncaught SyntaxError: bad module",
  });
  assert.deepEqual(host.log, [
    "added w1",
    "lost w1 trusted=0",
    "gone w1: uncaught SyntaxError: bad module",
  ]);
  assert.equal(pool.taskWorkers.size, 0);
  assert.equal(pool.deathCause(w1.id), undefined, "it never ran a task");
  assert.equal(workers.made.size, 1, "no replacement");
});

Deno.test("a task worker's death: lost (results kept up to trusted), gone, died; its cause is kept; it is replaced", async () => {
  const { workers, host, pool } = await startedPool(2);
  const w1 = workers.get("w1");
  w1.post({ type: "put", objects: [] });
  w1.post({ type: "refs", ops: [] }); // does not order results
  w1.fail("uncaught RangeError: too deep");
  assert.deepEqual(host.log, [
    "lost w1 trusted=2",
    "gone w1: uncaught RangeError: too deep",
    "died w1: uncaught RangeError: too deep",
    "added w3",
  ]);
  assert.equal(pool.deathCause("w1" as WorkerId), "uncaught RangeError: too deep");
  assert.equal(pool.deathCause("w2" as WorkerId), undefined);
  assert.deepEqual([...pool.taskWorkers.keys()], ["w2", "w3"]);
  assert.equal(workers.get("w3").init.channel, host.channels.get("w3" as WorkerId));
  w1.fail("again");
  workers.get("w3").start();
  assert.equal(host.log.filter((l) => l.startsWith("died")).length, 1, "one death per worker");
});

Deno.test("a dead task worker is not replaced while numWorkers still run", async () => {
  const { workers, host, pool } = await startedPool(1, 4);
  pool.grow(1);
  workers.get("w2").start();
  pool.grow(1);
  workers.get("w3").start();
  host.log.length = 0;
  workers.get("w2").fail("uncaught x");
  assert.deepEqual(host.log, ["lost w2 trusted=1", "gone w2: uncaught x", "died w2: uncaught x"]);
  assert.equal(pool.taskWorkers.size, 2);
});

Deno.test("end: the worker is ended now, as a death with the named cause and forcedCancel", async () => {
  const { workers, host, pool } = await startedPool(2);
  const w2 = workers.get("w2");
  w2.post({ type: "submit", specs: [] });
  pool.end(w2, { cause: "ended to force-cancel a task", forcedCancel: true });
  assert.equal(w2.terminated, true);
  assert.deepEqual(host.log, [
    "lost w2 trusted=2",
    "gone w2: ended to force-cancel a task",
    "died w2: ended to force-cancel a task (forced cancel)",
    "added w3",
  ]);
});

Deno.test("grow: more task workers, none while as many are starting, never beyond maxWorkers", async () => {
  const { workers, pool } = await startedPool(2, 5);
  pool.grow(1);
  assert.equal(pool.taskWorkers.size, 3);
  pool.grow(1);
  assert.equal(pool.taskWorkers.size, 3, "one is starting already");
  workers.get("w3").start();
  pool.grow(10);
  assert.equal(pool.taskWorkers.size, 5, "maxWorkers");
  workers.get("w4").start();
  workers.get("w5").start();
  pool.grow(10);
  assert.equal(pool.taskWorkers.size, 5);
  assert.equal(workers.made.size, 5);
});

Deno.test("grow(count) starts count task workers at once, less those already starting", async () => {
  const { workers, pool } = await startedPool(2, 20);
  pool.grow(6);
  assert.equal(pool.taskWorkers.size, 8, "six more, not half of them");
  pool.grow(9);
  assert.equal(pool.taskWorkers.size, 11, "three more: six are starting");
  for (const id of ["w3", "w4", "w5", "w6", "w7", "w8", "w9", "w10", "w11"]) {
    workers.get(id).start();
  }
  pool.grow(20);
  assert.equal(pool.taskWorkers.size, 20, "up to maxWorkers");
});

Deno.test("the router: started and closing by the pool, actor messages to the actor's owner, the rest to the node", async () => {
  const { workers, host, pool } = await startedPool(1);
  const log: string[] = [];
  const a1 = pool.spawnActorWorker(actorOwner(log));
  const actor = workers.get("a1");
  assert.equal(a1, actor);
  actor.start();
  assert.ok(!host.log.includes("started a1"), "an actor's worker takes no tasks");
  actor.post({ type: "actorCreated", actorId: "x" });
  actor.post({ type: "actorIdle" });
  actor.post({ type: "actorLinkBroken", linkId: "w1/1", why: "garbage" });
  actor.post({ type: "put", objects: [] });
  workers.get("w1").post({ type: "wait", reqId: 1, ids: [], numReturns: 0, fetch: false });
  assert.deepEqual(log, ["a1 says actorCreated", "a1 says actorIdle", "a1 says actorLinkBroken"]);
  assert.deepEqual(host.served.map(([id, m]) => `${id} ${m.type}`), ["a1 put", "w1 wait"]);

  workers.get("w1").post({ type: "closing" });
  assert.ok(host.log.includes("died w1: it closed itself (self.close())"));
  actor.post({ type: "closing" });
  assert.deepEqual(log.slice(3), [
    "owner lost a1",
    "owner heard a1 died: it closed itself (self.close())",
  ]);
  workers.get("w2").start();
  workers.get("w2").post({ type: "closing", exitCode: 3 });
  assert.ok(
    host.log.includes("died w2: it exited with code 3 (Deno.exit() or process.exit())"),
    host.log.join("\n"),
  );
  workers.get("w3").start();
});

Deno.test("the router: a message that cannot be handled ends that worker, not the node", async () => {
  const { workers, host } = await startedPool(3);
  const printed = warnings(() => {
    workers.get("w1").post(null);
    workers.get("w2").post({ type: "put", objects: [] });
    workers.get("w2").post({ type: "bad" });
    workers.get("w3").post({ type: "actorIdle" });
  });
  assert.deepEqual(printed, [
    "rayd: worker w1 sent a message that cannot be handled (object): not an object; ending that worker",
    "rayd: worker w2 sent a message that cannot be handled (bad): unknown message type; ending that worker",
    "rayd: worker w3 sent a message that cannot be handled (actorIdle): unknown message type; ending that worker",
  ]);
  const deaths = host.log.filter((l) => l.startsWith("lost") || l.startsWith("died"));
  assert.deepEqual(deaths, [
    // "started" was the first message; results written after the bad one are not kept.
    "lost w1 trusted=1",
    "died w1: it sent a bad message (object)",
    "lost w2 trusted=2",
    "died w2: it sent a bad message (bad)",
    "lost w3 trusted=1",
    "died w3: it sent a bad message (actorIdle)",
  ]);
  assert.equal(host.served.length, 1);
  for (const id of ["w4", "w5", "w6"]) workers.get(id).start();
});

Deno.test("an actor's worker: its owner forgets it first, then the node lets go, then the owner reacts; no replacement", async () => {
  const { workers, host, pool } = await startedPool(1);
  const log: string[] = [];
  const owner = actorOwner(log);
  const first = pool.spawnActorWorker(owner);
  const second = pool.spawnActorWorker(owner);
  assert.deepEqual([first.id, second.id], ["a1", "a2"]);
  const init = workers.get("a1").init;
  assert.equal(init.channel, undefined, "no task channel");
  assert.equal("logToDriver" in init, false, "the worker's own default");
  assert.equal(pool.taskWorkers.has(first.id), false);
  host.log.length = 0;
  const seen: string[] = [];
  const hostGone = host.workerGone.bind(host);
  host.workerGone = (id, cause) => {
    seen.push(...log.splice(0));
    hostGone(id, cause);
  };
  first.fail("uncaught Error: in a method");
  assert.deepEqual(seen, ["owner lost a1"], "forgotten before the node lets go");
  assert.deepEqual(host.log, ["gone a1: uncaught Error: in a method"]);
  assert.deepEqual(log, ["owner heard a1 died: uncaught Error: in a method"]);
  assert.equal(pool.deathCause(first.id), undefined);
  assert.equal(workers.made.size, 3, "no worker replaces an actor's");
});

Deno.test("retire: the worker is ended, the node lets go, the owner is not told; later events are ignored", async () => {
  const { workers, host, pool } = await startedPool(1);
  const log: string[] = [];
  const a1 = pool.spawnActorWorker(actorOwner(log));
  host.log.length = 0;
  pool.retire(a1, "Actor C(1) is dead: no handle to it remains");
  assert.equal(workers.get("a1").terminated, true);
  assert.deepEqual(host.log, ["gone a1: Actor C(1) is dead: no handle to it remains"]);
  pool.retire(a1, "twice");
  workers.get("a1").events.onDeath(a1, "late");
  workers.get("a1").events.onMessage(a1, { type: "actorIdle", actorId: "x" as never });
  assert.deepEqual(log, []);
  assert.equal(host.log.length, 1);
});

Deno.test("shutdown ends every worker, returns the task workers' ids, and hears nothing after", async () => {
  const { workers, host, pool } = await startedPool(2);
  const a1 = pool.spawnActorWorker(actorOwner([]));
  host.log.length = 0;
  assert.deepEqual(pool.shutdown(), ["w1", "w2"]);
  for (const w of workers.made.values()) assert.equal(w.terminated, true);
  const w1 = workers.get("w1");
  w1.events.onMessage(w1, { type: "put", objects: [] });
  w1.events.onDeath(w1, "late");
  workers.get("a1").events.onDeath(a1, "late");
  assert.deepEqual(host.log, []);
  assert.equal(host.served.length, 0);
  assert.equal(pool.taskWorkers.size, 0);
});
