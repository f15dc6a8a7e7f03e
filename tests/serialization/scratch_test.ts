import assert from "node:assert/strict";
import { ScratchFrames } from "../../runtime/serialization/mod.ts";

Deno.test("scratch frames are 8-aligned slices of one buffer, reused after reset", () => {
  const s = new ScratchFrames(64);
  const a = s.alloc(5).fill(1);
  const b = s.alloc(9).fill(2);
  assert.equal(a.buffer, b.buffer);
  assert.equal(a.byteOffset % 8, 0);
  assert.equal(b.byteOffset % 8, 0);
  assert.ok(b.byteOffset >= a.byteOffset + 5);
  s.reset();
  const c = s.alloc(5);
  assert.equal(c.byteOffset, a.byteOffset, "after reset the buffer is reused");
});

Deno.test("a frame bigger than what is left starts a new buffer; earlier frames keep theirs", () => {
  const s = new ScratchFrames(32);
  const a = s.alloc(24).fill(7);
  const b = s.alloc(100).fill(9);
  assert.notEqual(a.buffer, b.buffer);
  assert.ok(a.every((x) => x === 7));
  assert.equal(b.length, 100);
});

Deno.test("reset inside using() is held off, so frames being made stay intact", () => {
  const s = new ScratchFrames(256);
  const made: Uint8Array[] = [];
  s.using(() => {
    made.push(s.alloc(8).fill(3));
    s.reset(); // e.g. a flush while the store makes room
    made.push(s.alloc(8).fill(4));
  });
  assert.ok(made[0].every((x) => x === 3), "the first frame was not overwritten");
  assert.notEqual(made[0].byteOffset, made[1].byteOffset);
  s.reset();
  assert.equal(s.alloc(8).byteOffset, made[0].byteOffset);
});
