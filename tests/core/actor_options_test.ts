import assert from "node:assert/strict";
import { mergeActorOptions } from "../../runtime/core/mod.ts";

Deno.test("mergeActorOptions() fills the defaults of docs/API.md", () => {
  assert.deepEqual(mergeActorOptions(undefined), {
    detached: false,
    getIfExists: false,
    maxRestarts: 0,
    maxTaskRetries: 0,
    maxConcurrency: 1,
    numCpus: 0,
    resources: {},
  });
});

Deno.test("mergeActorOptions() merges over a base and reads lifetime and -1 budgets", () => {
  const base = mergeActorOptions(undefined, { name: "a", maxRestarts: 2 });
  const merged = mergeActorOptions(base, { lifetime: "detached", maxTaskRetries: -1 });
  assert.equal(merged.name, "a");
  assert.equal(merged.maxRestarts, 2);
  assert.equal(merged.detached, true);
  assert.equal(merged.maxTaskRetries, -1);
  assert.equal(base.detached, false);
});

Deno.test("mergeActorOptions() rejects bad values with TypeError or RangeError", () => {
  assert.throws(() => mergeActorOptions(undefined, { maxConcurrency: 0 }), RangeError);
  assert.throws(() => mergeActorOptions(undefined, { maxRestarts: -2 }), RangeError);
  assert.throws(() => mergeActorOptions(undefined, { numCpus: -1 }), RangeError);
  assert.throws(() => mergeActorOptions(undefined, { name: "" }), TypeError);
  assert.throws(() => mergeActorOptions(undefined, { lifetime: "x" as "detached" }), TypeError);
  assert.throws(() => mergeActorOptions(undefined, { getIfExists: true }), /needs a name/);
  assert.throws(() => mergeActorOptions(undefined, { nope: 1 } as never), /unknown actor option/);
});

Deno.test("mergeActorOptions() reads schedulingStrategy as tasks do and names a bad one", () => {
  assert.equal(
    mergeActorOptions(undefined, { schedulingStrategy: "SPREAD" }).schedulingStrategy,
    "SPREAD",
  );
  assert.deepEqual(
    mergeActorOptions(undefined, { schedulingStrategy: { nodeId: "n1", soft: true } })
      .schedulingStrategy,
    { nodeId: "n1", soft: true },
  );
  assert.throws(
    () => mergeActorOptions(undefined, { schedulingStrategy: { node: "n1" } as never }),
    { name: "TypeError", message: /^Invalid option schedulingStrategy: expected "DEFAULT"/ },
  );
});
