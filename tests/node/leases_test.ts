/**
 * The node's lease state machine (runtime/node/leases.ts) with a real
 * LocalScheduler, fake callers and workers, and a fake clock: grant,
 * return, a lease whose task blocks in get, cancel, worker death (held and
 * draining leases), fairness between two callers, infeasible shapes.
 */
import assert from "node:assert/strict";
import { IdFactory, type TaskId, type WorkerId } from "../../runtime/common/mod.ts";
import { LocalScheduler } from "../../runtime/scheduler/mod.ts";
import { mergeOptions } from "../../runtime/core/mod.ts";
import { LEASE_QUANTUM_MS, NodeLeases } from "../../runtime/node/leases.ts";
import type { FromWorker, TaskOptions, ToWorker } from "../../runtime/protocol/mod.ts";
import type { LinkCaller } from "../../runtime/links/mod.ts";

type Request = Extract<FromWorker, { type: "leaseRequest" }>;

/** A task's default options: one CPU. */
const CPU1: TaskOptions = mergeOptions(undefined, {});

class FakeCaller implements LinkCaller {
  readonly got: ToWorker[] = [];
  alive = true;
  constructor(readonly id: string) {}
  send(msg: ToWorker): void {
    this.got.push(msg);
  }
  of<T extends ToWorker["type"]>(type: T): Extract<ToWorker, { type: T }>[] {
    return this.got.filter((m) => m.type === type) as Extract<ToWorker, { type: T }>[];
  }
}

function setup(cpus = 2, workers = ["w1", "w2"]) {
  let clock = 0;
  const scheduler = new LocalScheduler({ total: { CPU: cpus }, objectStatus: () => "ok" });
  const sent = new Map<string, ToWorker[]>();
  const taskWorkers = new Map<WorkerId, { send(msg: ToWorker): void }>();
  const channels = new Map<WorkerId, SharedArrayBuffer>();
  for (const w of workers) {
    sent.set(w, []);
    taskWorkers.set(w as WorkerId, { send: (m) => void sent.get(w)!.push(m) });
    channels.set(w as WorkerId, new SharedArrayBuffer(64));
    scheduler.workerAdded(w as WorkerId);
  }
  const replaced: string[] = [];
  const graced: TaskId[] = [];
  const leases = new NodeLeases({
    ids: new IdFactory(),
    total: { CPU: cpus },
    scheduler,
    pool: { taskWorkers },
    channels: { memoryOf: (id) => channels.get(id) },
    grace: {
      replace: (id) => void replaced.push(id),
      start: (taskId) => void graced.push(taskId),
    },
    now: () => clock,
  });
  /** Runs the scheduler as the node's dispatch does, lease instructions through `leases`. */
  const dispatch = () => {
    for (const ins of scheduler.dispatch()) {
      assert.ok(leases.apply(ins), `only leases: ${ins.type}`);
    }
  };
  const request = (caller: FakeCaller, linkId: number, options = CPU1) => {
    const msg: Request = {
      type: "leaseRequest",
      linkId,
      options,
      name: "f",
      link: new SharedArrayBuffer(8),
      bell: new SharedArrayBuffer(8),
    };
    leases.handle(caller, msg);
    dispatch();
  };
  return {
    scheduler,
    leases,
    sent,
    replaced,
    graced,
    dispatch,
    request,
    tick: (ms: number) => clock += ms,
    free: () => 2 - scheduler.counts().used.CPU!,
  };
}

Deno.test("a lease request is granted on an idle worker: the worker opens the link, the caller rings it", () => {
  const t = setup();
  const a = new FakeCaller("driver");
  t.request(a, 1);
  const [linked] = a.of("actorLinked");
  assert.equal(linked.linkId, 1);
  assert.equal(linked.bellOffset, 16, "the doorbell in the worker's task channel");
  const opened = [...t.sent.values()].flat().filter((m) => m.type === "leaseOpen");
  assert.equal(opened.length, 1);
  assert.equal((opened[0] as Extract<ToWorker, { type: "leaseOpen" }>).linkId, "driver:1");
  assert.equal(t.free(), 1, "the lease holds one CPU");
});

Deno.test("a returned lease gives its CPU back and closes the link in the worker; a new one reuses it", () => {
  const t = setup();
  const a = new FakeCaller("driver");
  t.request(a, 1);
  t.leases.handle(a, { type: "leaseReturn", linkId: 1 });
  assert.equal(t.free(), 2);
  assert.equal(t.leases.size, 0);
  const closes = [...t.sent.values()].flat().filter((m) => m.type === "leaseClose");
  assert.equal(closes.length, 1);
  t.request(a, 2);
  assert.equal(a.of("actorLinked").length, 2);
  assert.equal(t.free(), 1);
});

Deno.test("a lease whose task blocks in get lends its CPU, and is not asked back", () => {
  const t = setup(1, ["w1"]);
  const a = new FakeCaller("driver");
  const b = new FakeCaller("w9");
  t.request(a, 1);
  const leaseTask = (t.sent.get("w1")!.find((m) => m.type === "leaseOpen") as {
    leaseTaskId: TaskId;
  }).leaseTaskId;
  t.request(b, 1);
  assert.equal(b.of("actorLinked").length, 0, "no CPU for b yet");
  t.scheduler.taskBlocked(leaseTask);
  t.dispatch();
  assert.equal(b.of("actorLinked").length, 1, "b got the lent CPU (on the same worker)");
  t.tick(LEASE_QUANTUM_MS * 3);
  t.leases.revokeOverdue();
  assert.equal(a.of("leaseRevoke").length, 0, "a blocked lease holds nothing to give");
});

Deno.test("fairness: a lease held past the quantum while another caller waits is asked back", () => {
  const t = setup(1, ["w1"]);
  const a = new FakeCaller("driver");
  const b = new FakeCaller("w9");
  t.request(a, 1);
  t.request(a, 3); // waits, ahead of b's
  t.request(b, 1);
  t.tick(LEASE_QUANTUM_MS / 2);
  t.leases.revokeOverdue();
  assert.equal(a.of("leaseRevoke").length, 0, "not before the quantum");
  t.tick(LEASE_QUANTUM_MS);
  t.leases.revokeOverdue();
  assert.deepEqual(a.of("leaseRevoke").map((m) => m.linkId), [1, 3], "its waiting request too");
  t.leases.revokeOverdue();
  assert.equal(a.of("leaseRevoke").length, 2, "asked once");
  t.leases.handle(a, { type: "leaseReturn", linkId: 3 });
  t.leases.handle(a, { type: "leaseReturn", linkId: 1 });
  t.dispatch();
  assert.equal(b.of("actorLinked").length, 1, "the waiting caller got it");
  // The same caller waiting for more of its own is no reason to ask its lease back.
  t.request(b, 2);
  t.tick(LEASE_QUANTUM_MS * 2);
  t.leases.revokeOverdue();
  assert.equal(b.of("leaseRevoke").length, 0);
});

Deno.test("a cancel signals the leased task; a forced one ends its worker, even after the lease ended", () => {
  const t = setup();
  const a = new FakeCaller("driver");
  t.request(a, 1);
  const w = [...t.sent].find(([, msgs]) => msgs.some((m) => m.type === "leaseOpen"))![0];
  const taskId = "t1" as TaskId;
  t.leases.handle(a, {
    type: "leaseCancel",
    linkId: 1,
    taskId,
    force: false,
    name: "f",
    recursive: true,
  });
  assert.deepEqual(t.sent.get(w)!.at(-1), { type: "cancel", taskId, recursive: true });
  assert.deepEqual(t.graced, [taskId]);
  assert.equal(t.leases.stillOn(taskId, w as WorkerId), true);
  t.leases.handle(a, { type: "leaseReturn", linkId: 1, draining: true });
  t.leases.handle(a, {
    type: "leaseCancel",
    linkId: 1,
    taskId,
    force: true,
    name: "f",
    recursive: true,
  });
  assert.deepEqual(t.replaced, [w]);
  t.leases.cancelDone(taskId);
  assert.equal(t.leases.stillOn(taskId, w as WorkerId), false);
});

Deno.test("a worker's death ends its leases, held and draining, and tells their callers", () => {
  const t = setup();
  const a = new FakeCaller("driver");
  t.request(a, 1);
  t.request(a, 2);
  t.leases.handle(a, { type: "leaseReturn", linkId: 2, draining: true });
  const onW1 = [1, 2].filter((id) => {
    const open = t.sent.get("w1")!.find((m) => m.type === "leaseOpen") as { linkId: string };
    return open?.linkId === `driver:${id}`;
  });
  t.leases.workerDied("w1" as WorkerId, "it exited with code 3");
  t.scheduler.workerDied("w1" as WorkerId);
  const unlinked = a.of("actorUnlinked");
  assert.deepEqual(unlinked.map((m) => m.linkId), onW1);
  assert.equal(unlinked[0].why, "it exited with code 3");
  assert.equal(unlinked[0].death, undefined, "the caller pushes its tasks again");
  for (const ins of t.scheduler.dispatch()) assert.notEqual(ins.type, "crashed");
});

Deno.test("a shape no node fits fails the request with the scheduler's error, naming the resource", () => {
  const t = setup();
  const a = new FakeCaller("driver");
  t.request(a, 1, { ...CPU1, numCpus: 3 });
  const [unlinked] = a.of("actorUnlinked");
  assert.ok(unlinked.death instanceof Uint8Array);
  assert.match(new TextDecoder().decode(unlinked.death), /task f: it needs CPU: 3/);
  assert.equal(t.leases.size, 0);
});

Deno.test("a caller that dies has its leases ended", () => {
  const t = setup();
  const a = new FakeCaller("w7");
  t.request(a, 1);
  t.request(a, 2);
  t.leases.callerGone("w7");
  assert.equal(t.free(), 2);
  assert.equal(t.leases.size, 0);
});
