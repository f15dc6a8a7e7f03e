import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { add, identity } from "../fixtures/remote_fns.ts";
import { rayTest } from "./_with_ray.ts";

class WithPrivateState {
  #secret = 42;
  reveal(): number {
    return this.#secret;
  }
}

function cyclic(): Record<string, unknown> {
  const node: Record<string, unknown> = { name: "loop" };
  node.self = node;
  return { root: node };
}

/** Values that cannot be stored, with the path to the bad part inside them. */
const unstorable: { name: string; make: () => unknown; path: string }[] = [
  { name: "a function", make: () => ({ cb: () => 1 }), path: ".cb" },
  { name: "a symbol", make: () => ({ list: [1, Symbol("s")] }), path: ".list[1]" },
  {
    name: "a class instance with private state",
    make: () => ({ inner: { obj: new WithPrivateState() } }),
    path: ".inner.obj",
  },
];

/** Asserts `fn` throws SerializationError synchronously and returns it. */
function assertThrowsSerializationError(fn: () => unknown): ray.SerializationError {
  let thrown: unknown;
  try {
    const result = fn();
    assert.fail(`expected a synchronous SerializationError, got ${String(result)}`);
  } catch (err) {
    thrown = err;
  }
  assert.ok(thrown instanceof ray.SerializationError, `got ${String(thrown)}`);
  assert.ok(thrown instanceof ray.RayError);
  return thrown;
}

rayTest("put() throws SerializationError synchronously naming the path", async (t) => {
  for (const c of unstorable) {
    await t.step(`for ${c.name}`, () => {
      const err = assertThrowsSerializationError(() => ray.put(c.make()));
      assert.ok(err.message.includes(c.path), `"${err.message}" does not name ${c.path}`);
    });
  }
});

rayTest("remote() throws SerializationError synchronously naming the argument", async (t) => {
  for (const c of unstorable) {
    await t.step(`for ${c.name}`, () => {
      const err = assertThrowsSerializationError(() => identity.remote(c.make()));
      const path = `args[0]${c.path}`;
      assert.ok(err.message.includes(path), `"${err.message}" does not name ${path}`);
    });
  }
});

rayTest("put() and remote() throw SerializationError for a bare function or symbol", () => {
  assertThrowsSerializationError(() => ray.put(() => 1));
  assertThrowsSerializationError(() => ray.put(Symbol("bare")));
  assertThrowsSerializationError(() => identity.remote(Symbol("bare")));
  const err = assertThrowsSerializationError(() =>
    add.remote(1, function named() {} as unknown as number)
  );
  assert.ok(err.message.includes("args[1]"), err.message);
});

rayTest("put() and remote() reject a cycle with SerializationError or keep it intact", async () => {
  let stored: ray.ObjectRef<unknown> | undefined;
  try {
    stored = ray.put(cyclic());
  } catch (err) {
    assert.ok(err instanceof ray.SerializationError, `got ${String(err)}`);
    assert.ok(err.message.includes(".root.self"), err.message);
    const remoteErr = assertThrowsSerializationError(() => identity.remote(cyclic()));
    assert.ok(remoteErr.message.includes("args[0].root.self"), remoteErr.message);
  }
  if (stored) {
    const got = (await ray.get(stored)) as { root: Record<string, unknown> };
    assert.equal(got.root.self, got.root);
  }
});

rayTest("remote() after a SerializationError still runs tasks", async () => {
  assertThrowsSerializationError(() => identity.remote({ cb: () => 1 }));
  assert.equal(await ray.get(identity.remote("fine")), "fine");
});
