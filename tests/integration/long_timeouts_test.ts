/**
 * Deadlines of 2^31 ms and more, and `Infinity`: `setTimeout` fires those at
 * once, so every duration a user or a setting gives goes through the long
 * timers of runtime/common/timers.ts.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { settingEnvName } from "../../runtime/common/mod.ts";
import { FragileActor } from "../fixtures/actor_classes.ts";
import { sleepMs } from "../fixtures/remote_fns.ts";
import { waitsWithLongDeadline } from "../fixtures/deadline_fns.ts";
import { rayTest } from "./_with_ray.ts";

const LONG = [Infinity, 2 ** 31, 2 ** 31 - 1 + 10, 1e10];

rayTest("get() and wait() with timeoutMs Infinity or >= 2^31 wait for the object", async () => {
  for (const timeoutMs of LONG) {
    const got = await ray.get(sleepMs.remote(200, "late"), { timeoutMs });
    assert.equal(got, "late", `get with timeoutMs ${timeoutMs}`);
    const slow = sleepMs.remote(200, "late");
    const [ready, rest] = await ray.wait([slow], { timeoutMs });
    assert.equal(ready.length, 1, `wait with timeoutMs ${timeoutMs} returned nothing ready`);
    assert.equal(rest.length, 0);
  }
});

rayTest("get() and wait() inside a task with timeoutMs Infinity or >= 2^31 wait", async () => {
  const f = FragileActor.remote(7);
  for (const timeoutMs of LONG) {
    assert.deepEqual(
      await ray.get(waitsWithLongDeadline.remote(f, timeoutMs)),
      ["task", 1, 7, 1],
      `timeoutMs ${timeoutMs}`,
    );
  }
});

rayTest("get() of a list with timeoutMs 1e10 waits for the late one", async () => {
  const refs = [ray.put(1), sleepMs.remote(200, 2)];
  assert.deepEqual(await ray.get(refs, { timeoutMs: 1e10 }), [1, 2]);
});

Deno.test({
  name: "a workerStartTimeoutMs setting of 1e10 ms lets workers start",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const env = settingEnvName("workerStartTimeoutMs");
    Deno.env.set(env, "1e10");
    try {
      await ray.init({ numWorkers: 1 });
      try {
        assert.equal(await ray.get(sleepMs.remote(0, "ran")), "ran");
      } finally {
        await ray.shutdown();
      }
    } finally {
      Deno.env.delete(env);
    }
  },
});
