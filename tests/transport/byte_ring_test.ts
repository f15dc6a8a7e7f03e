import assert from "node:assert/strict";
import { ByteRing, ringFootprint } from "../../runtime/transport/mod.ts";
import type { RingJob } from "./_ring_worker.ts";

function ringOf(capacity: number): ByteRing {
  const sab = new SharedArrayBuffer(16 + capacity);
  return new ByteRing(new Int32Array(sab, 0, 4), 0, sab, 16, capacity);
}

const copy = (b: Uint8Array) => b.slice();

function bytes(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
}

Deno.test("a ring gives messages back in order, whole", () => {
  const ring = ringOf(256);
  assert.equal(ring.read(copy), undefined);
  assert.ok(!ring.readable);
  const sent = [bytes(0, 1), bytes(1, 2), bytes(5, 3), bytes(40, 4)];
  for (const m of sent) assert.ok(ring.tryWrite(m));
  assert.ok(ring.readable);
  for (const m of sent) assert.deepEqual(ring.read(copy), m);
  assert.equal(ring.read(copy), undefined);
});

Deno.test("a full ring refuses a write and keeps what it holds", () => {
  const ring = ringOf(64);
  assert.ok(ring.tryWrite(bytes(28, 1))); // 32 bytes
  assert.ok(ring.tryWrite(bytes(20, 2))); // 24 bytes
  assert.equal(ring.tryWrite(bytes(8, 3)), false); // needs 12, 8 free
  assert.deepEqual(ring.read(copy), bytes(28, 1));
  assert.ok(ring.tryWrite(bytes(8, 3)));
  assert.deepEqual(ring.read(copy), bytes(20, 2));
  assert.deepEqual(ring.read(copy), bytes(8, 3));
  assert.equal(ring.tryWrite(bytes(64, 0)), false, "a message bigger than the ring never fits");
});

Deno.test("messages that would cross the end start again at 0, many times round", () => {
  const ring = ringOf(128);
  const queue: Uint8Array[] = [];
  let seed = 0;
  let refused = 0;
  for (let step = 0; step < 20_000; step++) {
    // Writes and reads in an uneven rhythm, so positions land everywhere.
    if ((step * 7) % 5 < 3) {
      const m = bytes(1 + ((step * 13) % 50), seed++);
      if (ring.tryWrite(m)) queue.push(m);
      else refused++;
    } else if (queue.length > 0) {
      assert.deepEqual(ring.read(copy), queue.shift(), `step ${step}`);
    }
  }
  for (const m of queue) assert.deepEqual(ring.read(copy), m);
  assert.equal(ring.read(copy), undefined);
  assert.ok(refused > 0, "the rhythm fills the ring now and then");
  assert.equal(ringFootprint(5), 12);
});

Deno.test("an empty ring always takes a message of up to half its size, wherever it stands", () => {
  const ring = ringOf(128);
  for (let first = 0; first <= 60; first++) {
    if (first > 0) {
      assert.ok(ring.tryWrite(bytes(first, first)));
      ring.read(copy);
    }
    for (let n = 0; n <= 60; n += 4) {
      assert.ok(ring.tryWrite(bytes(n, n)), `after ${first}: ${n} bytes`);
      assert.deepEqual(ring.read(copy), bytes(n, n));
    }
  }
});

Deno.test("a corrupt length word is an error, not a wild read", () => {
  const sab = new SharedArrayBuffer(16 + 64);
  const words = new Int32Array(sab, 0, 4);
  const ring = new ByteRing(words, 0, sab, 16, 64);
  assert.ok(ring.tryWrite(bytes(4, 1)));
  new Uint32Array(sab, 16, 1)[0] = 1000;
  assert.throws(() => ring.read(copy), /ByteRing is corrupt/);
});

Deno.test("bad ring shapes are refused", () => {
  const sab = new SharedArrayBuffer(16 + 100);
  const words = new Int32Array(sab, 0, 4);
  assert.throws(() => new ByteRing(words, 0, sab, 16, 100), /power of two/);
  assert.throws(() => new ByteRing(words, 0, sab, 2, 64), /multiple of 4/);
});

Deno.test("a ring between two threads carries 20,000 messages intact", async () => {
  const capacity = 1024;
  const sab = new SharedArrayBuffer(16 + 2 * capacity);
  const words = new Int32Array(sab, 0, 4);
  const out = new ByteRing(words, 0, sab, 16, capacity);
  const back = new ByteRing(words, 2, sab, 16 + capacity, capacity);
  const worker = new Worker(new URL("./_ring_worker.ts", import.meta.url), { type: "module" });
  const done = new Promise((resolve) => worker.onmessage = resolve);
  const count = 20_000;
  worker.postMessage({ mode: "echo-ring", sab, count, capacity } satisfies RingJob);
  let sent = 0;
  let got = 0;
  while (got < count) {
    if (sent < count && out.tryWrite(bytes(1 + (sent % 200), sent))) sent++;
    const m = back.read(copy);
    if (m) {
      assert.deepEqual(m, bytes(1 + (got % 200), got));
      got++;
    }
    if (got % 1000 === 0) await Promise.resolve();
  }
  await done;
  worker.terminate();
});
