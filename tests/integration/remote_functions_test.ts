import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import {
  add,
  asyncDouble,
  contextInTask,
  countArgs,
  deepEqual,
  describeArray,
  firstTwin,
  getNested,
  greet,
  inspectArgs,
  pair,
  plusTen,
  returnThree,
  secondTwin,
  sumOfSquares,
  timesTen,
} from "../fixtures/remote_fns.ts";
import { rayTest } from "./_with_ray.ts";

rayTest("remote() returns an ObjectRef at once and get() gives the result", async () => {
  const ref = add.remote(1, 2);
  assert.ok(ref instanceof ray.ObjectRef);
  assert.equal(await ray.get(ref), 3);
});

rayTest("remote() accepts arguments by value, by ref and mixed", async () => {
  const refs = [
    add.remote(1, 2),
    add.remote(1, ray.put(2)),
    add.remote(ray.put(1), 2),
    add.remote(ray.put(1), ray.put(2)),
  ];
  assert.deepEqual(await ray.get(refs), [3, 3, 3, 3]);
});

rayTest("remote() accepts a task's output ref as an argument", async () => {
  const sum = add.remote(add.remote(1, 2), add.remote(ray.put(3), 4));
  assert.equal(await ray.get(sum), 10);
});

rayTest("remote() accepts the same ref twice as arguments", async () => {
  const two = ray.put(2);
  assert.equal(await ray.get(add.remote(two, two)), 4);
});

rayTest("options() runs the function with the given options", async () => {
  const tuned = add.options({ numCpus: 0.5, maxRetries: 0, name: "tuned-add" });
  assert.equal(await ray.get(tuned.remote(20, 22)), 42);
});

rayTest("options() returns a new RemoteFunction and leaves the original unchanged", async () => {
  const split = pair.options({ numReturns: 2 });
  const [left, right] = split.remote() as unknown as ray.ObjectRef<string>[];
  assert.deepEqual(await ray.get([left, right]), ["left", "right"]);
  const whole = pair.remote();
  assert.ok(whole instanceof ray.ObjectRef);
  assert.deepEqual(await ray.get(whole), ["left", "right"]);
});

rayTest("remote() with numReturns 3 returns one ref per returned element", async () => {
  const refs = returnThree.remote() as unknown as ray.ObjectRef<unknown>[];
  assert.ok(Array.isArray(refs));
  assert.equal(refs.length, 3);
  for (const ref of refs) assert.ok(ref instanceof ray.ObjectRef);
  assert.equal(new Set(refs.map((ref) => ref.hex())).size, 3);
  const [a, b, c] = refs;
  assert.equal(await ray.get(a), 0);
  assert.equal(await ray.get(b), 0.0);
  assert.equal(await ray.get(c), "zero");
});

rayTest("remote() of an async function resolves to the awaited value", async () => {
  assert.deepEqual(await ray.get([1, 2, 3].map((x) => asyncDouble.remote(x))), [2, 4, 6]);
});

rayTest("remote functions can use module constants and helper functions", async () => {
  assert.equal(await ray.get(greet.remote("ray")), "HELLO, RAY!");
});

rayTest("remote functions can call other remote functions of their module", async () => {
  assert.equal(await ray.get(sumOfSquares.remote(10)), 285);
});

rayTest("remote() resolves top-level ref arguments and passes nested refs as refs", async () => {
  const nested = ray.put(8);
  const got = await ray.get(inspectArgs.remote(ray.put(7), { ref: nested }));
  assert.equal(got.top, 7);
  assert.equal(got.topIsRef, false);
  assert.equal(got.nestedIsRef, true);
  assert.ok(got.nested instanceof ray.ObjectRef);
  assert.equal(got.nested.hex(), nested.hex());
  assert.equal(await ray.get(got.nested), 8);
});

rayTest("tasks can get a nested ref that was passed to them", async () => {
  assert.deepEqual(await ray.get(getNested.remote({ ref: ray.put([1, 2]) })), [1, 2]);
  const produced = add.remote(5, 6);
  assert.equal(await ray.get(getNested.remote({ ref: produced })), 11);
});

rayTest("remote() called many times in a row runs every call", async () => {
  const refs = Array.from({ length: 100 }, (_, i) => add.remote(i, i));
  assert.deepEqual(await ray.get(refs), Array.from({ length: 100 }, (_, i) => 2 * i));
});

rayTest("tasks get large typed array arguments intact, by value and by ref", async () => {
  const arr = Float64Array.from({ length: 50_000 }, (_, i) => i % 10);
  const expected = { kind: "Float64Array", length: 50_000, sum: 225_000 };
  assert.deepEqual(await ray.get(describeArray.remote(arr)), expected);
  assert.deepEqual(await ray.get(describeArray.remote(ray.put(arr))), expected);
});

rayTest("remote() passes no arguments, undefined arguments and many arguments", async () => {
  assert.deepEqual(await ray.get(countArgs.remote()), { count: 0, undefinedAt: [] });
  assert.deepEqual(await ray.get(countArgs.remote(1, undefined, 3)), {
    count: 3,
    undefinedAt: [1],
  });
  const many = Array.from({ length: 200 }, (_, i) => (i % 2 ? ray.put(i) : i));
  assert.equal((await ray.get(countArgs.remote(...many))).count, 200);
});

rayTest(
  "getRuntimeContext() inside a task names the task and a worker of the same job",
  async () => {
    const driver = ray.getRuntimeContext();
    assert.equal(driver.taskId, undefined);
    const inTask = await ray.get(contextInTask.remote());
    assert.equal(inTask.jobId, driver.jobId);
    // The driver's own node when embedded; one of the cluster's nodes on a cluster.
    const nodeIds = (await ray.nodes()).map((n) => n.nodeId);
    assert.ok(nodeIds.includes(inTask.nodeId), `${inTask.nodeId} in ${nodeIds}`);
    assert.equal(typeof inTask.taskId, "string");
    assert.equal(typeof inTask.workerId, "string");
  },
);

rayTest("remote functions can use imported functions", async () => {
  assert.equal(await ray.get(deepEqual.remote({ a: [1] }, { a: [1] })), true);
  assert.equal(await ray.get(deepEqual.remote({ a: [1] }, { a: [2] })), false);
});

rayTest("remote functions with the same name in one module stay distinct", async () => {
  assert.deepEqual(await ray.get([firstTwin.remote(), secondTwin.remote()]), ["first", "second"]);
});

rayTest("anonymous arrow functions made remote stay distinct", async () => {
  assert.deepEqual(await ray.get([plusTen.remote(5), timesTen.remote(5)]), [15, 50]);
});
