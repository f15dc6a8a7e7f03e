import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import {
  fanOutInside,
  fib,
  identity,
  putAndReturnRef,
  putThenGet,
  square,
} from "../fixtures/remote_fns.ts";
import { rayTest } from "./_with_ray.ts";

function fibLocal(n: number): number {
  let [a, b] = [0, 1];
  for (let i = 0; i < n; i++) [a, b] = [b, a + b];
  return a;
}

rayTest("tasks can put() a value and get() it back through another task", async () => {
  const value = { list: [1, 2, 3], when: new Date(5) };
  assert.deepStrictEqual(await ray.get(putThenGet.remote(value)), value);
});

rayTest("a ref put() inside a task can be read by the driver after the task ends", async () => {
  const holder = await ray.get(putAndReturnRef.remote("made in a task"));
  const { ref } = holder as { ref: ray.ObjectRef<string> };
  assert.ok(ref instanceof ray.ObjectRef);
  assert.equal(await ray.get(ref), "made in a task");
  assert.equal(await ray.get(identity.remote(ref)), "made in a task");
});

rayTest("recursive remote fib(15) with 2 workers completes with the right value", async () => {
  assert.equal(await ray.get(fib.remote(15)), fibLocal(15));
}, { numWorkers: 2 });

rayTest("nested tasks deeper than the worker count do not deadlock", async () => {
  assert.equal(await ray.get(fib.remote(8)), fibLocal(8));
}, { numWorkers: 1 });

rayTest("10,000 tasks fanned out from the driver are all gathered", async () => {
  const n = 10_000;
  const refs = Array.from({ length: n }, (_, i) => square.remote(i));
  const values = await ray.get(refs);
  assert.equal(values.length, n);
  for (let i = 0; i < n; i++) {
    if (values[i] !== i * i) assert.fail(`square(${i}) gave ${values[i]}`);
  }
  assert.equal(values.reduce((sum, v) => sum + v, 0), ((n - 1) * n * (2 * n - 1)) / 6);
}, { numWorkers: 4 });

rayTest("a task can fan out 2,000 tasks and gather them", async () => {
  const n = 2000;
  assert.equal(await ray.get(fanOutInside.remote(n)), ((n - 1) * n * (2 * n - 1)) / 6);
}, { numWorkers: 4 });
