import assert from "node:assert/strict";
import { SerializationError } from "../../runtime/common/mod.ts";
import {
  decodeFrame,
  encodeFrame,
  FRAME_ERROR,
  frameFlags,
  heapAllocator,
} from "../../runtime/serialization/mod.ts";

function roundTrip<T>(value: T): T {
  return decodeFrame(encodeFrame(value, "value", heapAllocator)) as T;
}

/** Asserts `actual` has the class and bytes of `expected`. */
function assertSameView(actual: unknown, expected: ArrayBufferView): void {
  assert.ok(ArrayBuffer.isView(actual), `expected a view, got ${String(actual)}`);
  assert.equal(actual.constructor, expected.constructor);
  assert.equal(actual.byteLength, expected.byteLength);
  assert.deepStrictEqual(
    new Uint8Array(actual.buffer, actual.byteOffset, actual.byteLength),
    new Uint8Array(expected.buffer, expected.byteOffset, expected.byteLength),
  );
}

const F16 = (globalThis as Record<string, unknown>).Float16Array as
  | (new (values: number[]) => ArrayBufferView)
  | undefined;

Deno.test("encodeFrame() and decodeFrame() round-trip null, undefined and booleans", () => {
  for (const v of [null, undefined, true, false]) assert.equal(roundTrip(v), v);
  assert.deepStrictEqual(roundTrip([null, undefined, true, false]), [null, undefined, true, false]);
  assert.deepStrictEqual(roundTrip({ u: undefined }), { u: undefined });
});

Deno.test("encodeFrame() and decodeFrame() round-trip numbers of every shape", () => {
  const numbers = [
    0,
    1,
    -1,
    255,
    65536,
    -(2 ** 31),
    2 ** 32,
    2 ** 40,
    -(2 ** 40),
    Number.MAX_SAFE_INTEGER,
    Number.MIN_SAFE_INTEGER,
    0.1,
    Math.PI,
    Number.MIN_VALUE,
    Number.MAX_VALUE,
    Infinity,
    -Infinity,
  ];
  for (const n of numbers) assert.equal(roundTrip(n), n, `${n}`);
  assert.deepStrictEqual(roundTrip(numbers), numbers);
});

Deno.test("encodeFrame() and decodeFrame() keep NaN and -0", () => {
  assert.ok(Number.isNaN(roundTrip(NaN)));
  assert.ok(Object.is(roundTrip(-0), -0));
  assert.ok(Object.is(roundTrip(0), 0));
  const back = roundTrip({ list: [0, -0, NaN], nested: { z: -0 } });
  assert.ok(Object.is(back.list[0], 0));
  assert.ok(Object.is(back.list[1], -0));
  assert.ok(Number.isNaN(back.list[2]));
  assert.ok(Object.is(back.nested.z, -0));
});

Deno.test("encodeFrame() and decodeFrame() round-trip bigints of any size and sign", () => {
  const bigints = [
    0n,
    1n,
    -1n,
    42n,
    2n ** 63n - 1n,
    -(2n ** 63n),
    2n ** 64n - 1n,
    2n ** 64n,
    2n ** 64n + 1n,
    -(2n ** 64n) - 1n,
    2n ** 200n + 7n,
    -(3n ** 150n),
  ];
  for (const b of bigints) {
    const back = roundTrip(b);
    assert.equal(typeof back, "bigint", `${b} came back as ${typeof back}`);
    assert.equal(back, b);
  }
});

Deno.test("encodeFrame() and decodeFrame() round-trip strings", () => {
  for (const s of ["", "a", "hello, world", "héllo ✓ 日本語 🚀 👩‍👩‍👧", "x".repeat(200_000), "\0\n"]) {
    assert.equal(roundTrip(s), s);
  }
});

Deno.test("encodeFrame() and decodeFrame() round-trip strings with lone surrogates", () => {
  const strings = ["\uD800", "a\uDC00b", "\uDBFF\uDBFF", "🚀\uD83D", "x\uD800".repeat(5000)];
  for (const s of strings) assert.equal(roundTrip(s), s);
  assert.deepStrictEqual(roundTrip({ [`k`]: ["\uDFFF", "ok"] }), { k: ["\uDFFF", "ok"] });
});

Deno.test("encodeFrame() and decodeFrame() keep lone surrogates in object keys and Error messages", () => {
  const key = "a\uD800";
  assert.deepStrictEqual(Object.keys(roundTrip({ [key]: 1 })), [key]);
  const err = new Error("bad \uDC00 input");
  assert.equal(roundTrip(err).message, err.message);
});

Deno.test("encodeFrame() and decodeFrame() round-trip nested plain objects and arrays", () => {
  const value = {
    a: 1,
    b: "two",
    c: [3, [4, [5, { d: null }]]],
    e: { f: { g: { h: [true, false] } } },
    "": 0,
    "a b": 1,
    "0": 2,
  };
  assert.deepStrictEqual(roundTrip(value), value);
  assert.deepStrictEqual(roundTrip({}), {});
  assert.deepStrictEqual(roundTrip([]), []);
});

Deno.test("encodeFrame() and decodeFrame() give holes of a sparse array back as undefined", () => {
  // deno-lint-ignore no-sparse-arrays
  const sparse = [1, , 3, , ,];
  const back = roundTrip(sparse);
  assert.equal(back.length, 5);
  assert.deepStrictEqual([...back], [1, undefined, 3, undefined, undefined]);
});

Deno.test("encodeFrame() and decodeFrame() round-trip a null-prototype object as a plain one", () => {
  const obj = Object.create(null);
  obj.a = 1;
  assert.deepEqual({ ...roundTrip(obj) }, { a: 1 });
});

Deno.test("encodeFrame() and decodeFrame() round-trip an own __proto__ key or reject it", () => {
  const value = JSON.parse('{"__proto__": {"x": 1}, "a": 2}');
  let back: Record<string, unknown>;
  try {
    back = roundTrip(value);
  } catch (err) {
    assert.ok(err instanceof SerializationError, `got ${err}`);
    return;
  }
  assert.equal(Object.getPrototypeOf(back), Object.prototype);
  assert.deepStrictEqual(Object.keys(back).sort(), ["__proto__", "a"]);
  assert.deepStrictEqual(Object.getOwnPropertyDescriptor(back, "__proto__")?.value, { x: 1 });
});

Deno.test("encodeFrame() and decodeFrame() round-trip a Map with object keys and -0 values", () => {
  const objKey = { k: 1 };
  const map = new Map<unknown, unknown>([
    [1, "number"],
    [1n, "bigint"],
    [null, "null"],
    [objKey, -0],
    [[1, 2], { nested: -0 }],
    ["m", new Map([[2, "inner"]])],
  ]);
  const back = roundTrip(map);
  assert.ok(back instanceof Map);
  assert.deepStrictEqual(back, map);
  const entries = [...back];
  assert.deepStrictEqual(entries[3][0], objKey);
  assert.notEqual(entries[3][0], objKey);
  assert.ok(Object.is(entries[3][1], -0));
  assert.ok(Object.is((entries[4][1] as { nested: number }).nested, -0));
  assert.ok(entries[5][1] instanceof Map);
});

Deno.test("encodeFrame() and decodeFrame() round-trip Sets, including nested ones", () => {
  const set = new Set<unknown>([1, "a", 2n, { x: 1 }, [2], null, new Set([3])]);
  const back = roundTrip(set);
  assert.ok(back instanceof Set);
  assert.deepStrictEqual(back, set);
  assert.deepStrictEqual(roundTrip(new Set()), new Set());
  const withNegZero = roundTrip(new Set([{ z: -0 }]));
  assert.ok(Object.is([...withNegZero][0].z, -0));
});

Deno.test("encodeFrame() and decodeFrame() round-trip Dates, including invalid ones", () => {
  for (const ms of [0, Date.UTC(2024, 1, 29, 12, 34, 56, 789), -123_456_789_012, 8.64e15]) {
    const back = roundTrip(new Date(ms));
    assert.ok(back instanceof Date);
    assert.equal(back.getTime(), ms);
  }
  assert.ok(Number.isNaN(roundTrip(new Date(NaN)).getTime()));
});

Deno.test("encodeFrame() and decodeFrame() round-trip a RegExp's source and flags", () => {
  for (const re of [/a+(b|c)*\d\//gimsuy, /x(?<n>y)/d, /^$/, new RegExp("[/]", "u")]) {
    const back = roundTrip(re);
    assert.ok(back instanceof RegExp);
    assert.equal(back.source, re.source);
    assert.equal(back.flags, re.flags);
  }
});

Deno.test("encodeFrame() and decodeFrame() round-trip an Error's class, message, stack and cause", () => {
  const inner = new RangeError("inner failure");
  const err = new Error("outer failure", { cause: inner });
  const back = roundTrip(err);
  assert.equal(Object.getPrototypeOf(back), Error.prototype);
  assert.equal(back.message, "outer failure");
  assert.equal(back.stack, err.stack);
  assert.ok(Object.hasOwn(back, "cause"));
  assert.ok(back.cause instanceof RangeError);
  assert.equal((back.cause as Error).message, "inner failure");
  assert.equal((back.cause as Error).stack, inner.stack);
});

Deno.test("encodeFrame() and decodeFrame() keep a TypeError's class and a custom code property", () => {
  const err = Object.assign(new TypeError("bad type", { cause: "why" }), { code: "E_BAD", n: 3 });
  const back = roundTrip(err);
  assert.ok(back instanceof TypeError);
  assert.equal(back.name, "TypeError");
  assert.equal(back.message, "bad type");
  assert.equal(back.stack, err.stack);
  assert.equal(back.cause, "why");
  assert.equal(back.code, "E_BAD");
  assert.equal(back.n, 3);
});

Deno.test("encodeFrame() and decodeFrame() keep no cause on an Error that had none", () => {
  const back = roundTrip(new Error("plain"));
  assert.equal(Object.hasOwn(back, "cause"), false);
});

Deno.test("encodeFrame() and decodeFrame() keep a custom Error name", () => {
  const err = new Error("custom");
  err.name = "ValidationError";
  const back = roundTrip(err);
  assert.ok(back instanceof Error);
  assert.equal(back.name, "ValidationError");
  assert.equal(back.stack, err.stack);
});

Deno.test("encodeFrame() and decodeFrame() round-trip an ArrayBuffer as a copy", () => {
  const buf = new Uint8Array([1, 2, 3, 250]).buffer;
  const back = roundTrip(buf);
  assert.ok(back instanceof ArrayBuffer);
  assert.deepStrictEqual(new Uint8Array(back), new Uint8Array([1, 2, 3, 250]));
  assert.equal(roundTrip(new ArrayBuffer(0)).byteLength, 0);
  const big = new Uint8Array(100_000).fill(9).buffer;
  const bigBack = roundTrip(big);
  assert.ok(bigBack instanceof ArrayBuffer);
  assert.deepStrictEqual(new Uint8Array(bigBack), new Uint8Array(big));
});

Deno.test("encodeFrame() and decodeFrame() round-trip every typed array class", () => {
  const arrays: ArrayBufferView[] = [
    new Int8Array([-128, 0, 127]),
    new Uint8Array([0, 1, 255]),
    new Uint8ClampedArray([0, 128, 255]),
    new Int16Array([-32768, 32767]),
    new Uint16Array([0, 65535]),
    new Int32Array([-(2 ** 31), 2 ** 31 - 1]),
    new Uint32Array([0, 2 ** 32 - 1]),
    new Float32Array([1.5, -0, NaN, Infinity]),
    new Float64Array([Math.PI, -0, NaN, -Infinity]),
    new BigInt64Array([-(2n ** 63n), 0n, 2n ** 63n - 1n]),
    new BigUint64Array([0n, 2n ** 64n - 1n]),
    new Uint16Array(new Uint16Array([1, 2, 3, 4, 5, 6]).buffer, 4, 3),
    new Float64Array(0),
    ...(F16 ? [new F16([0.5, -2, 65504])] : []),
  ];
  for (const a of arrays) assertSameView(roundTrip(a), a);
  for (const a of arrays) {
    const big = new (a.constructor as new (n: number) => ArrayBufferView)(5000);
    new Uint8Array(big.buffer).forEach((_, i, bytes) => bytes[i] = i * 7);
    assertSameView(roundTrip(big), big);
  }
});

Deno.test("encodeFrame() and decodeFrame() round-trip a DataView with an offset", () => {
  const dv = new DataView(new Uint8Array([9, 8, 7, 6, 5]).buffer, 1, 3);
  const back = roundTrip(dv);
  assert.ok(back instanceof DataView);
  assertSameView(back, dv);
  const big = new DataView(new Uint8Array(20_000).map((_, i) => i).buffer, 8, 10_000);
  assertSameView(roundTrip(big), big);
});

Deno.test("encodeFrame() and decodeFrame() give a SharedArrayBuffer back as an ArrayBuffer", () => {
  const sab = new SharedArrayBuffer(16);
  new Uint8Array(sab).set([1, 2, 3], 5);
  const back = roundTrip<{ sab: unknown }>({ sab });
  assert.ok(back.sab instanceof ArrayBuffer, `got ${Object.prototype.toString.call(back.sab)}`);
  assert.deepStrictEqual(new Uint8Array(back.sab as ArrayBuffer), new Uint8Array(sab));
  const viewBack = roundTrip(new Uint8Array(sab, 4, 4));
  assert.deepStrictEqual([...viewBack], [0, 1, 2, 3]);
  assert.ok(viewBack.buffer instanceof ArrayBuffer);
});

Deno.test("encodeFrame() and decodeFrame() round-trip a deeply nested value", () => {
  let value: unknown = { leaf: [1n, new Date(0), new Map([[1, new Set(["x"])]]), -0] };
  for (let i = 0; i < 500; i++) value = i % 2 === 0 ? { child: value, i } : [i, value];
  assert.deepStrictEqual(roundTrip(value), value);
});

Deno.test("encodeFrame() and decodeFrame() round-trip a value with shared (acyclic) references", () => {
  const shared = { s: 1 };
  const back = roundTrip({ a: shared, b: [shared, shared] });
  assert.deepStrictEqual(back, { a: { s: 1 }, b: [{ s: 1 }, { s: 1 }] });
});

Deno.test("frameFlags() returns the flags the frame was written with", () => {
  assert.equal(frameFlags(encodeFrame(1, "value", heapAllocator)), 0);
  const frame = encodeFrame(new Error("e"), "value", heapAllocator, FRAME_ERROR);
  assert.equal(frameFlags(frame), FRAME_ERROR);
  assert.ok(decodeFrame(frame) instanceof Error);
});

Deno.test("encodeFrame() writes an 8-byte multiple through the given allocator", () => {
  const sizes: number[] = [];
  const frame = encodeFrame({ a: "x", w: new Float64Array(1000) }, "value", (size) => {
    sizes.push(size);
    return new Uint8Array(size);
  });
  assert.deepStrictEqual(sizes, [frame.byteLength]);
  assert.equal(frame.byteLength % 8, 0);
});
