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

/** Awaits `promise`, expecting a RayTaskError, and returns it. */
async function taskErrorOf(promise: Promise<unknown>): Promise<ray.RayTaskError> {
  const err = await promise.then(
    (v) => assert.fail(`expected a RayTaskError, got ${String(v)}`),
    (e) => e,
  );
  assert.ok(err instanceof ray.RayTaskError, `got ${String(err)}`);
  return err;
}

/** What each kind of thrown value keeps, checked on the RayTaskError's cause. */
const KEPT: Record<string, (err: ray.RayTaskError) => void> = {
  cycle(err) {
    const cause = err.cause as Record<string, unknown>;
    assert.equal(cause.a, 1);
    assert.equal(cause.label, "cyclic");
    assert.ok(cause.self instanceof ray.SerializationError);
    assert.match(
      (cause.self as Error).message,
      /cycles are not supported \(at error\.cause\.self\)/,
    );
  },
  symbol(err) {
    assert.ok(err.cause instanceof ray.SerializationError);
    assert.match(err.cause.message, /symbols are not serializable \(Symbol\(thrown symbol\)\)/);
    assert.match(err.message, /Symbol\(thrown symbol\)/);
  },
  function(err) {
    assert.ok(err.cause instanceof ray.SerializationError);
    assert.match(err.cause.message, /functions are not serializable \(function thrownFunction\)/);
  },
  cyclicCause(err) {
    const cause = err.cause as Error & { cause: { why: string; err: unknown } };
    assert.equal(cause.name, "TypeError");
    assert.ok(cause instanceof TypeError);
    assert.equal(cause.message, "outer failure");
    assert.match(cause.stack ?? "", /badValue/);
    assert.equal(cause.cause.why, "inner");
    assert.ok(cause.cause.err instanceof ray.SerializationError);
    assert.match(err.message, /TypeError: outer failure/);
  },
  deepCause(err) {
    let cause = err.cause as Error;
    assert.equal(cause.message, "level 99999");
    let depth = 0;
    while (cause instanceof Error && !(cause instanceof ray.SerializationError)) {
      cause = cause.cause as Error;
      depth++;
    }
    assert.ok(depth >= 90, `kept ${depth} levels`);
    assert.match(cause.message, /nested more than \d+ levels deep/);
  },
  badProp(err) {
    const cause = err.cause as Error & { code: string; handler: unknown };
    assert.equal(cause.message, "with a bad prop");
    assert.equal(cause.code, "E_BAD");
    assert.ok(cause.handler instanceof ray.SerializationError);
  },
  nullProto(err) {
    assert.deepEqual({ ...(err.cause as object) }, { n: 1 });
    assert.match(err.message, /cannot be printed/);
  },
  throwingGetter(err) {
    const cause = err.cause as Error & { detail: unknown };
    assert.equal(cause.message, "getter below");
    assert.ok(cause.detail instanceof ray.SerializationError);
    assert.match((cause.detail as Error).message, /threw Error: no detail/);
  },
};

for (const [kind, check] of Object.entries(KEPT)) {
  rayTest(
    `a task throwing what cannot be serialized (${kind}) fails with RayTaskError, once`,
    async () => {
      const key = uniqueKey();
      const asyncKey = uniqueKey();
      const refs = [];
      for (let i = 0; i < 20; i++) refs.push(echo.remote(i));
      const bad = throwsBad.remote(key, kind);
      const badAsync = rejectsBad.remote(asyncKey, kind);
      for (let i = 20; i < 40; i++) refs.push(echo.remote(i));
      for (const ref of [bad, badAsync]) {
        const err = await taskErrorOf(ray.get(ref, { timeoutMs: 20_000 }));
        assert.match(err.taskName, /^(throwsBad|rejectsBad)$/);
        if (kind !== "nullProto") {
          assert.match(
            err.message,
            /Not all of it could be serialized; replaced by SerializationErrors/,
          );
        }
        check(err);
      }
      // Thrown once, no worker died: no retry, and nothing else lost.
      assert.equal(runs(key), 1);
      assert.equal(runs(asyncKey), 1);
      assert.deepEqual(await ray.get(refs), Array.from({ length: 40 }, (_, i) => i));
      assert.equal((await ray.nodes())[0].numWorkers, 1);
    },
    { numWorkers: 1 },
  );
}

rayTest(
  "an actor method throwing what cannot be serialized fails the call; the actor lives",
  async () => {
    const a = FaultyActor.remote(0);
    assert.equal(await ray.get(a.incr.remote()), 1);
    for (const kind of Object.keys(KEPT)) {
      const err = await taskErrorOf(ray.get(a.throwsBad.remote(kind), { timeoutMs: 20_000 }));
      assert.equal(err.taskName, "Faulty.throwsBad");
      KEPT[kind](err);
    }
    // An error bigger than the call link goes through the node (it hung the actor before).
    const big = await taskErrorOf(ray.get(a.throwsBad.remote("bigMessage"), { timeoutMs: 20_000 }));
    assert.equal((big.cause as Error).message.length, 200_000);
    assert.equal(await ray.get(a.incr.remote()), 2);
  },
  { numWorkers: 1 },
);
