import assert from "node:assert/strict";
import { IdFactory, type ObjectId, type TaskId, type WorkerId } from "../../runtime/common/mod.ts";
import type { Frame, ToWorker } from "../../runtime/protocol/mod.ts";
import { ObjectTable } from "../../runtime/node/object_table.ts";
import { type WaitsHost, WorkerWaits } from "../../runtime/node/worker_waits.ts";

const ids = new IdFactory();
const oid = () => ids.nextTaskId() as unknown as ObjectId;
/** A frame in the store (not inline bytes): sent ones are pinned for the worker. */
const STORED: Frame = { offset: 64, size: 8 };

function setup() {
  const table = new ObjectTable();
  const log: string[] = [];
  const host: WaitsHost = {
    wait: (i, need, timeoutMs, fetch) => table.wait(i, need, timeoutMs, fetch),
    taskBlocked: (t) => void log.push(`blocked ${t}`),
    taskUnblocked: (t) => void log.push(`unblocked ${t}`),
    lendAll: (_ids, frames) => [...frames],
    pin: (id, w) => void log.push(`pin ${id} for ${w}`),
    unpin: (id) => void log.push(`unpin ${id}`),
    answered: () => void log.push("answered"),
  };
  const worker = { id: "w1" as WorkerId, alive: true, sent: [] as ToWorker[] };
  const caller = { ...worker, send: (m: ToWorker) => void worker.sent.push(m) };
  const waits = new WorkerWaits(host);
  waits.added(worker.id);
  return { table, log, waits, worker, caller };
}

Deno.test("a wait is answered once its objects exist; the task is blocked meanwhile; stored frames are pinned", async () => {
  const { table, log, waits, worker, caller } = setup();
  const [a, b] = [oid(), oid()];
  const task = "t1" as TaskId;
  waits.wait(caller, {
    type: "wait",
    reqId: 7,
    ids: [a, b],
    numReturns: 2,
    fetch: true,
    taskId: task,
  });
  assert.deepEqual(log, ["blocked t1"]);
  table.add(a, new Uint8Array([1]), false);
  table.add(b, STORED, false);
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(log, ["blocked t1", "unblocked t1", `pin ${b} for w1`, "answered"]);
  assert.equal(worker.sent.length, 1);
  const ready = worker.sent[0] as Extract<ToWorker, { type: "ready" }>;
  assert.equal(ready.reqId, 7);
  assert.deepEqual(ready.ready, [true, true]);
  assert.equal(ready.frames?.[1], STORED);
});

Deno.test("a wait already satisfied does not block its task", async () => {
  const { table, log, waits, caller } = setup();
  const a = oid();
  table.add(a, new Uint8Array([1]), false);
  waits.wait(caller, {
    type: "wait",
    reqId: 1,
    ids: [a],
    numReturns: 1,
    fetch: false,
    taskId: "t" as TaskId,
  });
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(log, ["answered"]);
});

Deno.test("cancelWait answers with nothing ready; a worker's waits end when it is gone", async () => {
  const { table, log, waits, worker, caller } = setup();
  const [a, b] = [oid(), oid()];
  waits.wait(caller, { type: "wait", reqId: 1, ids: [a], numReturns: 1, fetch: false });
  waits.wait(caller, { type: "wait", reqId: 2, ids: [b], numReturns: 1, fetch: false });
  waits.cancel(caller, 1);
  waits.cancel(caller, 1);
  assert.deepEqual(worker.sent, [{ type: "ready", reqId: 1, ready: [] }]);
  waits.gone(worker.id);
  table.add(a, new Uint8Array([1]), false);
  table.add(b, new Uint8Array([1]), false);
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(worker.sent.length, 1, "no answer after the worker is gone");
  assert.deepEqual(log, []);
});
