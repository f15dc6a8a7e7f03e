/**
 * The node's side of its pool workers' task channels (TaskChannels) with
 * fake workers: batching per worker, functions new to a worker by message,
 * numbering, results read in the order of the worker's messages, and
 * dropped workers.
 */
import assert from "node:assert/strict";
import {
  config,
  IdFactory,
  type JobId,
  type TaskId,
  type WorkerId,
} from "../../runtime/common/mod.ts";
import type {
  ResultTuple,
  RunTuple,
  TaskOptions,
  TaskSpec,
  ToWorker,
} from "../../runtime/protocol/mod.ts";
import { TaskChannel } from "../../runtime/transport/mod.ts";
import { type ChannelWorker, TaskChannels } from "../../runtime/node/task_channels.ts";

const ids = new IdFactory();

const OPTIONS: TaskOptions = {
  numReturns: 1,
  numCpus: 1,
  resources: {},
  maxRetries: 3,
  retryExceptions: false,
  schedulingStrategy: "DEFAULT",
};

function spec(fnName = "f", args = new Uint8Array([1, 2, 3])): TaskSpec {
  return {
    taskId: ids.nextTaskId(),
    fn: { moduleUrl: "file:///fake.ts", key: `${fnName}#0`, name: fnName },
    args,
    deps: [],
    argRefs: [],
    options: OPTIONS,
    attempt: 0,
  };
}

class FakeWorker implements ChannelWorker {
  readonly fnIndex = new Map<string, number>();
  readonly got: ToWorker[] = [];
  received = 0;
  alive = true;
  constructor(readonly id: WorkerId) {}
  send(msg: ToWorker): void {
    this.got.push(msg);
  }
}

/** A worker with its channel, as the worker's thread sees it. */
function worker(channels: TaskChannels, id: string): [FakeWorker, TaskChannel] {
  const w = new FakeWorker(id as WorkerId);
  return [w, new TaskChannel(channels.create(w.id))];
}

function taken(channel: TaskChannel): { seq: number; taskIds: TaskId[] }[] {
  const out = [];
  for (let b; (b = channel.takeWork());) {
    out.push({
      seq: b.seq,
      taskIds: b.items.map((t) => t[0]),
    });
  }
  return out;
}

function result(taskId: TaskId): ResultTuple {
  return [taskId, [new Uint8Array([7])], false, 1];
}

Deno.test("a batch that brings functions new to the worker goes by message, the next through the channel", () => {
  const channels = new TaskChannels();
  const [w, channel] = worker(channels, "w1");
  const [a, b, c] = [spec(), spec(), spec()];
  channels.queue(w, a, []);
  channels.queue(w, b, []);
  channels.sendQueued();
  assert.equal(w.got.length, 1);
  const run = w.got[0] as Extract<ToWorker, { type: "run" }>;
  assert.equal(run.type, "run");
  assert.equal(run.seq, 0);
  assert.deepEqual(run.fns, [[0, a.fn]]);
  assert.deepEqual(run.tasks.map((t: RunTuple) => [t[0], t[1]]), [[a.taskId, 0], [b.taskId, 0]]);
  assert.deepEqual(taken(channel), [], "nothing on the channel");
  channels.queue(w, c, []);
  channels.sendQueued();
  assert.equal(w.got.length, 1, "no message for a known function");
  assert.deepEqual(taken(channel), [{ seq: 1, taskIds: [c.taskId] }]);
  channels.sendNow(w, spec("g"), []);
  const second = w.got[1] as Extract<ToWorker, { type: "run" }>;
  assert.equal(second.seq, 2, "one numbering for both ways");
  assert.deepEqual(second.fns?.map(([i]) => i), [1], "a new function gets the next index");
});

Deno.test("each worker gets its own batch; a worker that died meanwhile gets none", () => {
  const channels = new TaskChannels();
  const [w1, c1] = worker(channels, "w1");
  const [w2, c2] = worker(channels, "w2");
  // Teach both workers the function by one message each.
  channels.sendNow(w1, spec(), []);
  channels.sendNow(w2, spec(), []);
  assert.deepEqual([w1.got.length, w2.got.length], [1, 1]);
  const [x, y, z] = [spec(), spec(), spec()];
  channels.queue(w1, x, []);
  channels.queue(w2, y, []);
  channels.queue(w1, z, []);
  w2.alive = false;
  const before = w2.got.length;
  channels.sendQueued();
  assert.deepEqual(taken(c1), [{ seq: 1, taskIds: [x.taskId, z.taskId] }], "one batch, in order");
  assert.deepEqual(taken(c2), [], "the dead worker gets nothing");
  assert.equal(w2.got.length, before);
  channels.sendQueued();
  assert.deepEqual(taken(c1), [], "a batch is sent once");
});

Deno.test("a batch too big for the channel goes by message", () => {
  const channels = new TaskChannels();
  const [w, channel] = worker(channels, "w1");
  channels.sendNow(w, spec(), []); // teaches the function
  w.got.length = 0;
  const big = spec("f", new Uint8Array(config("channelBytes") + 1));
  channels.sendNow(w, big, []);
  assert.deepEqual(taken(channel), []);
  assert.equal(w.got.length, 1);
  const run = w.got[0] as Extract<ToWorker, { type: "run" }>;
  assert.equal(run.seq, 1);
  assert.equal(run.fns, undefined);
  assert.deepEqual(run.tasks.map((t: RunTuple) => t[0]), [big.taskId]);
});

Deno.test("results are read only once the messages the worker posted before them arrived", () => {
  const channels = new TaskChannels();
  const [w, channel] = worker(channels, "w1");
  const [a, b] = [spec(), spec()];
  assert.ok(channel.sendResults(0, [result(a.taskId)]));
  assert.ok(channel.sendResults(2, [result(b.taskId)]), "after two messages");
  const read: TaskId[] = [];
  const onResults = (r: ResultTuple[]) => void read.push(...r.map((x) => x[0]));
  channels.read(w, undefined, onResults);
  assert.deepEqual(read, [a.taskId], "the second batch waits for its messages");
  w.received = 2;
  channels.read(w, undefined, onResults);
  assert.deepEqual(read, [a.taskId, b.taskId]);
});

Deno.test("when a worker is gone, results after its last message are dropped, and it is forgotten", () => {
  const channels = new TaskChannels();
  const [w, channel] = worker(channels, "w1");
  const [a, b] = [spec(), spec()];
  assert.ok(channel.sendResults(1, [result(a.taskId)]));
  assert.ok(channel.sendResults(3, [result(b.taskId)]));
  const read: TaskId[] = [];
  channels.read(w, 1, (r) => void read.push(...r.map((x) => x[0])));
  assert.deepEqual(read, [a.taskId], "the batch stamped after message 1 never gets its messages");
  channels.drop(w.id);
  channels.sendNow(w, spec(), []);
  assert.deepEqual(w.got, [], "nothing is sent to a dropped worker");
  assert.deepEqual(taken(channel), []);
});

Deno.test("pollables: the channels of busy workers, each read for its own worker", () => {
  const channels = new TaskChannels();
  const [w1, c1] = worker(channels, "w1");
  const [w2] = worker(channels, "w2");
  const [w3] = worker(channels, "w3");
  const workers = new Map([[w1.id, w1], [w2.id, w2]]); // w3 is not in the node's table
  const busy = (id: WorkerId) => id !== "w2";
  const seen: [WorkerId, TaskId[]][] = [];
  const polls = channels.pollables(workers, busy, (w, r) => seen.push([w.id, r.map((x) => x[0])]));
  assert.equal(polls.length, 1, "w2 is idle and w3 unknown");
  assert.equal(w3.id, "w3");
  const a = spec();
  assert.ok(c1.sendResults(0, [result(a.taskId)]));
  polls[0].read();
  assert.deepEqual(seen, [["w1", [a.taskId]]]);
});

Deno.test("a task's name and its driver's job id (a cluster's task) cross the channel", () => {
  const channels = new TaskChannels();
  const [w, channel] = worker(channels, "w1");
  channels.sendNow(w, spec(), []); // the function goes by message; the next ones by channel
  const plain = spec();
  const named: TaskSpec = { ...spec(), options: { ...OPTIONS, name: "shown" } };
  const ofJob: TaskSpec = { ...spec(), jobId: "0badc0de" as JobId };
  const both: TaskSpec = { ...named, taskId: ids.nextTaskId(), jobId: "feedf00d" as JobId };
  for (const s of [plain, named, ofJob, both]) channels.queue(w, s, []);
  channels.sendQueued();
  const items: RunTuple[] = [];
  for (let b; (b = channel.takeWork());) items.push(...b.items);
  assert.deepEqual(items.map((t) => [t[0], t[6], t[7]]), [
    [plain.taskId, undefined, undefined],
    [named.taskId, "shown", undefined],
    [ofJob.taskId, undefined, "0badc0de"],
    [both.taskId, "shown", "feedf00d"],
  ]);
});
