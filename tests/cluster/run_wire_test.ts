/**
 * The `run` message's wire form: tasks as tuples naming shared rows of
 * functions and options, through the serializer the links use.
 */
import assert from "node:assert/strict";
import type { JobId, ObjectId, TaskId } from "../../runtime/common/mod.ts";
import { packRun, type RunMessage, unpackRun } from "../../runtime/cluster/run_wire.ts";
import { decodeFrame, encodeFrame, heapAllocator } from "../../runtime/serialization/mod.ts";
import type { FunctionDescriptor, TaskOptions, TaskSpec } from "../../runtime/protocol/mod.ts";
import { mergeOptions } from "../../runtime/core/mod.ts";

const OPTIONS: TaskOptions = mergeOptions(undefined);

function spec(i: number, fn: FunctionDescriptor, options: TaskOptions, parent?: string): TaskSpec {
  return {
    taskId: `t${i}` as TaskId,
    fn,
    args: i % 2 ? new Uint8Array([i, 1, 2]) : (`o${i}` as ObjectId),
    deps: i % 2 ? [] : [`o${i}` as ObjectId],
    argRefs: i % 2 ? [] : [`o${i}` as ObjectId],
    options,
    parentTaskId: parent as TaskId | undefined,
    attempt: i % 3,
    jobId: (i === 2 ? "otherjob" : "job1") as JobId,
  };
}

/** `message` as the receiver gets it: encoded and decoded as a link does. */
function overTheWire(message: RunMessage): RunMessage {
  return decodeFrame(encodeFrame(message, "message", heapAllocator)) as RunMessage;
}

Deno.test("a run message carries each function and options once and gives back equal specs", () => {
  const f = { moduleUrl: "file:///app/main.ts", key: "f#0", name: "f" };
  const g = { moduleUrl: "file:///app/main.ts", key: "g#0", name: "g" };
  const other = mergeOptions(OPTIONS, {
    numCpus: 0.5,
    name: "custom",
    schedulingStrategy: "SPREAD",
  });
  const specs = [
    spec(0, f, OPTIONS),
    spec(1, g, OPTIONS, "parent1"),
    spec(2, f, other),
    spec(3, f, OPTIONS),
  ];
  const message = packRun("127.0.0.1:7000", specs);
  assert.equal(message.fns.length, 2);
  assert.equal(message.options.length, 2);
  const got = unpackRun(overTheWire(message));
  assert.deepEqual(got, specs);
  // The receiver's specs share one options object per row (its control store encodes it once).
  assert.equal(got[0].options, got[1].options);
  assert.equal(got[0].options, got[3].options);
  assert.notEqual(got[0].options, got[2].options);
  assert.equal(got[0].fn, got[2].fn);
});

Deno.test("a run message naming a row it lacks is refused, naming the task", () => {
  const message = packRun("x", [spec(1, { moduleUrl: "m", key: "k", name: "f" }, OPTIONS)]);
  assert.throws(
    () => unpackRun({ ...message, fns: [] }),
    /task t1 names a function or options row the message lacks/,
  );
  assert.throws(
    () => unpackRun({ owner: "x" } as unknown as RunMessage),
    /a run message needs fns, options and tasks arrays/,
  );
});
