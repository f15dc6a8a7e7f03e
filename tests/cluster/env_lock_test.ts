/**
 * withEnv (tests/_cluster/env_lock.ts): test files that set the same
 * setting through the environment take turns, so one's restore cannot undo
 * what another set while it runs.
 */
import assert from "node:assert/strict";
import { withEnv } from "../_cluster/env_lock.ts";

const NAME = "RAYD_ENV_LOCK_TEST";

Deno.test("withEnv: a second setter waits until the first one's run ended and restored", async () => {
  const seen: string[] = [];
  const first = withEnv({ [NAME]: "a" }, async () => {
    for (let i = 0; i < 5; i++) {
      seen.push(Deno.env.get(NAME) ?? "unset");
      await new Promise((r) => setTimeout(r, 40));
    }
  });
  await new Promise((r) => setTimeout(r, 20)); // the first holds the lock by now
  const second = withEnv({ [NAME]: "b" }, () => {
    seen.push(Deno.env.get(NAME) ?? "unset");
    return Promise.resolve();
  });
  await Promise.all([first, second]);
  assert.deepEqual(seen, ["a", "a", "a", "a", "a", "b"]);
  assert.equal(Deno.env.get(NAME), undefined, "restored: unset as before");
});

Deno.test("withEnv restores an earlier value and releases the lock when fn throws", async () => {
  Deno.env.set(NAME, "before");
  try {
    await assert.rejects(
      withEnv({ [NAME]: "during" }, () => Promise.reject(new Error("boom"))),
      /boom/,
    );
    assert.equal(Deno.env.get(NAME), "before");
    assert.equal(
      await withEnv({ [NAME]: "next" }, () => Promise.resolve(Deno.env.get(NAME))),
      "next",
    );
  } finally {
    Deno.env.delete(NAME);
  }
});
