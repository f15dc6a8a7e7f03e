import assert from "node:assert/strict";
import {
  decodeFrame,
  encodeFrame,
  heapAllocator,
  registerClass,
} from "../../runtime/serialization/mod.ts";

/** A class only this test registers. */
class Vec2 {
  constructor(readonly x: number, readonly y: number) {}
  length(): number {
    return Math.hypot(this.x, this.y);
  }
}

let encoded = 0;
registerClass<Vec2>({
  Class: Vec2,
  encode: (v) => {
    encoded++;
    return [v.x, v.y];
  },
  decode: ([x, y]: [number, number]) => new Vec2(x, y),
});

function roundTrip<T>(value: T): T {
  return decodeFrame(encodeFrame(value, "value", heapAllocator)) as T;
}

Deno.test("registerClass() lets instances of the class round-trip as that class", () => {
  const back = roundTrip(new Vec2(3, 4));
  assert.ok(back instanceof Vec2);
  assert.equal(back.x, 3);
  assert.equal(back.y, 4);
  assert.equal(back.length(), 5);
});

Deno.test("registerClass() codecs apply inside containers", () => {
  const encodedBefore = encoded;
  const value = {
    list: [new Vec2(1, 2)],
    map: new Map([["v", new Vec2(-0, 5)]]),
    set: new Set([new Vec2(7, 8)]),
  };
  const back = roundTrip(value);
  assert.equal(encoded - encodedBefore, 3);
  assert.ok(back.list[0] instanceof Vec2);
  assert.deepStrictEqual(back.list[0], value.list[0]);
  const fromMap = back.map.get("v")!;
  assert.ok(fromMap instanceof Vec2);
  assert.equal(fromMap.y, 5);
  assert.ok([...back.set][0] instanceof Vec2);
});

Deno.test("registerClass() does not admit subclasses of the registered class", () => {
  class Vec3 extends Vec2 {}
  assert.throws(() => encodeFrame(new Vec3(1, 2), "value", heapAllocator), /Vec3/);
});
