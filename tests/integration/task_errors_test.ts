import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import {
  add,
  BOOM,
  getFailing,
  getWithTimeout,
  identity,
  plusOne,
  rejectsAsync,
  returnsFunction,
  throwsString,
  throwsTypeError,
} from "../fixtures/remote_fns.ts";
import { rayTest } from "./_with_ray.ts";

/** Awaits `promise`, expecting a RayTaskError, and returns it. */
async function rayTaskErrorOf(promise: Promise<unknown>): Promise<ray.RayTaskError> {
  try {
    const value = await promise;
    assert.fail(`expected a RayTaskError, got ${String(value)}`);
  } catch (err) {
    assert.ok(err instanceof ray.RayTaskError, `got ${String(err)}`);
    return err;
  }
}

rayTest(
  "get() of a throwing task rejects with RayTaskError carrying the original error",
  async () => {
    const err = await rayTaskErrorOf(ray.get(throwsTypeError.remote()));
    assert.ok(err instanceof ray.RayError);
    assert.equal(err.taskName, "throwsTypeError");
    const cause = err.cause;
    assert.ok(cause instanceof Error, `cause is ${String(cause)}`);
    assert.equal(cause.name, "TypeError");
    assert.equal(cause.message, BOOM);
    assert.ok(cause.stack?.includes("throwsTypeError"), `cause stack: ${cause.stack}`);
    assert.ok(cause.stack?.includes("remote_fns.ts"), `cause stack: ${cause.stack}`);
  },
);

rayTest("RayTaskError message names the task and includes the remote stack", async () => {
  const err = await rayTaskErrorOf(ray.get(throwsTypeError.remote()));
  const cause = err.cause as Error;
  assert.ok(err.message.includes("throwsTypeError"), err.message);
  assert.ok(err.message.includes(BOOM), err.message);
  assert.ok(cause.stack && err.message.includes(cause.stack), err.message);
});

rayTest("get() of a rejecting async task rejects with RayTaskError keeping the name", async () => {
  const err = await rayTaskErrorOf(ray.get(rejectsAsync.remote()));
  assert.equal(err.taskName, "rejectsAsync");
  assert.equal((err.cause as Error).name, "FixtureError");
  assert.equal((err.cause as Error).message, BOOM);
});

rayTest("get() of a list rejects with RayTaskError when one task throws", async () => {
  const refs = [add.remote(1, 2), throwsTypeError.remote(), add.remote(3, 4)];
  await rayTaskErrorOf(ray.get(refs));
  assert.equal(await ray.get(refs[0]), 3);
});

rayTest("an error three dependent tasks deep still rejects get() with RayTaskError", async () => {
  const failed = throwsTypeError.remote();
  const deep = plusOne.remote(plusOne.remote(plusOne.remote(failed)));
  const err = await rayTaskErrorOf(ray.get(deep));
  assert.ok(err.message.includes(BOOM), err.message);
});

rayTest("get() of a failed task rejects again on every later get()", async () => {
  const ref = throwsTypeError.remote();
  await rayTaskErrorOf(ray.get(ref));
  await rayTaskErrorOf(ray.get(ref));
});

rayTest("workers keep running tasks after a task threw", async () => {
  await rayTaskErrorOf(ray.get(throwsTypeError.remote()));
  assert.deepEqual(await ray.get([add.remote(1, 1), identity.remote("ok")]), [2, "ok"]);
});

rayTest("an Error returned as a value is not thrown by get()", async () => {
  const value = new RangeError("returned, not thrown");
  const got = await ray.get(identity.remote(value));
  assert.ok(got instanceof RangeError);
  assert.equal(got.message, "returned, not thrown");
});

rayTest("get() of a task that throws a non-Error value rejects with RayTaskError", async () => {
  const err = await rayTaskErrorOf(ray.get(throwsString.remote()));
  assert.equal(err.taskName, "throwsString");
  assert.ok(err.message.includes("plain string thrown"), err.message);
});

rayTest("get() of a task whose return value cannot be stored rejects naming the path", async () => {
  const outcome = await Promise.race([
    ray.get(returnsFunction.remote()).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    ),
    new Promise<{ hung: true }>((resolve) => setTimeout(() => resolve({ hung: true }), 5000)),
  ]);
  assert.ok("error" in outcome, `get() did not reject: ${JSON.stringify(outcome)}`);
  const err = outcome.error;
  assert.ok(err instanceof ray.RayError, `got ${String(err)}`);
  assert.ok(String(err.message).includes("cb"), err.message);
});

rayTest("a GetTimeoutError thrown in a task comes back as the RayTaskError's cause", async () => {
  const err = await rayTaskErrorOf(ray.get(getWithTimeout.remote()));
  assert.ok(err.cause instanceof ray.GetTimeoutError, `cause is ${String(err.cause)}`);
});

rayTest("a task that gets a failed nested task rejects with RayTaskError", async () => {
  const err = await rayTaskErrorOf(ray.get(getFailing.remote()));
  assert.equal(err.taskName, "getFailing");
  assert.ok(err.message.includes(BOOM), err.message);
});
