/**
 * errorFrame never throws: an error that cannot be serialized whole is sent
 * as what can be kept of it, each part that cannot replaced by a
 * SerializationError naming it.
 */
import assert from "node:assert/strict";
import { RayTaskError, SerializationError } from "../../runtime/common/mod.ts";
import { errorFrame } from "../../runtime/core/mod.ts";
import { decodeFrame } from "../../runtime/serialization/mod.ts";

/** The error `errorFrame(value)` carries, decoded. */
function sent(value: unknown): unknown {
  return decodeFrame(errorFrame(value));
}

Deno.test("errorFrame() sends a serializable error unchanged", () => {
  const err = sent(new RayTaskError("f", new TypeError("plain"))) as RayTaskError;
  assert.ok(err instanceof RayTaskError);
  assert.ok(!err.message.includes("Not all of it"), err.message);
  assert.equal((err.cause as Error).message, "plain");
});

Deno.test("errorFrame() replaces a cycle, a symbol and a function and lists them", () => {
  const o: Record<string, unknown> = { keep: [1, "two", new Uint8Array([3])] };
  o.loop = o;
  o.sym = Symbol("s");
  o.fn = function named() {};
  o.map = new Map<unknown, unknown>([["k", o]]);
  const err = sent(new RayTaskError("f", o)) as RayTaskError;
  assert.ok(err instanceof RayTaskError);
  assert.equal(err.taskName, "f");
  const cause = err.cause as Record<string, unknown>;
  assert.deepEqual(cause.keep, [1, "two", new Uint8Array([3])]);
  for (const key of ["loop", "sym", "fn"]) {
    assert.ok(cause[key] instanceof SerializationError, key);
  }
  assert.ok((cause.map as Map<unknown, unknown>).get("k") instanceof SerializationError);
  assert.match((cause.loop as Error).message, /cycles are not supported \(at error\.cause\.loop\)/);
  assert.match((cause.fn as Error).message, /function named/);
  assert.match(err.message, /replaced by SerializationErrors: .*; and 1 more\)$/);
});

Deno.test("errorFrame() keeps an error's name, message, stack and good properties", () => {
  const inner = new RangeError("inner");
  const outer = new TypeError("outer", { cause: inner }) as TypeError & {
    code: string;
    me: unknown;
  };
  outer.code = "E1";
  outer.me = outer;
  const err = sent(outer) as TypeError & { code: string; me: unknown };
  assert.ok(err instanceof TypeError);
  assert.equal(err.message.split("\n")[0], "outer");
  assert.equal(err.stack, outer.stack);
  assert.equal(err.code, "E1");
  assert.ok(err.me instanceof SerializationError);
  assert.ok(err.cause instanceof RangeError);
  assert.equal((err.cause as Error).message, "inner");
});

Deno.test("errorFrame() cuts a cause chain too deep to send, and survives what cannot be read", () => {
  let deep: Error = new Error("bottom");
  for (let i = 0; i < 5_000; i++) deep = new Error(`level ${i}`, { cause: deep });
  let err = sent(deep) as Error;
  let levels = 0;
  while (!(err instanceof SerializationError)) {
    err = err.cause as Error;
    levels++;
  }
  assert.ok(levels >= 90 && levels <= 100, `${levels} levels kept`);
  assert.match(err.message, /nested more than 100 levels deep/);

  const hostile = new Proxy({}, {
    ownKeys() {
      throw new Error("no keys");
    },
  });
  const got = sent(new RayTaskError("g", hostile)) as RayTaskError;
  assert.ok(got instanceof RayTaskError);
  assert.ok(got.cause instanceof SerializationError);
  assert.match((got.cause as Error).message, /could not be read \(Error: no keys\)/);
});
