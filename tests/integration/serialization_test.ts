import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { identity, makeNestedArray } from "../fixtures/remote_fns.ts";
import { assertSameView, type ValueCase, valueCases } from "../fixtures/values.ts";
import { rayTest } from "./_with_ray.ts";

function assertRoundTrip(c: ValueCase, actual: unknown, expected: unknown): void {
  if (c.check) c.check(actual, expected);
  else assert.deepStrictEqual(actual, expected);
}

rayTest("put() then get() returns an exact copy of every value kind", async (t) => {
  for (const c of valueCases) {
    await t.step(c.name, async () => {
      const value = c.make();
      assertRoundTrip(c, await ray.get(ray.put(value)), value);
    });
  }
});

rayTest("task arguments and return values are exact copies of every value kind", async (t) => {
  for (const c of valueCases) {
    await t.step(c.name, async () => {
      const value = c.make();
      assertRoundTrip(c, await ray.get(identity.remote(value)), value);
    });
  }
});

rayTest("task arguments passed by ref are exact copies of every value kind", async (t) => {
  for (const c of valueCases) {
    await t.step(c.name, async () => {
      const value = c.make();
      assertRoundTrip(c, await ray.get(identity.remote(ray.put(value))), value);
    });
  }
});

rayTest("put() then get() keeps lone surrogates in strings", async () => {
  const value = ["\uD800", "a\uDFFFb", "\uDBFF\uD800"];
  assert.deepStrictEqual(await ray.get(ray.put(value)), value);
  assert.deepStrictEqual(await ray.get(identity.remote(value)), value);
});

rayTest("put() then get() keeps nested ObjectRefs as refs to the same objects", async () => {
  const inner = ray.put({ deep: [1, 2, 3] });
  const outer = ray.put({ inner, list: [inner], map: new Map([["k", inner]]) });
  const got = await ray.get(outer);
  assert.ok(got.inner instanceof ray.ObjectRef);
  assert.equal(got.inner.hex(), inner.hex());
  assert.equal(got.list[0].hex(), inner.hex());
  assert.equal(got.map.get("k")?.hex(), inner.hex());
  assert.deepStrictEqual(await ray.get(got.inner), { deep: [1, 2, 3] });
});

rayTest("task return values keep nested ObjectRefs as refs", async () => {
  const inner = ray.put("payload");
  const got = await ray.get(identity.remote({ inner }));
  assert.ok(got instanceof Object);
  const back = (got as { inner: ray.ObjectRef<string> }).inner;
  assert.ok(back instanceof ray.ObjectRef);
  assert.equal(back.hex(), inner.hex());
  assert.equal(await ray.get(back), "payload");
});

const KIB = 1024;

rayTest(
  "get() returns typed arrays of 100 KiB or more as views of a SharedArrayBuffer",
  async () => {
    const cases: ArrayBufferView[] = [
      new Uint8Array(100 * KIB).map((_, i) => i % 251),
      Float64Array.from({ length: 20_000 }, (_, i) => i * 0.5),
      BigInt64Array.from({ length: 16_384 }, (_, i) => BigInt(i) - 8000n),
      Float32Array.from({ length: 50_000 }, (_, i) => Math.sin(i)),
    ];
    for (const value of cases) {
      const fromPut = await ray.get(ray.put(value));
      assertSameView(fromPut, value);
      assert.ok(
        (fromPut as ArrayBufferView).buffer instanceof SharedArrayBuffer,
        `${value.constructor.name} from put() is not backed by a SharedArrayBuffer`,
      );
      const fromTask = await ray.get(identity.remote(value));
      assertSameView(fromTask, value);
      assert.ok(
        (fromTask as ArrayBufferView).buffer instanceof SharedArrayBuffer,
        `${value.constructor.name} returned by a task is not backed by a SharedArrayBuffer`,
      );
    }
  },
);

rayTest("put() then get() keeps the bytes of an ArrayBuffer of 100 KiB or more", async () => {
  const value = new Uint8Array(200 * KIB).map((_, i) => i % 7).buffer;
  const got: unknown = await ray.get(ray.put(value));
  assert.ok(got instanceof ArrayBuffer || got instanceof SharedArrayBuffer);
  assert.equal(got.byteLength, value.byteLength);
  assertSameView(new Uint8Array(got), new Uint8Array(value));
});

rayTest("put() of a large typed array stores a copy that later writes do not change", async () => {
  const value = new Float64Array(20_000).fill(1);
  const ref = ray.put(value);
  value.fill(2);
  const got = await ray.get(ref);
  assert.ok(got.every((x) => x === 1));
});

rayTest(
  "get() returns a large typed array nested in a task's result as a shared view",
  async () => {
    const got = await ray.get(makeNestedArray.remote(20_000));
    assert.equal(got.label, "big");
    assert.ok(got.data instanceof Float64Array);
    assert.equal(got.data.length, 20_000);
    assert.equal(got.data[19_999], 19_999);
    assert.ok(got.data.buffer instanceof SharedArrayBuffer);
  },
);

rayTest("put() of objects totalling more than 64 MiB keeps every one readable", async () => {
  const MIB = 1024 * KIB;
  const refs = Array.from({ length: 40 }, (_, i) => ray.put(new Uint8Array(2 * MIB).fill(i)));
  for (let i = 0; i < refs.length; i++) {
    const got = await ray.get(refs[i]);
    assert.equal(got.byteLength, 2 * MIB);
    assert.ok(got[0] === i && got[2 * MIB - 1] === i, `object ${i} has wrong bytes`);
  }
});
