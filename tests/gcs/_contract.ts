/**
 * The control store contract: one suite of steps that every implementation
 * of `ControlStore` passes (memory_store_test.ts, redis_store_test.ts).
 *
 * @module
 */
import assert from "node:assert/strict";
import type {
  ActorId,
  JobId,
  NodeId,
  ObjectId,
  TaskId,
  WorkerId,
} from "../../runtime/common/mod.ts";
import { objectIdOf } from "../../runtime/common/mod.ts";
import type { TaskSpec } from "../../runtime/protocol/mod.ts";
import {
  type ChannelMessages,
  type ControlStore,
  ControlStoreError,
  type ControlStoreOptions,
} from "../../runtime/gcs/mod.ts";
import { waitFor } from "./redis_server.ts";

/** Makes a fresh, empty store. */
export type StoreFactory = (options?: ControlStoreOptions) => Promise<ControlStore>;

const JOB = "01000000" as JobId;
const N1 = "node1" as NodeId;
const N2 = "node2" as NodeId;
const W1 = "w1" as WorkerId;
const A1 = "a1" as ActorId;
const A2 = "a2" as ActorId;
let counter = 0;

/** A fresh task id. */
export function taskId(): TaskId {
  counter++;
  return ("abcdef0123456789" + counter.toString(16).padStart(8, "0")) as TaskId;
}

/** A small task spec. */
export function spec(id: TaskId, o: Partial<TaskSpec> & { name?: string } = {}): TaskSpec {
  return {
    taskId: id,
    fn: { moduleUrl: "file:///app/main.ts", key: `${o.name ?? "add"}#0`, name: o.name ?? "add" },
    args: o.args ?? new Uint8Array([1, 2, 3]),
    deps: o.deps ?? [],
    argRefs: o.deps ?? [],
    options: {
      numReturns: 1,
      numCpus: 1,
      resources: {},
      maxRetries: 3,
      retryExceptions: false,
      schedulingStrategy: "DEFAULT",
    },
    parentTaskId: o.parentTaskId,
    attempt: 0,
  };
}

/** Records submitted -> running -> finished for a fresh task and returns its id. */
export function runTask(store: ControlStore, ts: number, name = "add"): TaskId {
  const id = taskId();
  store.record({ type: "taskSubmitted", jobId: JOB, spec: spec(id, { name }), ts });
  store.record({
    type: "taskState",
    taskId: id,
    state: "running",
    ts: ts + 1,
    nodeId: N1,
    workerId: W1,
  });
  store.record({ type: "taskState", taskId: id, state: "finished", ts: ts + 2 });
  return id;
}

/**
 * Runs the contract as steps of `t`, each on a fresh store from `make`.
 *
 * @param t the test whose steps these are
 * @param make makes a fresh store
 */
export async function controlStoreContract(t: Deno.TestContext, make: StoreFactory): Promise<void> {
  const step = (name: string, fn: (s: ControlStore) => Promise<void>, o?: ControlStoreOptions) =>
    t.step(name, async () => {
      const store = await make(o);
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    });

  await step("kvPut/kvGet/kvDelete/kvKeys round-trip values", async (s) => {
    await s.kvPut("b/1", "one");
    await s.kvPut("a", "x y\nz");
    s.record({ type: "kvPut", key: "b/2", value: "two" });
    await s.flush();
    assert.equal(await s.kvGet("a"), "x y\nz");
    assert.deepEqual(await s.kvKeys("b/"), ["b/1", "b/2"]);
    await s.kvDelete("b/1");
    assert.equal(await s.kvGet("b/1"), undefined);
    assert.deepEqual(await s.kvKeys(), ["a", "b/2"]);
  });

  await step("jobs start and finish", async (s) => {
    s.record({ type: "jobStarted", jobId: JOB, ts: 10, nodeId: N1, entrypoint: "main.ts" });
    s.record({ type: "jobStarted", jobId: "02" as JobId, ts: 20 });
    s.record({ type: "jobFinished", jobId: JOB, ts: 30 });
    await s.flush();
    assert.deepEqual(await s.getJob(JOB), {
      jobId: JOB,
      state: "finished",
      startedAt: 10,
      endedAt: 30,
      nodeId: N1,
      entrypoint: "main.ts",
    });
    assert.deepEqual((await s.listJobs({ state: "running" })).map((j) => j.jobId), ["02"]);
    assert.deepEqual((await s.listJobs()).map((j) => j.jobId), [JOB, "02"]);
  });

  await step("nodes keep their last heartbeat and die once removed", async (s) => {
    s.record({
      type: "nodeAdded",
      nodeId: N1,
      ts: 1,
      address: "h:1",
      resources: { CPU: 2 },
      numWorkers: 2,
    });
    s.record({
      type: "nodeAdded",
      nodeId: N2,
      ts: 2,
      address: "h:2",
      resources: { CPU: 4 },
      numWorkers: 4,
    });
    s.record({ type: "nodeHeartbeat", nodeId: N1, ts: 5, available: { CPU: 1 }, queued: 3 });
    s.record({ type: "nodeHeartbeat", nodeId: N1, ts: 6, available: { CPU: 0 }, running: 2 });
    s.record({ type: "nodeRemoved", nodeId: N2, ts: 7, reason: "heartbeat timeout" });
    s.record({ type: "nodeHeartbeat", nodeId: N2, ts: 8 });
    await s.flush();
    const n1 = await s.getNode(N1);
    assert.equal(n1?.state, "alive");
    assert.equal(n1?.heartbeatAt, 6);
    assert.deepEqual(n1?.available, { CPU: 0 });
    assert.deepEqual(n1?.resources, { CPU: 2 });
    assert.equal(n1?.running, 2);
    const n2 = await s.getNode(N2);
    assert.equal(n2?.state, "dead");
    assert.equal(n2?.heartbeatAt, 2);
    assert.equal(n2?.reason, "heartbeat timeout");
    assert.deepEqual((await s.listNodes({ state: "alive" })).map((n) => n.nodeId), [N1]);
    assert.deepEqual((await s.listNodes()).map((n) => n.nodeId), [N2, N1]);
    assert.deepEqual((await s.summary()).nodes, { alive: 1, dead: 1 });
  });

  await step("workers are listed by node and state", async (s) => {
    s.record({ type: "workerStarted", nodeId: N1, workerId: W1, ts: 1 });
    s.record({ type: "workerStarted", nodeId: N1, workerId: "w2" as WorkerId, ts: 2 });
    s.record({ type: "workerStarted", nodeId: N2, workerId: W1, ts: 3 });
    s.record({ type: "workerDied", nodeId: N1, workerId: W1, ts: 4, reason: "self.close()" });
    await s.flush();
    const dead = await s.listWorkers({ state: "dead" });
    assert.deepEqual(dead, [{
      nodeId: N1,
      workerId: W1,
      state: "dead",
      startedAt: 1,
      endedAt: 4,
      reason: "self.close()",
    }]);
    assert.deepEqual((await s.listWorkers({ nodeId: N1 })).map((w) => w.workerId), ["w1", "w2"]);
    assert.equal((await s.listWorkers({ limit: 2 })).length, 2);
    assert.deepEqual((await s.summary()).workers, { alive: 2, dead: 1 });
  });

  await step("functions keep module URL, key and shipped source", async (s) => {
    s.record({
      type: "functionRegistered",
      jobId: JOB,
      fn: { moduleUrl: "file:///m.ts", key: "f#0", name: "f" },
    });
    s.record({
      type: "functionRegistered",
      jobId: JOB,
      fn: { moduleUrl: "", key: "g#0", name: "g", source: "function g(x) { return x | 1; }" },
    });
    await s.flush();
    assert.deepEqual(await s.getFunction(JOB, "", "g#0"), {
      jobId: JOB,
      moduleUrl: "",
      key: "g#0",
      name: "g",
      source: "function g(x) { return x | 1; }",
    });
    assert.equal(await s.getFunction(JOB, "file:///m.ts", "nope#0"), undefined);
    const all = await s.listFunctions(JOB);
    assert.deepEqual(all.map((f) => f.key).sort(), ["f#0", "g#0"]);
  });

  await step("a task keeps its transitions, node, worker and lineage", async (s) => {
    const parent = taskId();
    const id = taskId();
    const dep = objectIdOf(parent, 0);
    s.record({
      type: "taskSubmitted",
      jobId: JOB,
      spec: spec(id, { deps: [dep], parentTaskId: parent }),
      ts: 100,
    });
    s.record({ type: "taskState", taskId: id, state: "waiting", ts: 101 });
    s.record({
      type: "taskState",
      taskId: id,
      state: "running",
      ts: 105,
      nodeId: N1,
      workerId: W1,
    });
    await s.flush();
    const running = await s.getTask(id);
    assert.equal(running?.state, "running");
    assert.deepEqual(running?.args, new Uint8Array([1, 2, 3]));
    assert.deepEqual(running?.returns, [objectIdOf(id, 0)]);
    s.record({ type: "taskState", taskId: id, state: "finished", ts: 110 });
    await s.flush();
    const t = (await s.getTask(id))!;
    assert.equal(t.state, "finished");
    assert.deepEqual(t.history, [
      { state: "submitted", ts: 100 },
      { state: "waiting", ts: 101 },
      { state: "running", ts: 105 },
      { state: "finished", ts: 110 },
    ]);
    assert.equal(t.nodeId, N1);
    assert.equal(t.workerId, W1);
    assert.equal(t.parentTaskId, parent);
    assert.deepEqual(t.deps, [dep]);
    assert.equal(t.jobId, JOB);
    assert.equal(t.name, "add");
    assert.equal(t.moduleUrl, "file:///app/main.ts");
    assert.equal(t.submittedAt, 100);
    assert.equal(t.endedAt, 110);
    assert.equal(t.options?.maxRetries, 3);
    assert.equal(t.args, undefined, "an unpinned finished task drops its arguments");
    assert.equal(await s.getTaskSpec(id), undefined);
    // Every return is listed, when read one by one and in a list.
    const three = taskId();
    const base = spec(three);
    s.record({
      type: "taskSubmitted",
      jobId: JOB,
      spec: { ...base, options: { ...base.options, numReturns: 3 } },
      ts: 120,
    });
    await s.flush();
    const want = [0, 1, 2].map((i) => objectIdOf(three, i));
    assert.deepEqual((await s.getTask(three))?.returns, want);
    assert.deepEqual((await s.listTasks()).find((r) => r.taskId === three)?.returns, want);
  });

  await step("a task only submitted reads as a whole record, and changes from it", async (s) => {
    const parent = taskId();
    const id = taskId();
    const dep = objectIdOf(parent, 0);
    const sp = spec(id, { name: "queued", deps: [dep], parentTaskId: parent });
    s.record({ type: "taskSubmitted", jobId: JOB, spec: sp, ts: 200 });
    await s.flush();
    const want = {
      taskId: id,
      jobId: JOB,
      name: "queued",
      moduleUrl: "file:///app/main.ts",
      fnKey: "queued#0",
      state: "submitted",
      history: [{ state: "submitted", ts: 200 }],
      submittedAt: 200,
      updatedAt: 200,
      parentTaskId: parent,
      attempt: 0,
      deps: [dep],
      returns: [objectIdOf(id, 0)],
      args: new Uint8Array([1, 2, 3]),
      pinned: false,
    };
    const read = (await s.getTask(id))!;
    for (const [k, v] of Object.entries(want)) {
      assert.deepEqual(read[k as keyof typeof read], v, `getTask: ${k}`);
    }
    assert.equal(read.options?.numReturns, 1);
    const listed = (await s.listTasks({ state: "submitted" })).find((r) => r.taskId === id);
    assert.deepEqual(listed, read);
    assert.deepEqual(await s.getTaskSpec(id), sp);
    assert.equal((await s.summary()).tasks.byState.submitted, 1);
    // Changes start from it: a pin, then a retry's second submission, then its end.
    s.record({ type: "lineagePinned", taskId: id });
    s.record({ type: "taskSubmitted", jobId: JOB, spec: { ...sp, attempt: 1 }, ts: 210 });
    s.record({ type: "taskState", taskId: id, state: "finished", ts: 220 });
    await s.flush();
    const done = (await s.getTask(id))!;
    assert.equal(done.pinned, true);
    assert.equal(done.submittedAt, 210);
    assert.deepEqual(done.history, [
      { state: "submitted", ts: 200 },
      { state: "finished", ts: 220 },
    ]);
    assert.deepEqual(done.args, new Uint8Array([1, 2, 3]), "a pinned task keeps its arguments");
    const summary = await s.summary();
    assert.equal(summary.tasks.byState.submitted ?? 0, 0);
    assert.equal(summary.tasks.byState.finished, 1);
    assert.deepEqual(summary.tasks.byFunction.queued, { finished: 1 });
  });

  await step("listTasks filters by state, job and node, newest first, with a limit", async (s) => {
    const ids = [0, 1, 2, 3].map((i) => runTask(s, 1000 + 10 * i));
    const other = taskId();
    s.record({ type: "taskSubmitted", jobId: "02" as JobId, spec: spec(other), ts: 2000 });
    s.record({ type: "taskState", taskId: other, state: "running", ts: 2001, nodeId: N2 });
    await s.flush();
    assert.deepEqual(
      (await s.listTasks({ state: "finished" })).map((t) => t.taskId),
      ids.toReversed(),
    );
    assert.deepEqual((await s.listTasks({ limit: 2 })).map((t) => t.taskId), [other, ids[3]]);
    assert.deepEqual((await s.listTasks({ jobId: "02" as JobId })).map((t) => t.taskId), [other]);
    assert.deepEqual((await s.listTasks({ nodeId: N1, limit: 1 })).map((t) => t.taskId), [ids[3]]);
    assert.deepEqual(await s.listTasks({ state: "blocked" }), []);
    assert.deepEqual(await s.listTasks({ limit: 0 }), []);
    await assert.rejects(() => s.listTasks({ limit: -1 }), RangeError);
    // Past 2^53 a limit is no exact integer (Redis would refuse "1e+20"): a RangeError, both stores.
    await assert.rejects(() => s.listTasks({ limit: 1e20 }), RangeError);
  });

  await step("summary counts tasks by state and by function", async (s) => {
    runTask(s, 1, "add");
    runTask(s, 10, "add");
    runTask(s, 20, "mul");
    const id = taskId();
    s.record({ type: "taskSubmitted", jobId: JOB, spec: spec(id, { name: "mul" }), ts: 30 });
    s.record({ type: "taskState", taskId: id, state: "failed", ts: 31, error: "Error: boom" });
    await s.flush();
    const sum = await s.summary();
    assert.deepEqual(sum.tasks.byState, { finished: 3, failed: 1 });
    assert.deepEqual(sum.tasks.byFunction, {
      add: { finished: 2 },
      mul: { finished: 1, failed: 1 },
    });
    assert.equal(sum.tasks.retained, 4);
    assert.equal((await s.getTask(id))?.error, "Error: boom");
  });

  await step("a state recorded before the submission still makes one record", async (s) => {
    const id = taskId();
    s.record({ type: "taskState", taskId: id, state: "running", ts: 5, nodeId: N2 });
    s.record({ type: "taskSubmitted", jobId: JOB, spec: spec(id, { name: "late" }), ts: 3 });
    s.record({ type: "taskState", taskId: id, state: "running", ts: 5, nodeId: N2 });
    await s.flush();
    const t = await s.getTask(id);
    assert.equal(t?.state, "running");
    assert.equal(t?.name, "late");
    assert.equal(t?.history.length, 1, "a repeated transition is recorded once");
    const sum = await s.summary();
    assert.deepEqual(sum.tasks.byState, { running: 1 });
    assert.deepEqual(sum.tasks.byFunction, { late: { running: 1 } });
  });

  await step("recording the same events again (a replay) changes nothing", async (s) => {
    const id = taskId();
    const events = [
      { type: "taskSubmitted", jobId: JOB, spec: spec(id), ts: 10 },
      { type: "taskState", taskId: id, state: "running", ts: 11, nodeId: N1 },
      { type: "taskState", taskId: id, state: "finished", ts: 12 },
    ] as const;
    for (const e of events) s.record(e);
    await s.flush();
    for (const e of events) s.record(e);
    await s.flush();
    const t = await s.getTask(id);
    assert.deepEqual(t?.history.map((h) => h.state), ["submitted", "running", "finished"]);
    assert.deepEqual((await s.summary()).tasks.byState, { finished: 1 });
  });

  await step("finished tasks beyond maxFinishedTasks are dropped, oldest first", async (s) => {
    const ids = Array.from({ length: 12 }, (_, i) => runTask(s, 100 * i));
    const live = taskId();
    s.record({ type: "taskSubmitted", jobId: JOB, spec: spec(live), ts: 5000 });
    await s.flush();
    assert.equal(await s.getTask(ids[0]), undefined);
    assert.equal(await s.getTask(ids[6]), undefined);
    assert.equal((await s.getTask(ids[7]))?.state, "finished");
    assert.equal((await s.getTask(live))?.state, "submitted");
    const sum = await s.summary();
    assert.equal(sum.tasks.retained, 6);
    assert.equal(sum.tasks.evicted, 7);
    assert.deepEqual(sum.tasks.byState, { finished: 12, submitted: 1 });
    assert.equal((await s.listTasks({ state: "finished" })).length, 5);
  }, { maxFinishedTasks: 5 });

  await step("a pinned task keeps its lineage past the cap until unpinned", async (s) => {
    const pinned = taskId();
    const sp = spec(pinned, { args: new Uint8Array([9, 8, 7]) });
    s.record({ type: "taskSubmitted", jobId: JOB, spec: sp, ts: 1 });
    s.record({ type: "lineagePinned", taskId: pinned });
    s.record({ type: "taskState", taskId: pinned, state: "finished", ts: 2 });
    for (let i = 0; i < 5; i++) runTask(s, 10 + 10 * i);
    await s.flush();
    const t = await s.getTask(pinned);
    assert.equal(t?.pinned, true);
    assert.deepEqual(t?.args, new Uint8Array([9, 8, 7]));
    assert.deepEqual(await s.getTaskSpec(pinned), { ...sp, parentTaskId: undefined });
    s.record({ type: "lineageUnpinned", taskId: pinned });
    for (let i = 0; i < 2; i++) runTask(s, 100 + 10 * i);
    await s.flush();
    assert.equal(await s.getTask(pinned), undefined);
  }, { maxFinishedTasks: 2 });

  await step("a retried task leaves the history and keeps its attempt", async (s) => {
    const id = taskId();
    s.record({ type: "taskSubmitted", jobId: JOB, spec: spec(id), ts: 1 });
    s.record({ type: "taskState", taskId: id, state: "failed", ts: 2 });
    s.record({ type: "taskState", taskId: id, state: "ready", ts: 3, attempt: 1 });
    runTask(s, 10);
    runTask(s, 20);
    await s.flush();
    const t = await s.getTask(id);
    assert.equal(t?.state, "ready");
    assert.equal(t?.attempt, 1);
    assert.equal(t?.endedAt, undefined);
  }, { maxFinishedTasks: 1 });

  await step("objects track locations, become lost, and go when freed", async (s) => {
    const a = objectIdOf(taskId(), 0);
    const b = objectIdOf(taskId(), 0);
    s.record({ type: "objectCreated", objectId: a, ts: 1, size: 1000, owner: N1, nodeId: N1 });
    s.record({
      type: "objectCreated",
      objectId: b,
      ts: 2,
      size: 24,
      owner: `${N1}/w1`,
      nodeId: N1,
    });
    s.record({ type: "objectLocationAdded", objectId: a, nodeId: N2 });
    s.record({ type: "objectLocationAdded", objectId: a, nodeId: N2 });
    s.record({ type: "objectLocationRemoved", objectId: b, nodeId: N1 });
    s.record({ type: "objectLocationAdded", objectId: "ffff" as ObjectId, nodeId: N2 });
    await s.flush();
    assert.deepEqual(await s.getObject(a), {
      objectId: a,
      state: "ready",
      size: 1000,
      owner: N1,
      locations: [N1, N2],
      createdAt: 1,
    });
    assert.equal((await s.getObject(b))?.state, "lost");
    assert.equal(await s.getObject("ffff" as ObjectId), undefined);
    assert.deepEqual((await s.listObjects({ nodeId: N2 })).map((o) => o.objectId), [a]);
    assert.deepEqual((await s.listObjects()).map((o) => o.objectId), [b, a]);
    assert.deepEqual((await s.summary()).objects, {
      byState: { ready: 1, lost: 1 },
      totalBytes: 1024,
    });
    s.record({ type: "objectLocationAdded", objectId: b, nodeId: N2 });
    s.record({ type: "objectFreed", objectId: a });
    await s.flush();
    assert.equal(await s.getObject(a), undefined);
    assert.deepEqual((await s.getObject(b))?.locations, [N2]);
    assert.deepEqual((await s.summary()).objects, { byState: { ready: 1 }, totalBytes: 24 });
  });

  await step("actors change state, keep fields, and free their name when dead", async (s) => {
    s.record({
      type: "actorState",
      actorId: A1,
      state: "pending",
      ts: 1,
      className: "Counter",
      name: "hits",
      namespace: "ns",
      jobId: JOB,
    });
    s.record({
      type: "actorState",
      actorId: A1,
      state: "alive",
      ts: 2,
      nodeId: N1,
      workerId: W1,
    });
    s.record({ type: "actorState", actorId: A2, state: "alive", ts: 3, className: "Other" });
    await s.flush();
    assert.deepEqual(await s.getActor(A1), {
      actorId: "a1",
      state: "alive",
      className: "Counter",
      name: "hits",
      namespace: "ns",
      jobId: JOB,
      nodeId: N1,
      workerId: W1,
      restarts: 0,
      updatedAt: 2,
    });
    assert.equal((await s.getNamedActor("hits", "ns"))?.actorId, "a1");
    assert.equal(await s.getNamedActor("hits"), undefined);
    s.record({ type: "actorState", actorId: A1, state: "restarting", ts: 4, restarts: 1 });
    s.record({ type: "actorState", actorId: A1, state: "dead", ts: 5, error: "killed" });
    await s.flush();
    assert.equal(await s.getNamedActor("hits", "ns"), undefined);
    const a1 = await s.getActor(A1);
    assert.equal(a1?.restarts, 1);
    assert.equal(a1?.error, "killed");
    assert.deepEqual((await s.listActors({ state: "alive" })).map((a) => a.actorId), ["a2"]);
    assert.deepEqual((await s.listActors({ jobId: JOB })).map((a) => a.actorId), ["a1"]);
    assert.deepEqual((await s.summary()).actors, { alive: 1, dead: 1 });
  });

  await step("actor calls are task records: running, then ended, named Class.method", async (s) => {
    s.record({ type: "actorState", actorId: A1, state: "alive", ts: 1, className: "Counter" });
    s.record({ type: "actorState", actorId: A1, state: "alive", ts: 2, nodeId: N1, workerId: W1 });
    const [slow, ok, bad, dep] = [taskId(), taskId(), taskId(), objectIdOf(taskId(), 0)];
    // taskId, actor, method, state, attempt, submitted, start, end, returns, deps, parent, error,
    // calls in the run, step between their task ids
    const row = (id: TaskId, m: string, state: string, start: number, end: number, e = "") => {
      const deps = state === "failed" ? [dep] : [];
      return [id, A1, m, state, 0, 10, start, end, 1, deps, "", e, 1, 1];
    };
    s.record({ type: "actorCalls", jobId: JOB, calls: row(slow, "wait", "running", 11, 0) });
    await s.flush();
    const running = await s.getTask(slow);
    assert.equal(running?.state, "running");
    assert.equal(running?.name, "Counter.wait");
    assert.deepEqual((await s.listTasks({ state: "running" })).map((t) => t.taskId), [slow]);
    s.record({
      type: "actorCalls",
      jobId: JOB,
      calls: [
        ...row(ok, "inc", "finished", 12, 13),
        ...row(slow, "wait", "finished", 12, 40),
        ...row(bad, "inc", "failed", 13, 14, "Error: boom"),
      ],
    });
    // A replayed running record of an ended call changes nothing.
    s.record({ type: "actorCalls", jobId: JOB, calls: row(slow, "wait", "running", 11, 0) });
    await s.flush();
    assert.deepEqual(await s.getTask(ok), {
      taskId: ok,
      jobId: JOB,
      name: "Counter.inc",
      actorId: A1,
      state: "finished",
      history: [
        { state: "submitted", ts: 10 },
        { state: "running", ts: 12 },
        { state: "finished", ts: 13 },
      ],
      submittedAt: 10,
      updatedAt: 13,
      endedAt: 13,
      nodeId: N1,
      workerId: W1,
      attempt: 0,
      deps: [],
      returns: [objectIdOf(ok, 0)],
      pinned: false,
    });
    const failed = await s.getTask(bad);
    assert.equal(failed?.error, "Error: boom");
    assert.deepEqual(failed?.deps, [dep]);
    assert.equal((await s.getTask(slow))?.endedAt, 40);
    assert.deepEqual((await s.listTasks({ jobId: JOB })).map((t) => t.taskId), [slow, bad, ok]);
    assert.deepEqual(await s.listTasks({ nodeId: N2 }), []);
    assert.deepEqual(await s.listTasks({ state: "running" }), []);
    const sum = await s.summary();
    assert.deepEqual(sum.tasks.byState, { finished: 2, failed: 1 });
    assert.deepEqual(sum.tasks.byFunction, {
      "Counter.inc": { finished: 1, failed: 1 },
      "Counter.wait": { finished: 1 },
    });
    assert.equal(sum.tasks.retained, 3);
  });

  await step("a record of a run of actor calls reads as one record per call", async (s) => {
    s.record({ type: "actorState", actorId: A1, state: "alive", ts: 1, className: "Counter" });
    const first = "00000000aaaaaaaa000000fe" as TaskId; // counters 0xfe, 0x100, 0x102 (step 2)
    const ids = [first, "00000000aaaaaaaa00000100", "00000000aaaaaaaa00000102"] as TaskId[];
    s.record({
      type: "actorCalls",
      jobId: JOB,
      calls: [first, A1, "inc", "finished", 0, 100, 100, 130, 2, [], "", "", 3, 2],
    });
    await s.flush();
    const got = await Promise.all(ids.map((id) => s.getTask(id)));
    assert.deepEqual(got.map((t) => t?.taskId), ids);
    assert.deepEqual(got.map((t) => t?.history.slice(1).map((h) => h.ts)), [
      [100, 110],
      [110, 120],
      [120, 130],
    ], "the run's time shared evenly, in order");
    assert.deepEqual(got[2]?.returns, [objectIdOf(ids[2], 0), objectIdOf(ids[2], 1)]);
    assert.equal(await s.getTask("00000000aaaaaaaa000000ff" as TaskId), undefined);
    assert.equal(await s.getTask("00000000aaaaaaaa00000104" as TaskId), undefined);
    assert.deepEqual((await s.listTasks({})).map((t) => t.taskId), ids.toReversed());
    assert.deepEqual((await s.summary()).tasks.byFunction, { "Counter.inc": { finished: 3 } });
    assert.equal((await s.summary()).tasks.retained, 3);
  });

  await step("actor calls belong to their actor's job, whoever recorded them", async (s) => {
    const driverJob = "02000000" as JobId;
    s.record({ type: "actorState", actorId: A1, state: "alive", ts: 1, jobId: driverJob });
    const id = taskId();
    // Recorded by the node that hosts the actor, under that node's own job.
    const calls = [id, A1, "inc", "finished", 0, 5, 5, 6, 1, [], "", "", 1, 1];
    s.record({ type: "actorCalls", jobId: JOB, calls });
    await s.flush();
    assert.equal((await s.getTask(id))?.jobId, driverJob);
    assert.deepEqual((await s.listTasks({ jobId: driverJob })).map((t) => t.taskId), [id]);
    assert.deepEqual(await s.listTasks({ jobId: JOB }), []);
  });

  await step("actor calls beyond maxFinishedTasks are dropped, oldest first", async (s) => {
    const ids = Array.from({ length: 8 }, () => taskId());
    for (const [i, id] of ids.entries()) {
      const calls = [id, A2, "f", "finished", 0, i, i, i + 1, 1, [], "", "", 1, 1];
      s.record({ type: "actorCalls", jobId: JOB, calls });
    }
    await s.flush();
    assert.equal(await s.getTask(ids[2]), undefined);
    assert.equal((await s.getTask(ids[3]))?.name, "Actor.f", "an unknown actor's class");
    const sum = await s.summary();
    assert.equal(sum.tasks.retained, 5);
    assert.equal(sum.tasks.evicted, 3);
    assert.deepEqual(sum.tasks.byState, { finished: 8 });
  }, { maxFinishedTasks: 5 });

  await step("subscribers get node, object, actor and task changes in order", async (s) => {
    const got: string[] = [];
    const subs = [
      s.subscribe("node", (m: ChannelMessages["node"]) => got.push(`${m.type}:${m.nodeId}`)),
      s.subscribe("task", (m) => got.push(`task:${m.state}`)),
      s.subscribe("object", (m) => got.push(m.type)),
      s.subscribe("actor", (m) => got.push(`actor:${m.state}`)),
    ];
    await Promise.all(subs.map((u) => u.ready));
    s.record({ type: "nodeAdded", nodeId: N1, ts: 1, address: "", resources: {}, numWorkers: 1 });
    s.record({ type: "nodeHeartbeat", nodeId: N1, ts: 2 });
    runTask(s, 3);
    s.record({
      type: "objectCreated",
      objectId: objectIdOf(taskId(), 0),
      ts: 4,
      size: 1,
      owner: "",
      nodeId: N1,
    });
    s.record({ type: "actorState", actorId: "a" as ActorId, state: "alive", ts: 5 });
    s.record({ type: "kvPut", key: "k", value: "v" });
    s.record({ type: "nodeRemoved", nodeId: N1, ts: 6 });
    await s.flush();
    const want = [
      "nodeAdded:node1",
      "task:submitted",
      "task:running",
      "task:finished",
      "objectCreated",
      "actor:alive",
      "nodeRemoved:node1",
    ];
    await waitFor(() => got.length >= want.length);
    const order = (prefix: (x: string) => boolean) => got.filter(prefix);
    assert.deepEqual(
      order((x) => x.startsWith("task:")),
      want.filter((x) => x.startsWith("task:")),
    );
    assert.deepEqual(order((x) => x.startsWith("node")), want.filter((x) => x.startsWith("node")));
    assert.deepEqual([...got].sort(), [...want].sort());
    subs[0]();
    s.record({ type: "nodeAdded", nodeId: N2, ts: 7, address: "", resources: {}, numWorkers: 1 });
    s.record({ type: "actorState", actorId: "a" as ActorId, state: "dead", ts: 8 });
    await s.flush();
    await waitFor(() => got.includes("actor:dead"));
    assert.equal(got.includes("nodeAdded:node2"), false);
    for (const u of subs) u();
  });

  await step("a throwing subscriber does not stop the others", async (s) => {
    const got: string[] = [];
    const quiet = console.error;
    console.error = () => {};
    try {
      const a = s.subscribe("actor", () => {
        throw new Error("handler bug");
      });
      const b = s.subscribe("actor", (m) => got.push(m.actorId));
      await Promise.all([a.ready, b.ready]);
      s.record({ type: "actorState", actorId: "x" as ActorId, state: "alive", ts: 1 });
      await s.flush();
      await waitFor(() => got.length === 1);
      a();
      b();
    } finally {
      console.error = quiet;
    }
  });

  await step("a closed store rejects queries and ignores records", async (s) => {
    await s.close();
    s.record({ type: "kvPut", key: "k", value: "v" });
    const err = await s.kvGet("k").then(() => undefined, (e) => e);
    assert.ok(err instanceof ControlStoreError);
    assert.equal(err.code, "closed");
    await s.close();
  });
}
