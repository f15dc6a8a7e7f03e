/**
 * Reference counting: objects are freed when no ref, zero-copy view, task
 * argument or containing object holds them, and never before.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { rayTest } from "./_with_ray.ts";
import { collectGarbage, currentBackend } from "../../runtime/core/mod.ts";
import type { Node } from "../../runtime/node/mod.ts";
import { bigArray, putInside, sumLater } from "../fixtures/scheduler_fns.ts";

const MIB = 1024 * 1024;

function node(): Node {
  return currentBackend() as Node;
}

/** Collects garbage and lets finalizers and the messages they send run. */
async function collect(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    collectGarbage!();
    await new Promise((r) => setTimeout(r, 20));
  }
}

function refTest(name: string, init: ray.InitOptions, fn: () => Promise<void>): void {
  rayTest(name, fn, init);
}

refTest("a put object is freed once its ref is collected", { numWorkers: 1 }, async () => {
  await collect();
  const before = node().objectCounts().stored;
  (() => {
    ray.put(new Float64Array(MIB / 8));
  })();
  assert.equal(node().objectCounts().stored, before + 1);
  await collect();
  assert.equal(node().objectCounts().stored, before);
});

Deno.test(
  "putting 1 MiB 10,000 times into a 256 MiB store and keeping none stays flat",
  async () => {
    // In a process of its own: the test runner's other files would count in this one's size.
    const script = new URL("../fixtures/put_loop_rss.ts", import.meta.url);
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script.href],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    const { peak, used } = JSON.parse(new TextDecoder().decode(stdout).trim().split("\n").at(-1)!);
    assert.ok(used < 256 * MIB, `store holds ${used} bytes`);
    assert.ok(peak < 1024 * MIB, `resident size reached ${peak} bytes`);
  },
);

refTest("a ref inside a stored object keeps its target alive", { numWorkers: 1 }, async () => {
  const outer = (() => ray.put({ inner: ray.put("kept") }))();
  await collect();
  const { inner } = await ray.get(outer);
  assert.equal(await ray.get(inner), "kept");
});

refTest("a ref returned inside a task's result keeps its target alive", {
  numWorkers: 2,
}, async () => {
  const outer = putInside.remote({ deep: [1, 2, 3] });
  const [inner] = await ray.get(outer);
  await collect();
  assert.deepEqual(await ray.get(inner), { deep: [1, 2, 3] });
});

refTest("a task's argument outlives the caller's ref until the task ran", {
  numWorkers: 2,
}, async () => {
  const result = (() => {
    const big = ray.put(new Float64Array(MIB).fill(2));
    return sumLater.remote(big, 300);
  })();
  await collect();
  assert.equal(await ray.get(result), 2 * MIB);
  await collect();
});

refTest("a zero-copy view keeps its object's bytes after the ref is gone", {
  numWorkers: 2,
  objectStoreMemory: 64 * MIB,
}, async () => {
  const view = await ray.get(bigArray.remote(MIB / 8, 7));
  await collect();
  for (let i = 0; i < 200; i++) {
    ray.put(new Float64Array(MIB / 8).fill(-1));
    if (i % 10 === 0) await new Promise((r) => setTimeout(r, 0));
  }
  assert.ok(view.every((x) => x === 7), "the view's bytes were reused while it was alive");
});

refTest("results nobody holds are freed when their tasks finish", {
  numWorkers: 2,
}, async () => {
  await collect();
  const before = node().objectCounts().stored;
  for (let i = 0; i < 2000; i++) bigArray.remote(16, i);
  const last = bigArray.remote(16, 0);
  await ray.get(last);
  await collect();
  const after = node().objectCounts();
  assert.ok(after.stored <= before + 1, `${after.stored - before} objects left behind`);
});
