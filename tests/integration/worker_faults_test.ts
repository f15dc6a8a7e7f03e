/**
 * Worker and task faults end to end: every way a worker can vanish
 * (self.close, Deno.exit, process.exit, an uncaught error, an unhandled
 * rejection) is noticed, retried and reported; a thrown value that cannot be
 * serialized is a RayTaskError, not a dead worker. Each test checks that the
 * other tasks' results come back exact.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { rayTest } from "./_with_ray.ts";
import {
  alwaysVanish,
  echo,
  FaultyActor,
  rejectsBad,
  throwsBad,
  vanishOnce,
} from "../fixtures/fault_fns.ts";

function uniqueKey(): string {
  return `RAYD_TEST_${crypto.randomUUID().replaceAll("-", "_")}`;
}

function runs(key: string): number {
  return Number(Deno.env.get(key) ?? "0");
}

const WAYS: readonly [string, RegExp][] = [
  ["Deno.exit", /exited with code 3 \(Deno\.exit\(\) or process\.exit\(\)\)/],
  ["process.exit", /exited with code 3 \(Deno\.exit\(\) or process\.exit\(\)\)/],
  ["close", /closed itself \(self\.close\(\)\)/],
  ["uncaught", /uncaught.*uncaught in worker/],
  ["rejection", /uncaught.*unhandled in worker/],
];

for (const [how, cause] of WAYS) {
  rayTest(`a worker ended by ${how} is noticed: retried, then WorkerCrashedError`, async () => {
    // Once: the task is retried on a new worker and nothing around it is lost.
    const key = uniqueKey();
    const refs = [];
    for (let i = 0; i < 20; i++) {
      refs.push(i === 7 ? vanishOnce.remote(key, how, 3, i) : echo.remote(i));
    }
    assert.deepEqual(
      await ray.get(refs, { timeoutMs: 20_000 }),
      Array.from({ length: 20 }, (_, i) => i),
    );
    assert.equal(runs(key), 2);
    // Always: it fails after maxRetries naming how the worker went.
    const always = uniqueKey();
    const err = await ray.get(alwaysVanish.options({ maxRetries: 1 }).remote(always, how), {
      timeoutMs: 20_000,
    }).catch((e) => e);
    assert.ok(err instanceof ray.WorkerCrashedError, String(err));
    assert.match(err.message, /alwaysVanish/);
    assert.match(err.message, cause);
    assert.equal(runs(always), 2);
    // The CPU came back and the node still works.
    assert.equal((await ray.availableResources()).CPU, 1);
    assert.deepEqual(await ray.get([echo.remote("a"), echo.remote("b")]), ["a", "b"]);
    assert.equal((await ray.nodes())[0].numWorkers, 1);
  }, { numWorkers: 1, numCpus: 1 });
}

rayTest("Deno.exit in an actor method restarts the actor within maxRestarts", async () => {
  const a = FaultyActor.options({ maxRestarts: 1 }).remote(10);
  assert.equal(await ray.get(a.incr.remote()), 11);
  const err = await ray.get(a.vanish.remote("Deno.exit", 4), { timeoutMs: 20_000 })
    .catch((e) => e);
  assert.ok(err instanceof ray.RayActorError, String(err));
  assert.match(err.message, /exited with code 4/);
  assert.equal(await ray.get(a.incr.remote(), { timeoutMs: 20_000 }), 11);
  await ray.get(a.vanish.remote("process.exit", 5), { timeoutMs: 20_000 }).catch(() => {});
  await assert.rejects(ray.get(a.incr.remote(), { timeoutMs: 20_000 }), (e: unknown) => {
    assert.ok(e instanceof ray.RayActorError);
    assert.match(e.message, /is dead: its worker a\d+ died: it exited with code 5/);
    return true;
  });
  assert.deepEqual(await ray.get([echo.remote(1), echo.remote(2)]), [1, 2]);
}, { numWorkers: 1 });
