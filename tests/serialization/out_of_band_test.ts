import assert from "node:assert/strict";
import { config } from "../../runtime/common/mod.ts";
import { decodeFrame, encodeFrame, heapAllocator } from "../../runtime/serialization/mod.ts";

const outOfBandMin = config("outOfBandMinBytes");

Deno.test("decodeFrame() gives a big Float32Array back as a view of the frame's buffer", () => {
  const weights = Float32Array.from({ length: 1_000_000 }, (_, i) => i * 0.5);
  const frame = encodeFrame({ weights, meta: { name: "w", n: 1 } }, "value", heapAllocator);
  assert.equal(frame.byteOffset % 8, 0);
  assert.ok(frame.byteLength >= weights.byteLength, "the array is inside the frame");
  const back = decodeFrame(frame) as { weights: Float32Array; meta: unknown };
  assert.ok(back.weights instanceof Float32Array);
  assert.equal(back.weights.buffer, frame.buffer);
  assert.equal(back.weights.length, 1_000_000);
  assert.equal(back.weights[999_999], 999_999 * 0.5);
  assert.deepStrictEqual(back.meta, { name: "w", n: 1 });
  frame.fill(0);
  assert.equal(back.weights[999_999], 0, "the decoded array shares the frame's memory");
});

Deno.test("decodeFrame() gives every big typed array class back as a view of the frame", () => {
  const classes = [
    Int8Array,
    Uint8Array,
    Uint8ClampedArray,
    Int16Array,
    Uint16Array,
    Int32Array,
    Uint32Array,
    Float32Array,
    Float64Array,
    BigInt64Array,
    BigUint64Array,
  ];
  for (const cls of classes) {
    const big = new cls(outOfBandMin);
    const frame = encodeFrame({ x: [big] }, "value", heapAllocator);
    const back = (decodeFrame(frame) as { x: ArrayBufferView[] }).x[0];
    assert.equal(back.constructor, cls);
    assert.equal(back.buffer, frame.buffer, `${cls.name} was copied`);
  }
});

Deno.test("decodeFrame() copies typed arrays below the out-of-band threshold", () => {
  const small = new Uint8Array(outOfBandMin - 1).fill(3);
  const frame = encodeFrame({ small }, "value", heapAllocator);
  const back = decodeFrame(frame) as { small: Uint8Array };
  assert.notEqual(back.small.buffer, frame.buffer);
  assert.deepStrictEqual(back.small, small);
  frame.fill(0);
  assert.equal(back.small[0], 3);
  const tiny = decodeFrame(encodeFrame(new Float64Array([1, 2]), "value", heapAllocator));
  assert.deepStrictEqual(tiny, new Float64Array([1, 2]));
});

Deno.test("decodeFrame() puts a typed array at the threshold out of band", () => {
  const atMin = new Uint8Array(outOfBandMin).fill(5);
  const frame = encodeFrame(atMin, "value", heapAllocator);
  assert.equal((decodeFrame(frame) as Uint8Array).buffer, frame.buffer);
});

Deno.test("decodeFrame() copies out-of-band arrays that a misaligned frame would misalign", () => {
  const values = Float64Array.from({ length: 2000 }, (_, i) => i / 3);
  const frame = encodeFrame({ values }, "value", heapAllocator);
  const shifted = new Uint8Array(frame.byteLength + 4).subarray(4);
  shifted.set(frame);
  const back = decodeFrame(shifted) as { values: Float64Array };
  assert.notEqual(back.values.buffer, shifted.buffer);
  assert.deepStrictEqual(back.values, values);
});

Deno.test("decodeFrame() decodes a frame that sits at an 8-aligned offset of a larger buffer", () => {
  const values = Float64Array.from({ length: 2000 }, (_, i) => i);
  const inner = encodeFrame({ values }, "value", heapAllocator);
  const big = new Uint8Array(inner.byteLength + 64);
  const frame = big.subarray(64, 64 + inner.byteLength);
  frame.set(inner);
  const back = decodeFrame(frame) as { values: Float64Array };
  assert.equal(back.values.buffer, big.buffer);
  assert.equal(back.values.byteOffset % 8, 0);
  assert.deepStrictEqual(back.values, values);
});

Deno.test("decodeFrame() keeps several out-of-band arrays apart", () => {
  const a = new Float64Array(1000).fill(1);
  const b = new Int32Array(3000).fill(-2);
  const c = new Uint8Array(5001).fill(3);
  const back = decodeFrame(encodeFrame([a, { b }, new Map([["c", c]])], "value", heapAllocator));
  const [a2, { b: b2 }, m] = back as [Float64Array, { b: Int32Array }, Map<string, Uint8Array>];
  assert.deepStrictEqual(a2, a);
  assert.deepStrictEqual(b2, b);
  assert.deepStrictEqual(m.get("c"), c);
});

Deno.test("encodeFrame() copies big arrays into the frame, so later writes to the source do not leak", () => {
  const src = new Float32Array(10_000).fill(1);
  const frame = encodeFrame(src, "value", heapAllocator);
  src.fill(2);
  assert.equal((decodeFrame(frame) as Float32Array)[0], 1);
});
