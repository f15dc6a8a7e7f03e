import assert from "node:assert/strict";
import { WireReader, WireWriter } from "../../runtime/transport/mod.ts";

Deno.test("wire fields come back as written", () => {
  const w = new WireWriter().reset();
  const taskId = "0123456789abcdef00000a0b";
  const objectId = taskId + "ffff";
  w.u32(7);
  w.u16(65535);
  w.u8(255);
  w.f64(-1.5);
  w.str("héllo ✓");
  w.sym("noop");
  w.sym("noop");
  w.sym("other");
  w.id(taskId);
  w.id(objectId);
  w.id("not-hex-ID");
  w.ids([objectId, taskId]);
  w.frame(new Uint8Array([1, 2, 3]));
  w.frame(new Uint8Array(2000).fill(9));
  w.frame({ offset: 4096, size: 100 });
  w.frame(objectId);
  const r = new WireReader(w.bytes().slice());
  assert.equal(r.u32(), 7);
  assert.equal(r.u16(), 65535);
  assert.equal(r.u8(), 255);
  assert.equal(r.f64(), -1.5);
  assert.equal(r.str(), "héllo ✓");
  assert.equal(r.sym(), "noop");
  assert.equal(r.sym(), "noop");
  assert.equal(r.sym(), "other");
  assert.equal(r.id(), taskId);
  assert.equal(r.id(), objectId);
  assert.equal(r.id(), "not-hex-ID");
  assert.deepEqual(r.ids(), [objectId, taskId]);
  const small = r.frame() as Uint8Array;
  assert.deepEqual(small, new Uint8Array([1, 2, 3]));
  assert.equal(small.byteOffset % 8, 0);
  assert.deepEqual(r.frame(), new Uint8Array(2000).fill(9));
  assert.deepEqual(r.frame(), { offset: 4096, size: 100 });
  assert.equal(r.frame(), objectId);
  assert.ok(r.done);
});

Deno.test("small frames of a message share one buffer, each 8-aligned; they outlive the message", () => {
  const w = new WireWriter().reset();
  // Bytes no other test writes: tiny frames seen before are shared frames of their own.
  const bytes = (i: number) => new Uint8Array(i * 3 + 40).fill(i + 100);
  for (let i = 1; i <= 5; i++) w.frame(bytes(i));
  const msg = w.bytes().slice();
  const r = new WireReader(msg);
  const frames = Array.from({ length: 5 }, () => r.frame() as Uint8Array);
  msg.fill(0);
  frames.forEach((f, i) => {
    assert.deepEqual(f, bytes(i + 1));
    assert.equal(f.byteOffset % 8, 0);
    assert.equal(f.buffer, frames[0].buffer);
  });
});

Deno.test("a tiny frame that comes again is one shared frame; others are not shared", () => {
  const read = (frames: Uint8Array[]) => {
    const w = new WireWriter().reset();
    for (const f of frames) w.frame(f);
    const r = new WireReader(w.bytes().slice());
    return frames.map(() => r.frame() as Uint8Array);
  };
  const tiny = new Uint8Array(24).fill(7);
  const other = new Uint8Array(24).fill(8);
  const big = new Uint8Array(33).fill(7);
  const [first, bigFirst] = read([tiny, big]);
  const [second, otherFrame, third, bigSecond] = read([tiny, other, tiny, big]);
  const [fourth] = read([tiny]);
  for (const f of [first, second, third, fourth]) assert.deepEqual(f, tiny);
  assert.notEqual(first, second, "the first one stays in its message's buffer");
  assert.equal(second, third, "seen before: shared");
  assert.equal(third, fourth);
  assert.notEqual(second.buffer, otherFrame.buffer, "a shared frame has a buffer of its own");
  assert.deepEqual(otherFrame, other);
  assert.notEqual(bigFirst, bigSecond, "frames over 32 bytes are never shared");
  assert.deepEqual(bigSecond, big);
});

Deno.test("a writer is reused: reset starts a new message", () => {
  const w = new WireWriter();
  w.reset().sym("a");
  const first = w.bytes().slice();
  w.reset().sym("b");
  w.sym("a");
  const r1 = new WireReader(first);
  assert.equal(r1.sym(), "a");
  const r2 = new WireReader(w.bytes());
  assert.equal(r2.sym(), "b");
  assert.equal(r2.sym(), "a");
});

Deno.test("a truncated or garbled message is a RangeError", () => {
  const w = new WireWriter().reset();
  w.str("abcdef");
  w.frame(new Uint8Array(10));
  const full = w.bytes().slice();
  for (let cut = 5; cut < full.length; cut++) {
    assert.throws(() => {
      const r = new WireReader(full.subarray(0, cut));
      r.str();
      r.frame();
    }, RangeError);
  }
  const bad = new WireWriter().reset();
  bad.u8(9);
  assert.throws(() => new WireReader(bad.bytes()).frame(), /bad frame tag 9/);
  const badSym = new WireWriter().reset();
  badSym.u32(5);
  assert.throws(() => new WireReader(badSym.bytes()).sym(), /bad string number/);
  const lying = new Uint8Array(8);
  new DataView(lying.buffer).setUint32(0, 1e9, true);
  assert.throws(() => new WireReader(lying), /bad frame total/);
});

Deno.test("ids: hex ids of several prefixes in one message, and near-hex ones, come back exact", () => {
  const ids = [
    "0123456789abcdef00000a0b",
    "fedcba987654321000000001",
    "0123456789abcdef00000a0c" + "0001",
    "0123456789abcdef00000a0b",
    "0123456789ABCDEF00000a0b", // uppercase: not the short form
    "0123456789abcdef00000a0g", // a non-hex digit in the counter
    "0123456789abcdeg00000a0b", // ... in the prefix
    "0123456789abcdef00000a0b" + "00z1", // ... in the index
    "0123456789abcdef00000a0", // 23 characters
    "0123456789abcdef00000a0b0", // 25
    "ffffffffffffffffffffffff" + "ffff",
    "",
  ];
  const w = new WireWriter().reset();
  w.ids(ids);
  for (const id of ids) w.id(id);
  const r = new WireReader(w.bytes().slice());
  assert.deepEqual(r.ids(), ids);
  for (const id of ids) assert.equal(r.id(), id);
  assert.ok(r.done);
});
