import assert from "node:assert/strict";
import type { ObjectId, TaskId } from "../../runtime/common/mod.ts";
import type { LinkResult, RunActorCall } from "../../runtime/protocol/mod.ts";
import { LINK_RESULT } from "../../runtime/protocol/mod.ts";
import { NO_ARGS } from "../../runtime/protocol/mod.ts";
import { Doorbell, TaskChannel } from "../../runtime/transport/mod.ts";
import { CallLink } from "../../runtime/links/mod.ts";
import type { RingJob } from "./_ring_worker.ts";

const PREFIX = "00112233445566778899aabb";

function taskId(i: number): TaskId {
  return (PREFIX.slice(0, 16) + i.toString(16).padStart(8, "0")) as TaskId;
}

Deno.test("calls cross a link with every field intact (no dependency frames travel)", () => {
  const link = CallLink.create(4096);
  const dep = (taskId(9) + "0000") as ObjectId;
  const calls: RunActorCall[] = [
    [taskId(1), "add", new Uint8Array([1, 2]), 1, [], [], 0],
    [taskId(2), "mul", dep, 2, [dep], [], 1],
    [taskId(3), "ping", NO_ARGS, 1, [], [], 2],
  ];
  assert.ok(link.sendWork(3, calls));
  assert.ok(link.workPending);
  const got = link.takeWork()!;
  assert.equal(got.seq, 3);
  assert.deepEqual(got.items, calls);
  assert.equal(got.items[2][2], NO_ARGS, "no arguments come back as the shared NO_ARGS frame");
  assert.equal(link.takeWork(), undefined);
});

Deno.test("results cross a link: frames, errors, sealed at the node, and values as they are", () => {
  const link = CallLink.create(4096);
  const values = [undefined, null, true, false, 0, -0, 1.5, NaN, -1e300, "", "héllo ✓"];
  const results: LinkResult[] = [
    [0, LINK_RESULT.ok, [new Uint8Array([7]), new Uint8Array([8])]],
    [1, LINK_RESULT.failed, [new Uint8Array([9])]],
    [2, LINK_RESULT.atNode, []],
    ...values.map((v, i): LinkResult => [3 + i, LINK_RESULT.value, [], v]),
  ];
  assert.ok(new CallLink(link.sab).sendResults(0, results));
  const got = link.takeResults()!.results;
  assert.deepEqual(got.slice(0, 3), [
    [0, LINK_RESULT.ok, [new Uint8Array([7]), new Uint8Array([8])]],
    [1, LINK_RESULT.failed, [new Uint8Array([9])]],
    [2, LINK_RESULT.atNode, []],
  ]);
  got.slice(3).forEach(([slot, kind, , value], i) => {
    assert.equal(slot, 3 + i);
    assert.equal(kind, LINK_RESULT.value);
    assert.ok(Object.is(value, values[i]), `value ${String(values[i])}`);
  });
});

Deno.test("a link refuses a value that is not a primitive, and a batch bigger than it", () => {
  const link = CallLink.create(1024);
  assert.throws(() => link.sendResults(0, [[0, LINK_RESULT.value, [], { a: 1 }]]), TypeError);
  const big: RunActorCall[] = [[taskId(1), "m", new Uint8Array(2000), 1, [], [], 0]];
  assert.equal(link.sendWork(0, big), false);
  assert.equal(link.workPending, false);
});

Deno.test("garbage in a link is a RangeError for the reader, never a wrong result", () => {
  const link = CallLink.create(1024);
  const words = new Int32Array(link.sab, 0, 16);
  const data = new Uint8Array(link.sab, 64 + 1024, 1024);
  const view = new DataView(data.buffer, data.byteOffset);
  // A results message of 13 bytes: a frame total of 0, a stamp, a count of 1, a slot, kind 9.
  view.setUint32(0, 17, true);
  view.setUint32(4, 0, true);
  view.setUint32(8, 0, true);
  view.setUint32(12, 1, true);
  view.setUint32(16, 0, true);
  data[20] = 9;
  Atomics.store(words, 2, 24);
  assert.throws(() => link.takeResults(), RangeError);
  // The bad message was consumed: the link goes on with the next one.
  assert.equal(link.takeResults(), undefined);
});

Deno.test("a doorbell rung while its owner is awake costs nothing and wakes no one later", async () => {
  const bell = new Doorbell();
  bell.ring(); // awake: nothing to do
  let work = false;
  const sleeping = bell.sleep(() => work);
  assert.ok(sleeping, "nothing waits: it sleeps");
  work = true;
  new Doorbell(bell.sab).ring();
  await sleeping;
  assert.equal(bell.sleep(() => work), undefined, "work waits: it does not sleep");
  assert.throws(() => new Doorbell(new SharedArrayBuffer(4)), RangeError);
  assert.throws(() => new Doorbell(new SharedArrayBuffer(16), 2), RangeError);
});

Deno.test("an actor thread sleeping on its doorbell wakes for each batch; 5,000 calls answered in order", async () => {
  const link = CallLink.create(16 * 1024);
  const actorBell = new Doorbell();
  const callerBell = new Doorbell();
  const worker = new Worker(new URL("./_ring_worker.ts", import.meta.url), { type: "module" });
  const done = new Promise((resolve, reject) => {
    worker.onmessage = resolve;
    worker.onerror = (e) => {
      e.preventDefault();
      reject(new Error(e.message));
    };
  });
  const count = 5000;
  worker.postMessage(
    {
      mode: "actor",
      sab: link.sab,
      count,
      bells: [actorBell.sab, callerBell.sab],
    } satisfies RingJob,
  );
  const answered: number[] = [];
  let seq = 0;
  let next = 0;
  while (answered.length < count) {
    if (next < count) {
      const n = Math.min(1 + (seq % 40), count - next);
      const calls: RunActorCall[] = Array.from(
        { length: n },
        (_, i) => [taskId(next + i), "echo", NO_ARGS, 1, [], [], next + i],
      );
      if (link.sendWork(seq, calls)) {
        actorBell.ring();
        seq++;
        next += n;
      }
    }
    for (let batch; (batch = link.takeResults());) {
      for (const [slot, kind, , value] of batch.results) {
        assert.equal(kind, LINK_RESULT.value);
        assert.equal(slot, answered.length);
        assert.equal(value, slot * 2);
        answered.push(slot);
      }
    }
    if (next === count && answered.length < count) {
      // All sent: sleep on our own bell until the actor rings it.
      await (callerBell.sleep(() => link.resultsReady) ?? Promise.resolve());
    } else if (seq % 50 === 0) {
      // Give the worker time to fall asleep now and then, so its doorbell is exercised.
      await new Promise((r) => setTimeout(r, 1));
    } else {
      await Promise.resolve();
    }
  }
  await done;
  worker.terminate();
});

Deno.test("a task channel's nudge is asked for once until the reader clears it, and never while it polls", () => {
  const ch = TaskChannel.create(1024);
  assert.equal(ch.shouldNudge(), true);
  assert.equal(ch.shouldNudge(), false);
  ch.clearNudge();
  ch.setPolling(true);
  assert.equal(ch.shouldNudge(), false);
  ch.setPolling(false);
  assert.equal(ch.shouldNudge(), true);
});
