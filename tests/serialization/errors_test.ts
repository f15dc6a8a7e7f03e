import assert from "node:assert/strict";
import { RayError, SerializationError } from "../../runtime/common/mod.ts";
import { decodeFrame, encodeFrame, heapAllocator } from "../../runtime/serialization/mod.ts";

/** Asserts encoding `value` as `root` throws SerializationError naming `path`; returns the message. */
function assertNotSerializable(value: unknown, root: string, path: string): string {
  let thrown: unknown;
  try {
    encodeFrame(value, root, heapAllocator);
  } catch (err) {
    thrown = err;
  }
  assert.ok(thrown instanceof SerializationError, `expected SerializationError, got ${thrown}`);
  assert.ok(thrown instanceof RayError);
  assert.ok(thrown.message.startsWith("Cannot serialize value: "), thrown.message);
  assert.ok(thrown.message.endsWith(`(at ${path})`), `"${thrown.message}" does not name ${path}`);
  return thrown.message;
}

class Point {
  constructor(readonly x: number, readonly y: number) {}
}

Deno.test("encodeFrame() rejects a function with its exact path", () => {
  const message = assertNotSerializable([{ cb: function onDone() {} }], "args", "args[0].cb");
  assert.ok(message.includes("functions are not serializable"), message);
  assert.ok(message.includes("onDone"), message);
  assertNotSerializable(() => 1, "value", "value");
  assertNotSerializable({ "odd key": () => 1 }, "value", 'value["odd key"]');
});

Deno.test("encodeFrame() rejects a symbol with its exact path", () => {
  const message = assertNotSerializable([1, { list: [Symbol("s")] }], "args", "args[1].list[0]");
  assert.ok(message.includes("symbols are not serializable"), message);
});

Deno.test("encodeFrame() rejects a class instance naming the class", () => {
  const message = assertNotSerializable({ p: new Point(1, 2) }, "value", "value.p");
  assert.ok(message.includes("class instances are not serializable"), message);
  assert.ok(message.includes("Point"), message);
  assert.ok(assertNotSerializable(new URL("http://x/"), "value", "value").includes("URL"));
  assertNotSerializable({ p: Promise.resolve(1) }, "value", "value.p");
  assertNotSerializable([new WeakMap()], "value", "value[0]");
});

Deno.test("encodeFrame() rejects a cycle at the point where it closes", () => {
  const root: Record<string, unknown> = { a: { b: {} } };
  (root.a as { b: Record<string, unknown> }).b.back = root;
  const message = assertNotSerializable(root, "value", "value.a.b.back");
  assert.ok(message.includes("cycles are not supported"), message);
  const arr: unknown[] = [1];
  arr.push(arr);
  assertNotSerializable(arr, "value", "value[1]");
  const err = new Error("self");
  (err as { cause?: unknown }).cause = err;
  assertNotSerializable(err, "value", "value.cause");
});

Deno.test("encodeFrame() rejects what is nested in a Map or a Set with its path", () => {
  assertNotSerializable(new Map([["k", { cb: () => 1 }]]), "value", "value<Map value 0>.cb");
  assertNotSerializable(
    new Map<unknown, number>([[1, 1], [() => 1, 2]]),
    "value",
    "value<Map key 1>",
  );
  assertNotSerializable({ s: new Set([1, Symbol("x")]) }, "value", "value.s<Set item 1>");
  const map = new Map<string, unknown>();
  map.set("self", map);
  assertNotSerializable(map, "value", "value<Map value 0>");
});

Deno.test("encodeFrame() rejects what is in an Error's own properties with its path", () => {
  const err = Object.assign(new Error("e"), { handler: () => 1 });
  assertNotSerializable({ err }, "value", "value.err.handler");
});

Deno.test("encodeFrame() leaves its input unchanged", () => {
  const make = () => ({
    map: new Map<unknown, unknown>([[{ k: 1 }, -0], ["n", { z: -0 }]]),
    set: new Set<unknown>([{ z: -0 }]),
    list: [-0, 1, { z: -0 }],
    err: Object.assign(new Error("e", { cause: -0 }), { code: "X" }),
    z: -0,
    sab: new SharedArrayBuffer(8),
    big: new Float64Array(1000).fill(-0),
  });
  const value = make();
  const { map, set, list, err, big } = value;
  encodeFrame(value, "value", heapAllocator);
  assert.deepStrictEqual(value, make());
  assert.equal(value.map, map);
  assert.ok(value.map instanceof Map);
  assert.equal(value.set, set);
  assert.ok(value.set instanceof Set);
  assert.equal(value.list, list);
  assert.ok(Object.is(value.list[0], -0));
  assert.ok(Object.is(value.z, -0));
  assert.ok(Object.is([...value.map.values()][0], -0));
  assert.equal(value.err, err);
  assert.ok(Object.is(value.err.cause, -0));
  assert.ok(value.sab instanceof SharedArrayBuffer);
  assert.equal(value.big, big);
});

Deno.test("encodeFrame() leaves its input unchanged when it throws part-way", () => {
  const value = { ok: new Map([[1, -0]]), bad: [() => 1] };
  assert.throws(() => encodeFrame(value, "value", heapAllocator), SerializationError);
  assert.ok(value.ok instanceof Map);
  assert.ok(Object.is(value.ok.get(1), -0));
  assert.deepStrictEqual(
    decodeFrame(encodeFrame({ after: new Float32Array(5000) }, "value", heapAllocator)),
    { after: new Float32Array(5000) },
  );
});

Deno.test("decodeFrame() rejects a frame shorter than its fixed header with TypeError", () => {
  for (const n of [0, 1, 15]) {
    assert.throws(
      () => decodeFrame(new Uint8Array(n)),
      (err: unknown) => {
        assert.ok(err instanceof TypeError, `got ${err}`);
        assert.equal(err.message, `Cannot decode frame: ${n} bytes is shorter than a header`);
        return true;
      },
    );
  }
});

Deno.test("decodeFrame() rejects a frame with a bad magic number", () => {
  const frame = encodeFrame({ a: 1 }, "value", heapAllocator);
  frame[0] ^= 0xff;
  assert.throws(() => decodeFrame(frame), {
    name: "TypeError",
    message: "Cannot decode frame: bad magic number (not a rayd frame)",
  });
});

Deno.test("decodeFrame() rejects random bytes with TypeError", () => {
  for (let i = 0; i < 200; i++) {
    const bytes = crypto.getRandomValues(new Uint8Array(1 + (i * 37) % 512));
    assert.throws(() => decodeFrame(bytes), TypeError);
  }
});

Deno.test("decodeFrame() rejects a truncated frame with TypeError", () => {
  const frame = encodeFrame(
    { a: "hello".repeat(20), w: new Float64Array(2000) },
    "value",
    heapAllocator,
  );
  for (const n of [16, 17, 40, 100, frame.byteLength - 8, frame.byteLength - 1000]) {
    assert.throws(() => decodeFrame(frame.subarray(0, n)), (err: unknown) => {
      assert.ok(err instanceof TypeError, `at ${n} bytes got ${err}`);
      assert.match(err.message, /^Cannot decode frame: /);
      return true;
    });
  }
});

/** A frame with a valid fixed header, no out-of-band buffers and `header` as its msgpack part. */
function frameWithHeader(header: number[]): Uint8Array {
  const frame = new Uint8Array(16 + header.length);
  const dv = new DataView(frame.buffer);
  dv.setUint32(0, 0x31594152, true);
  dv.setUint32(8, header.length, true);
  frame.set(header, 16);
  return frame;
}

Deno.test("decodeFrame() rejects a well-framed but garbled msgpack header with TypeError", async (t) => {
  const headers: [string, number[]][] = [
    ["a reserved msgpack byte", [0xc1]],
    ["an array cut short", [0x92, 0x01]],
    ["trailing bytes after the value", [0x01, 0x02]],
    ["a string longer than the header", [0xd9, 0xff, 0x61]],
    ["a reference to an out-of-band buffer that is not there", [0xd7, 4, 9, 1, 0, 0, 0, 0, 0, 0]],
    ["an unknown binary kind", [0xd7, 4, 99, 0, 0, 0, 0, 0, 0, 0]],
  ];
  for (const [what, header] of headers) {
    await t.step(`for ${what}`, () => {
      let thrown: unknown;
      let value: unknown;
      try {
        value = decodeFrame(frameWithHeader(header));
      } catch (err) {
        thrown = err;
      }
      assert.ok(thrown !== undefined, `decoded without error to ${Deno.inspect(value)}`);
      assert.ok(thrown instanceof TypeError, `got ${(thrown as Error)?.name}: ${thrown}`);
      assert.match(thrown.message, /^Cannot decode /);
    });
  }
});

Deno.test("decodeFrame() rejects an out-of-band buffer with a negative or non-integer offset", () => {
  for (const offset of [-64, NaN, 1.5]) {
    const frame = encodeFrame({ w: new Float64Array(1000) }, "value", heapAllocator);
    new DataView(frame.buffer).setFloat64(16, offset, true);
    assert.throws(() => decodeFrame(frame), TypeError, `offset ${offset} was accepted`);
  }
});
