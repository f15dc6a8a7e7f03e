import assert from "node:assert/strict";
import { mergeOptions, type RemoteOptions } from "../../runtime/core/options.ts";
import { makeRemoteFunction } from "../../runtime/core/mod.ts";

const defaults = {
  numReturns: 1,
  numCpus: 1,
  resources: {},
  maxRetries: 3,
  retryExceptions: false,
  schedulingStrategy: "DEFAULT",
};

/** Asserts mergeOptions() throws `cls` with exactly `message` for `partial`. */
function assertRejects(
  partial: unknown,
  cls: typeof TypeError | typeof RangeError,
  message: string | RegExp,
): void {
  assert.throws(() => mergeOptions(undefined, partial as RemoteOptions), (err: unknown) => {
    assert.equal((err as Error)?.constructor, cls, `got ${String(err)}`);
    if (typeof message === "string") assert.equal((err as Error).message, message);
    else assert.match((err as Error).message, message);
    return true;
  });
}

Deno.test("mergeOptions() gives the documented defaults with no options", () => {
  assert.deepStrictEqual(mergeOptions(undefined), defaults);
  assert.deepStrictEqual(mergeOptions(undefined, {}), defaults);
  assert.equal("name" in mergeOptions(undefined), false);
});

Deno.test("mergeOptions() returns a new object each time", () => {
  const a = mergeOptions(undefined);
  const b = mergeOptions(undefined);
  assert.notEqual(a, b);
  (a as { numCpus: number }).numCpus = 99;
  assert.equal(mergeOptions(undefined).numCpus, 1);
});

Deno.test("mergeOptions() accepts every valid option", () => {
  const merged = mergeOptions(undefined, {
    numReturns: 3,
    numCpus: 0.5,
    resources: { GPU: 1, custom: 0 },
    maxRetries: 0,
    retryExceptions: true,
    name: "train",
    schedulingStrategy: { nodeId: "abc", soft: true },
  });
  assert.deepStrictEqual(merged, {
    numReturns: 3,
    numCpus: 0.5,
    resources: { GPU: 1, custom: 0 },
    maxRetries: 0,
    retryExceptions: true,
    name: "train",
    schedulingStrategy: { nodeId: "abc", soft: true },
  });
  assert.equal(mergeOptions(undefined, { numCpus: 0 }).numCpus, 0);
  assert.equal(mergeOptions(undefined, { maxRetries: -1 }).maxRetries, -1);
  assert.equal(
    mergeOptions(undefined, { schedulingStrategy: "SPREAD" }).schedulingStrategy,
    "SPREAD",
  );
  assert.deepStrictEqual(
    mergeOptions(undefined, { schedulingStrategy: { nodeId: "n1" } }).schedulingStrategy,
    { nodeId: "n1", soft: false },
  );
});

Deno.test("mergeOptions() ignores options given as undefined", () => {
  assert.deepStrictEqual(
    mergeOptions(undefined, { numReturns: undefined, numCpus: undefined, name: undefined }),
    defaults,
  );
});

Deno.test("mergeOptions() copies resources rather than keeping the caller's object", () => {
  const resources = { GPU: 1 };
  const merged = mergeOptions(undefined, { resources });
  resources.GPU = 5;
  assert.deepStrictEqual(merged.resources, { GPU: 1 });
});

Deno.test("mergeOptions() rejects a bad numReturns with RangeError", () => {
  for (const bad of [0, -1, 1.5, NaN, Infinity, "2", null]) {
    assertRejects(
      { numReturns: bad },
      RangeError,
      `Invalid option numReturns: expected an integer >= 1, got ${String(bad)}`,
    );
  }
});

Deno.test("mergeOptions() rejects a bad numCpus with RangeError", () => {
  for (const bad of [-1, -0.5, NaN, "1", null]) {
    assertRejects(
      { numCpus: bad },
      RangeError,
      `Invalid option numCpus: expected a number >= 0, got ${String(bad)}`,
    );
  }
});

Deno.test("mergeOptions() rejects a bad maxRetries with RangeError", () => {
  for (const bad of [-2, 1.5, NaN, "3", Infinity]) {
    assertRejects(
      { maxRetries: bad },
      RangeError,
      `Invalid option maxRetries: expected an integer >= 0, got ${String(bad)}`,
    );
  }
});

Deno.test("mergeOptions() rejects resources that are not an object with TypeError", () => {
  for (const bad of [null, 5, "GPU"]) {
    assertRejects(
      { resources: bad },
      TypeError,
      "Invalid option resources: expected an object of name -> amount",
    );
  }
});

Deno.test("mergeOptions() rejects a bad resource amount with RangeError naming it", () => {
  assertRejects(
    { resources: { GPU: -1 } },
    RangeError,
    "Invalid option resources.GPU: expected a number >= 0, got -1",
  );
  assertRejects(
    { resources: { ok: 1, TPU: "2" } },
    RangeError,
    "Invalid option resources.TPU: expected a number >= 0, got 2",
  );
  assertRejects(
    { resources: { x: NaN } },
    RangeError,
    "Invalid option resources.x: expected a number >= 0, got NaN",
  );
});

Deno.test("mergeOptions() rejects a bad schedulingStrategy with TypeError", () => {
  for (const bad of ["spread", "NODE", 1, null, {}, { nodeId: 5 }]) {
    assertRejects(
      { schedulingStrategy: bad },
      TypeError,
      /^Invalid option schedulingStrategy: expected "DEFAULT", "SPREAD" or \{ nodeId \}, got /,
    );
  }
});

Deno.test("mergeOptions() rejects an unknown key with TypeError naming it", () => {
  assertRejects({ numGpus: 1 }, TypeError, 'Invalid options: unknown option "numGpus"');
  assertRejects({ num_cpus: 1 }, TypeError, 'Invalid options: unknown option "num_cpus"');
});

Deno.test("mergeOptions() rejects options that are not an object with TypeError", () => {
  for (const bad of [null, 5, "x"]) {
    assertRejects(bad, TypeError, `Invalid options: expected an object, got ${String(bad)}`);
  }
});

Deno.test("mergeOptions() layers options over a base, keeping what is not overridden", () => {
  const base = mergeOptions(undefined, {
    numCpus: 2,
    name: "base",
    resources: { GPU: 1 },
    maxRetries: 5,
  });
  const frozen = structuredClone(base);
  const layered = mergeOptions(base, { maxRetries: 0, name: "layer" });
  assert.deepStrictEqual(layered, {
    ...defaults,
    numCpus: 2,
    name: "layer",
    resources: { GPU: 1 },
    maxRetries: 0,
  });
  assert.deepStrictEqual(base, frozen, "the base is not changed");
  const again = mergeOptions(layered, { resources: { TPU: 2 } });
  assert.deepStrictEqual(again.resources, { TPU: 2 }, "resources are replaced, not merged");
  assert.equal(again.name, "layer");
  assert.equal(again.numCpus, 2);
});

Deno.test("mergeOptions() does not change the base when a layer is invalid", () => {
  const base = mergeOptions(undefined, { numCpus: 2 });
  assert.throws(() => mergeOptions(base, { numCpus: 3, numReturns: 0 }), RangeError);
  assert.equal(base.numCpus, 2);
});

Deno.test("RemoteFunction.options() layers over the remote function's options", () => {
  const desc = { moduleUrl: "file:///m.ts", key: "f#0", name: "f" };
  const f = makeRemoteFunction(desc, { numCpus: 2 });
  assert.equal(f.name, "f");
  const named = f.options({ name: "renamed" });
  assert.equal(named.name, "renamed");
  assert.equal(f.name, "f", "the original keeps its options");
  assert.equal(named.options({ maxRetries: 1 }).name, "renamed");
  assert.throws(() => f.options({ numReturns: 0 }), RangeError);
  assert.throws(() => makeRemoteFunction(desc, { bogus: 1 } as RemoteOptions), TypeError);
});
