/**
 * Pool workers' task channels: batches too big for them go by message
 * without losing one, refs a task puts reach the node before the results
 * that hold them, a spinning get loses nothing when a worker dies, and what
 * a dying worker finished is kept.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { putAndReturnRef } from "../fixtures/remote_fns.ts";
import { closeOnce, forever, measureBytes, putAndForget, spin } from "../fixtures/scheduler_fns.ts";
import { rayTest } from "./_with_ray.ts";

const KIB = 1024;

function uniqueKey(): string {
  return `RAYD_TEST_${crypto.randomUUID().replaceAll("-", "_")}`;
}

rayTest(
  "batches of tasks too big for a worker's channel go by message, every one run",
  async () => {
    const refs: ray.ObjectRef<number[]>[] = [];
    const expected: number[][] = [];
    for (let g = 0; g < 16; g++) {
      // Odd groups: 32 x 40 KiB arguments, batched 16 to a worker: more than a channel holds.
      const big = g % 2 === 1;
      for (let k = 0; k < (big ? 32 : 3); k++) {
        const tag = refs.length;
        const size = big ? 40 * KIB : 16;
        refs.push(measureBytes.remote(new Uint8Array(size).fill(tag & 0xff), tag));
        expected.push([size, tag & 0xff, tag]);
      }
      await new Promise((r) => setTimeout(r, 0));
    }
    assert.deepEqual(await ray.get(refs), expected);
  },
);

rayTest("a ref a task puts and returns can be got at once, task after task", async () => {
  for (let i = 0; i < 300; i++) {
    const { ref } = await ray.get(putAndReturnRef.remote([i])) as { ref: ray.ObjectRef<number[]> };
    assert.deepEqual(await ray.get(ref), [i]);
  }
});

rayTest("a ref a task returns and drops is still there when the driver gets it", async () => {
  for (let round = 0; round < 6; round++) {
    const outers = Array.from({ length: 12 }, (_, i) => putAndForget.remote([round, i]));
    await new Promise((r) => setTimeout(r, 5));
    const inners = (await ray.get(outers)).map(([inner]) => inner as ray.ObjectRef<number[]>);
    assert.deepEqual(await ray.get(inners), inners.map((_, i) => [round, i]));
  }
});

rayTest("a spinning get sees its task retried after the worker died", async () => {
  for (let i = 0; i < 200; i++) assert.equal(await ray.get(spin.remote(0, i)), i);
  const key = uniqueKey();
  assert.equal(await ray.get(closeOnce.options({ maxRetries: 1 }).remote(key, "again")), "again");
  for (let i = 0; i < 200; i++) assert.equal(await ray.get(spin.remote(0, i)), i);
});

rayTest(
  "force-cancelling a task while thousands of short ones stream loses none of them",
  async () => {
    const long = forever.remote();
    const refs: ray.ObjectRef<number>[] = [];
    for (let i = 0; i < 3000; i++) {
      refs.push(spin.remote(0, i) as ray.ObjectRef<number>);
      if (i === 1500) await ray.cancel(long, { force: true });
      if (i % 250 === 0) await new Promise((r) => setTimeout(r, 0));
    }
    const values = await ray.get(refs);
    assert.deepEqual(values, Array.from({ length: 3000 }, (_, i) => i));
    await assert.rejects(ray.get(long), ray.TaskCancelledError);
  },
);
