import assert from "node:assert/strict";
import type { ObjectId, TaskId } from "../../runtime/common/mod.ts";
import type { RunActorCall } from "../../runtime/protocol/mod.ts";
import { ActorChannel } from "../../runtime/transport/mod.ts";
import type { RingJob } from "./_ring_worker.ts";

const PREFIX = "00112233445566778899aabb";

function taskId(i: number): TaskId {
  return (PREFIX.slice(0, 16) + i.toString(16).padStart(8, "0")) as TaskId;
}

Deno.test("calls and results cross a channel with every field intact", () => {
  const ch = ActorChannel.create(4096);
  const dep = (taskId(9) + "0000") as ObjectId;
  const calls: RunActorCall[] = [
    [taskId(1), "add", new Uint8Array([1, 2]), 1, [], [], 0],
    [taskId(2), "mul", dep, 2, [dep], [{ offset: 64, size: 32 }], 1],
  ];
  assert.ok(ch.sendWork(3, calls));
  assert.ok(ch.workPending);
  const got = ch.takeWork()!;
  assert.equal(got.seq, 3);
  assert.deepEqual(got.items, calls);
  assert.equal(ch.takeWork(), undefined);

  const other = new ActorChannel(ch.sab);
  assert.ok(other.sendResults(5, [
    [0, [new Uint8Array([7])], false],
    [1, [new Uint8Array([8]), new Uint8Array([9])], true, [[dep], []]],
  ]));
  assert.ok(ch.resultsReady);
  const results = ch.takeResults()!;
  assert.equal(results.stamp, 5);
  assert.deepEqual(results.results, [
    [0, [new Uint8Array([7])], false],
    [1, [new Uint8Array([8]), new Uint8Array([9])], true, [[dep], []]],
  ]);
});

Deno.test("a batch bigger than the channel is refused, so it can go another way", () => {
  const ch = ActorChannel.create(1024);
  const big: RunActorCall[] = [[taskId(1), "m", new Uint8Array(2000), 1, [], [], 0]];
  assert.equal(ch.sendWork(0, big), false);
  assert.equal(ch.workPending, false);
});

Deno.test("a nudge is asked for once until the reader clears it, and never while it polls", () => {
  const ch = ActorChannel.create(1024);
  assert.equal(ch.shouldNudge(), true);
  assert.equal(ch.shouldNudge(), false);
  ch.clearNudge();
  ch.setPolling(true);
  assert.equal(ch.shouldNudge(), false);
  ch.setPolling(false);
  assert.equal(ch.shouldNudge(), true);
});

Deno.test("an actor thread sleeping on the doorbell wakes for each batch; 5,000 calls answered in order", async () => {
  const ch = ActorChannel.create(16 * 1024);
  const worker = new Worker(new URL("./_ring_worker.ts", import.meta.url), { type: "module" });
  const done = new Promise((resolve, reject) => {
    worker.onmessage = resolve;
    worker.onerror = (e) => {
      e.preventDefault();
      reject(new Error(e.message));
    };
  });
  const count = 5000;
  worker.postMessage({ mode: "actor", sab: ch.sab, count } satisfies RingJob);
  const answered: number[] = [];
  let seq = 0;
  let next = 0;
  while (answered.length < count) {
    if (next < count) {
      const n = Math.min(1 + (seq % 40), count - next);
      const calls: RunActorCall[] = Array.from(
        { length: n },
        (
          _,
          i,
        ) => [taskId(next + i), "echo", new Uint8Array([(next + i) & 0xff]), 1, [], [], next + i],
      );
      if (ch.sendWork(seq, calls)) {
        seq++;
        next += n;
      }
    }
    for (let batch; (batch = ch.takeResults());) {
      for (const [slot, [frame]] of batch.results) {
        assert.deepEqual(frame, new Uint8Array([answered.length & 0xff]));
        assert.equal(slot, answered.length);
        answered.push(slot);
      }
    }
    // Give the worker time to fall asleep now and then, so the doorbell is exercised.
    if (seq % 50 === 0) await new Promise((r) => setTimeout(r, 1));
    else await Promise.resolve();
  }
  await done;
  worker.terminate();
});

Deno.test("garbage in a channel is a RangeError for the reader, never a wrong result", () => {
  const ch = ActorChannel.create(1024);
  const words = new Int32Array(ch.sab, 0, 16);
  const data = new Uint8Array(ch.sab, 64 + 1024, 1024);
  // A results message of 12 bytes: a frame total of 0, then a stamp, then a count of 1e6 results.
  new DataView(data.buffer, data.byteOffset).setUint32(0, 12, true);
  new DataView(data.buffer, data.byteOffset).setUint32(4, 0, true);
  new DataView(data.buffer, data.byteOffset).setUint32(8, 1, true);
  new DataView(data.buffer, data.byteOffset).setUint32(12, 1_000_000, true);
  Atomics.store(words, 2, 16);
  assert.throws(() => ch.takeResults(), RangeError);
  // The bad message was consumed: the channel goes on with the next one.
  assert.equal(ch.takeResults(), undefined);
});
