import assert from "node:assert/strict";
import { RayError } from "../../runtime/common/mod.ts";
import { fnKeyOf } from "../../runtime/protocol/mod.ts";
import {
  callerModuleUrl,
  lookupFunction,
  registerFunction,
  resolveFunction,
} from "../../runtime/core/mod.ts";

/** A module URL no other test uses, so name counts start at zero. */
function freshModuleUrl(): string {
  return `file:///registry_test/${crypto.randomUUID()}.ts`;
}

Deno.test("registerFunction() keys functions by name and declaration order", () => {
  const url = freshModuleUrl();
  function add(a: number, b: number) {
    return a + b;
  }
  const add2 = function add() {};
  const first = registerFunction(add, url);
  const second = registerFunction(add2, url);
  const other = registerFunction(function mul() {}, url);
  assert.deepStrictEqual(first, { moduleUrl: url, key: "add#0", name: "add" });
  assert.deepStrictEqual(second, { moduleUrl: url, key: "add#1", name: "add" });
  assert.equal(other.key, "mul#0");
  assert.equal(lookupFunction(first), add);
  assert.equal(lookupFunction(second), add2);
});

Deno.test("registerFunction() counts names per module", () => {
  const f = function same() {};
  assert.equal(registerFunction(f, freshModuleUrl()).key, "same#0");
  assert.equal(registerFunction(f, freshModuleUrl()).key, "same#0");
});

Deno.test("registerFunction() names an anonymous function 'anonymous'", () => {
  const desc = registerFunction((() => () => 1)(), freshModuleUrl());
  assert.equal(desc.name, "anonymous");
  assert.equal(desc.key, "anonymous#0");
});

Deno.test("registerFunction() without a module URL ships the function's source", async () => {
  const square = (x: number) => x * x;
  const desc = registerFunction(square, undefined);
  assert.deepStrictEqual(desc, {
    moduleUrl: "",
    key: "square",
    name: "square",
    source: square.toString(),
  });
  const rebuilt = await resolveFunction(desc) as (x: number) => number;
  assert.notEqual(rebuilt, square);
  assert.equal(rebuilt(7), 49);
  assert.equal(await resolveFunction(desc), rebuilt, "the rebuilt function is cached");
  assert.equal(lookupFunction(desc), rebuilt);
});

Deno.test("resolveFunction() returns a registered function without importing", async () => {
  const url = freshModuleUrl();
  const fn = function registered() {};
  const desc = registerFunction(fn, url);
  assert.equal(await resolveFunction(desc), fn);
});

Deno.test("resolveFunction() rejects with RayError when the module cannot be imported", async () => {
  const desc = { moduleUrl: freshModuleUrl(), key: "gone#0", name: "gone" };
  await assert.rejects(resolveFunction(desc), (err: unknown) => {
    assert.ok(err instanceof RayError, `got ${String(err)}`);
    assert.ok(err.message.startsWith("Cannot run remote function: gone#0"), err.message);
    assert.ok(err.message.includes(desc.moduleUrl), err.message);
    assert.ok(err.cause instanceof Error, "the import error is the cause");
    return true;
  });
});

Deno.test("resolveFunction() rejects with RayError when the module does not register the key", async () => {
  const moduleUrl = "data:text/javascript,export const nothing = 1;";
  const desc = { moduleUrl, key: "missing#0", name: "missing" };
  await assert.rejects(resolveFunction(desc), (err: unknown) => {
    assert.ok(err instanceof RayError, `got ${String(err)}`);
    assert.match(err.message, /missing#0 is not registered by data:/);
    return true;
  });
});

Deno.test("lookupFunction() returns undefined for an unknown function", () => {
  assert.equal(lookupFunction({ moduleUrl: freshModuleUrl(), key: "x#0", name: "x" }), undefined);
  assert.equal(
    lookupFunction({ moduleUrl: "", key: "y", name: "y", source: "() => 2" }),
    undefined,
  );
});

Deno.test("callerModuleUrl() names the calling module outside rayd's runtime", () => {
  assert.equal(callerModuleUrl(), import.meta.url);
});

Deno.test("fnKeyOf: one key per module and function key, the same string each time", () => {
  const a = { moduleUrl: "file:///a.ts", key: "f#0", name: "f" };
  const b = { moduleUrl: "file:///b.ts", key: "f#0", name: "f" };
  assert.equal(fnKeyOf(a), "file:///a.ts#f#0");
  assert.equal(fnKeyOf(b), "file:///b.ts#f#0", "the same key in another module");
  assert.equal(fnKeyOf({ ...a }), "file:///a.ts#f#0", "a copy of a descriptor (as by message)");
  assert.equal(
    fnKeyOf({ moduleUrl: "", key: "g#0", name: "g", source: "() => 1" }),
    "source:() => 1",
  );
});
