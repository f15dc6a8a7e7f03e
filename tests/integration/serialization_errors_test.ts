import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { add, identity, nested } from "../fixtures/remote_fns.ts";
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

function nestedArrays(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = [value];
  return value;
}

function depthOf(value: unknown): number {
  let depth = 0;
  while (Array.isArray(value)) [value, depth] = [value[0], depth + 1];
  return depth;
}

rayTest(
  "a value nested 10,000 deep is a SerializationError naming the limit, not a stack overflow",
  async (t) => {
    const deepObject = () => {
      let v: unknown = 1;
      for (let i = 0; i < 10_000; i++) v = { a: v };
      return v;
    };
    for (const make of [() => nestedArrays(10_000), deepObject]) {
      for (
        const err of [
          assertThrowsSerializationError(() => ray.put(make())),
          assertThrowsSerializationError(() => identity.remote(make())),
        ]
      ) {
        assert.match(err.message, /nested more than 1000 levels deep are not supported/);
        assert.ok(err.message.length < 300, "the path is shortened");
      }
    }
    await t.step("1,000 levels are still fine", async () => {
      assert.equal(depthOf(await ray.get(identity.remote(ray.put(nestedArrays(999))))), 999);
    });
    await t.step("a task returning one is a RayTaskError saying why", async () => {
      await assert.rejects(ray.get(nested.remote(10_000)), (e: unknown) => {
        assert.ok(e instanceof ray.RayTaskError, String(e));
        assert.match(String((e as Error).message), /nested more than 1000 levels deep/);
        return true;
      });
    });
  },
);

rayTest(
  "unusual but valid values round-trip: sparse arrays, long keys, proxies, big Maps",
  async () => {
    const sparse: number[] = [];
    sparse[100_000] = 7;
    const longKey = { ["k".repeat(100_000)]: 1 };
    const proxy = new Proxy({ a: 1, b: [2] }, {});
    const big = new Map(Array.from({ length: 50_000 }, (_, i) => [i, `v${i}`]));
    const [s, k, p, m] = await ray.get(
      [sparse, longKey, proxy, big].map((v) => identity.remote(v)),
    );
    assert.equal((s as number[]).length, 100_001);
    assert.equal((s as number[])[100_000], 7);
    assert.deepEqual(k, longKey);
    assert.deepEqual(p, { a: 1, b: [2] });
    assert.equal((m as Map<number, string>).size, 50_000);
    assert.equal((m as Map<number, string>).get(49_999), "v49999");
  },
);
