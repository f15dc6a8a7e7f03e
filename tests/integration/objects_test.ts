import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { FragileActor } from "../fixtures/actor_classes.ts";
import { abortedGets } from "../fixtures/deadline_fns.ts";
import { sleepMs } from "../fixtures/remote_fns.ts";
import { rayTest } from "./_with_ray.ts";

function hexes(refs: readonly ray.ObjectRef<unknown>[]): string[] {
  return refs.map((ref) => ref.hex());
}

rayTest("get() of a list returns values in list order, not finishing order", async () => {
  const refs = [0, 1, 2, 3, 4].map((i) => sleepMs.remote((4 - i) * 60, `value ${i}`));
  assert.deepEqual(await ray.get(refs), ["value 0", "value 1", "value 2", "value 3", "value 4"]);
});

rayTest("get() of a list accepts the same ref twice and mixed put and task refs", async () => {
  const put = ray.put("from put");
  const task = sleepMs.remote(20, "from task");
  assert.deepEqual(await ray.get([put, task, put]), ["from put", "from task", "from put"]);
});

rayTest("get() of an empty list resolves to an empty list", async () => {
  assert.deepEqual(await ray.get([]), []);
});

rayTest("get() waits for an object that is not created yet", async () => {
  const start = performance.now();
  const ref = sleepMs.remote(300, "late");
  assert.equal(await ray.get(ref), "late");
  assert.ok(performance.now() - start >= 250, "get() returned before the task could finish");
});

rayTest("get() rejects with GetTimeoutError after timeoutMs", async () => {
  const ref = sleepMs.remote(1500, "slow");
  const start = performance.now();
  await assert.rejects(ray.get(ref, { timeoutMs: 100 }), ray.GetTimeoutError);
  const elapsed = performance.now() - start;
  assert.ok(elapsed >= 90 && elapsed < 1200, `timed out after ${elapsed.toFixed(0)} ms`);
});

rayTest("get() of the same ref succeeds after an earlier get() timed out", async () => {
  const ref = sleepMs.remote(400, "eventually");
  await assert.rejects(ray.get(ref, { timeoutMs: 50 }), ray.GetTimeoutError);
  assert.equal(await ray.get(ref), "eventually");
});

rayTest("get() with timeoutMs resolves when the object is ready in time", async () => {
  assert.equal(await ray.get(sleepMs.remote(10, "quick"), { timeoutMs: 5000 }), "quick");
});

rayTest("get() of a list rejects with GetTimeoutError when one object is late", async () => {
  const refs = [ray.put(1), sleepMs.remote(1500, 2)];
  await assert.rejects(ray.get(refs, { timeoutMs: 100 }), ray.GetTimeoutError);
});

rayTest("get() with an already aborted signal rejects with the signal's reason", async () => {
  const ref = sleepMs.remote(1000, "never read");
  const signal = AbortSignal.abort();
  await assert.rejects(ray.get(ref, { signal }), (err) => err === signal.reason);
  await assert.rejects(
    ray.get(ref, { signal }),
    (err) => err instanceof DOMException && err.name === "AbortError",
  );
  const reason = new Error("given reason");
  await assert.rejects(ray.get(ref, { signal: AbortSignal.abort(reason) }), (e) => e === reason);
});

rayTest("get() rejects with the signal's reason when it aborts while it waits", async () => {
  const controller = new AbortController();
  const ref = sleepMs.remote(1500, "never read");
  const start = performance.now();
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(
    ray.get(ref, { signal: controller.signal }),
    (err) => err instanceof DOMException && err.name === "AbortError",
  );
  assert.ok(performance.now() - start < 1200, "get() did not stop when the signal aborted");
  const custom = new AbortController();
  const reason = new Error("given reason");
  setTimeout(() => custom.abort(reason), 50);
  await assert.rejects(ray.get(ref, { signal: custom.signal }), (err) => err === reason);
  assert.equal(await ray.get(ref), "never read");
});

rayTest("get() inside a task rejects with the signal's reason when it aborts", async () => {
  const f = FragileActor.remote(0);
  assert.deepEqual(await ray.get(abortedGets.remote(f)), [
    "AbortError: DOMException",
    "the reason",
    "AbortError: DOMException",
    "the reason",
  ]);
});

rayTest("wait() returns numReturns ready refs and the rest, each in input order", async () => {
  // Submit the fast tasks first so they run first on any number of workers.
  const fastA = sleepMs.remote(0, "a");
  const fastB = sleepMs.remote(0, "b");
  const slowA = sleepMs.remote(1500, "c");
  const slowB = sleepMs.remote(1500, "d");
  const refs = [slowA, fastA, slowB, fastB];
  const [ready, notReady] = await ray.wait(refs, { numReturns: 2, timeoutMs: 1200 });
  assert.deepEqual(hexes(ready), hexes([fastA, fastB]));
  assert.deepEqual(hexes(notReady), hexes([slowA, slowB]));
}, { numWorkers: 4 });

rayTest("wait() with numReturns of all returns every ref once all are ready", async () => {
  const refs = [sleepMs.remote(80), ray.put("x"), sleepMs.remote(10)];
  const [ready, notReady] = await ray.wait(refs, { numReturns: 3 });
  assert.deepEqual(hexes(ready), hexes(refs));
  assert.deepEqual(notReady, []);
});

rayTest("wait() defaults numReturns to 1", async () => {
  const slow = sleepMs.remote(1500);
  const done = ray.put("done");
  const [ready, notReady] = await ray.wait([slow, done]);
  assert.deepEqual(hexes(ready), hexes([done]));
  assert.deepEqual(hexes(notReady), hexes([slow]));
});

rayTest("wait() returns fewer than numReturns ready refs when timeoutMs passes", async () => {
  const slowA = sleepMs.remote(2000);
  const done = ray.put("done");
  const slowB = sleepMs.remote(2000);
  const start = performance.now();
  const [ready, notReady] = await ray.wait([slowA, done, slowB], {
    numReturns: 3,
    timeoutMs: 200,
  });
  const elapsed = performance.now() - start;
  assert.ok(elapsed >= 150 && elapsed < 1500, `wait() returned after ${elapsed.toFixed(0)} ms`);
  assert.deepEqual(hexes(ready), hexes([done]));
  assert.deepEqual(hexes(notReady), hexes([slowA, slowB]));
}, { numWorkers: 3 });

rayTest("wait() caps numReturns at the number of refs", async () => {
  const refs = [ray.put(1), ray.put(2)];
  const [ready, notReady] = await ray.wait(refs, { numReturns: 5, timeoutMs: 2000 });
  assert.deepEqual(hexes(ready), hexes(refs));
  assert.equal(notReady.length, 0);
});

rayTest("ObjectRef is not a thenable", async () => {
  const ref = ray.put(5);
  assert.equal("then" in ref, false);
  assert.equal((ref as unknown as { then?: unknown }).then, undefined);
  assert.equal(await Promise.resolve(ref), ref);
  const awaited: unknown = await (ref as unknown as Promise<unknown>);
  assert.equal(awaited, ref);
});

rayTest("ObjectRef hex() is a hex id and toString() is ObjectRef(<hex>)", () => {
  const ref = ray.put("x");
  assert.match(ref.hex(), /^[0-9a-f]+$/);
  assert.equal(ref.toString(), `ObjectRef(${ref.hex()})`);
  assert.equal(String(ref), `ObjectRef(${ref.hex()})`);
  assert.equal(`${ref}`, `ObjectRef(${ref.hex()})`);
});

rayTest("ObjectRef ids differ between puts and between task returns", () => {
  const ids = new Set([
    ray.put(1).hex(),
    ray.put(1).hex(),
    sleepMs.remote(0).hex(),
    sleepMs.remote(0).hex(),
  ]);
  assert.equal(ids.size, 4);
});

rayTest("get() with timeoutMs 0 returns an object that is already ready", async () => {
  const ref = ray.put("ready");
  assert.equal(await ray.get(ref), "ready");
  assert.equal(await ray.get(ref, { timeoutMs: 0 }), "ready");
});

rayTest("wait() with timeoutMs 0 returns at once with what is ready", async () => {
  const done = ray.put(1);
  const slow = sleepMs.remote(1500);
  const [ready, notReady] = await ray.wait([slow, done], { numReturns: 2, timeoutMs: 0 });
  assert.deepEqual(hexes(ready), hexes([done]));
  assert.deepEqual(hexes(notReady), hexes([slow]));
});

rayTest("get() of one ref by many concurrent callers gives each the value", async () => {
  const ref = sleepMs.remote(100, { shared: true });
  const values = await Promise.all(Array.from({ length: 50 }, () => ray.get(ref)));
  for (const v of values) assert.deepEqual(v, { shared: true });
});
