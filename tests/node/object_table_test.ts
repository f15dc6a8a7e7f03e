import assert from "node:assert/strict";
import { IdFactory, type ObjectId, objectIdOf } from "../../runtime/common/mod.ts";
import { ObjectTable, type WaitHandle } from "../../runtime/node/object_table.ts";

const ids = new IdFactory();

function objectId(): ObjectId {
  return objectIdOf(ids.nextTaskId(), 0);
}

function frame(byte: number): Uint8Array {
  return new Uint8Array([byte]);
}

/** Whether `handle`'s promise settles within a few turns of the event loop. */
async function settles(handle: WaitHandle): Promise<boolean> {
  let settled = false;
  handle.promise.then(() => settled = true, () => settled = true);
  await new Promise((resolve) => setTimeout(resolve, 5));
  return settled;
}

const sanitize = { sanitizeOps: true, sanitizeResources: true };

Deno.test("ObjectTable.add() records an object once and reports a duplicate", () => {
  const table = new ObjectTable();
  const id = objectId();
  const first = frame(1);
  assert.equal(table.add(id, first, false), true);
  assert.equal(table.add(id, frame(2), true), false);
  assert.equal(table.frame(id), first, "the first frame is kept");
  assert.equal(table.status(id), "ok", "the first error flag is kept");
  assert.equal(table.size, 1);
});

Deno.test("ObjectTable.status() and frame() tell missing, ok and error objects apart", () => {
  const table = new ObjectTable();
  const ok = objectId();
  const bad = objectId();
  const loc = { offset: 64, size: 10 };
  table.add(ok, loc, false);
  table.add(bad, frame(9), true);
  assert.equal(table.status(ok), "ok");
  assert.equal(table.status(bad), "error");
  assert.equal(table.status(objectId()), "missing");
  assert.equal(table.frame(ok), loc);
  assert.deepStrictEqual(table.frame(bad), frame(9));
  assert.equal(table.frame(objectId()), undefined);
  assert.equal(table.size, 2);
});

Deno.test(
  "ObjectTable.wait() resolves immediately when enough objects exist",
  sanitize,
  async () => {
    const table = new ObjectTable();
    const a = objectId();
    const b = objectId();
    table.add(a, frame(1), false);
    table.add(b, frame(2), true);
    const handle = table.wait([a, b], 2, 1000, true);
    assert.equal(handle.immediate, true);
    assert.deepStrictEqual(await handle.promise, {
      ready: [true, true],
      frames: [frame(1), frame(2)],
    });
  },
);

Deno.test(
  "ObjectTable.wait() with a timeout of 0 resolves at once with what exists",
  sanitize,
  async () => {
    const table = new ObjectTable();
    const a = objectId();
    const b = objectId();
    table.add(b, frame(2), false);
    const handle = table.wait([a, b], 2, 0, true);
    assert.equal(handle.immediate, true);
    assert.deepStrictEqual(await handle.promise, {
      ready: [false, true],
      frames: [undefined, frame(2)],
    });
  },
);

Deno.test("ObjectTable.wait() without fetch resolves without frames", sanitize, async () => {
  const table = new ObjectTable();
  const a = objectId();
  table.add(a, frame(1), false);
  const outcome = await table.wait([a], 1, undefined, false).promise;
  assert.deepStrictEqual(outcome.ready, [true]);
  assert.equal(outcome.frames, undefined);
});

Deno.test(
  "ObjectTable.wait() for fewer than all ids resolves once enough are added",
  sanitize,
  async () => {
    const table = new ObjectTable();
    const [a, b, c] = [objectId(), objectId(), objectId()];
    const handle = table.wait([a, b, c], 2, undefined, true);
    assert.equal(handle.immediate, false);
    table.add(b, frame(2), false);
    assert.equal(await settles(handle), false, "1 of 2 is not enough");
    table.add(c, frame(3), false);
    assert.deepStrictEqual(await handle.promise, {
      ready: [false, true, true],
      frames: [undefined, frame(2), frame(3)],
    });
  },
);

Deno.test("ObjectTable.wait() counts each position of a duplicate id", sanitize, async () => {
  const table = new ObjectTable();
  const [a, b] = [objectId(), objectId()];
  const handle = table.wait([a, b, a], 2, undefined, false);
  table.add(a, frame(1), false);
  assert.deepStrictEqual((await handle.promise).ready, [true, false, true]);
  const all = table.wait([a, a, b], 3, undefined, true);
  assert.equal(all.immediate, false);
  table.add(b, frame(2), false);
  assert.deepStrictEqual(await all.promise, {
    ready: [true, true, true],
    frames: [frame(1), frame(1), frame(2)],
  });
});

Deno.test(
  "ObjectTable.wait() with a duplicate id that already exists is immediate",
  sanitize,
  async () => {
    const table = new ObjectTable();
    const a = objectId();
    table.add(a, frame(1), false);
    const handle = table.wait([a, a], 2, undefined, false);
    assert.equal(handle.immediate, true);
    assert.deepStrictEqual((await handle.promise).ready, [true, true]);
  },
);

Deno.test(
  "ObjectTable.wait() resolves with partial readiness when the timeout passes",
  sanitize,
  async () => {
    const table = new ObjectTable();
    const [a, b] = [objectId(), objectId()];
    const started = performance.now();
    const handle = table.wait([a, b], 2, 30, true);
    table.add(a, frame(1), false);
    const outcome = await handle.promise;
    assert.ok(performance.now() - started >= 25, "resolved before the timeout");
    assert.deepStrictEqual(outcome, { ready: [true, false], frames: [frame(1), undefined] });
    table.add(b, frame(2), false);
    assert.equal(table.status(b), "ok");
  },
);

Deno.test("ObjectTable.wait() clears its timer when it resolves early", sanitize, async () => {
  const table = new ObjectTable();
  const a = objectId();
  const handle = table.wait([a], 1, 60_000, false);
  table.add(a, frame(1), false);
  assert.deepStrictEqual((await handle.promise).ready, [true]);
});

Deno.test("ObjectTable.wait() wakes every wait on the same object", sanitize, async () => {
  const table = new ObjectTable();
  const a = objectId();
  const first = table.wait([a], 1, undefined, false);
  const second = table.wait([objectId(), a], 1, 1000, true);
  table.add(a, frame(1), false);
  assert.deepStrictEqual((await first.promise).ready, [true]);
  assert.deepStrictEqual((await second.promise).ready, [false, true]);
});

Deno.test("WaitHandle.cancel() prevents resolution and clears the timer", sanitize, async () => {
  const table = new ObjectTable();
  const [a, b] = [objectId(), objectId()];
  const handle = table.wait([a, b], 2, 60_000, true);
  handle.cancel();
  table.add(a, frame(1), false);
  table.add(b, frame(2), false);
  assert.equal(await settles(handle), false);
});

Deno.test(
  "WaitHandle.cancel() leaves other waits on the same object in place",
  sanitize,
  async () => {
    const table = new ObjectTable();
    const a = objectId();
    const cancelled = table.wait([a], 1, undefined, false);
    const kept = table.wait([a], 1, undefined, false);
    const cancelledToo = table.wait([a], 1, undefined, false);
    cancelled.cancel();
    cancelledToo.cancel();
    table.add(a, frame(1), false);
    assert.deepStrictEqual((await kept.promise).ready, [true]);
    assert.equal(await settles(cancelled), false);
    assert.equal(await settles(cancelledToo), false);
  },
);

Deno.test("WaitHandle.cancel() after resolution and twice is harmless", sanitize, async () => {
  const table = new ObjectTable();
  const a = objectId();
  const handle = table.wait([a], 1, 1000, false);
  table.add(a, frame(1), false);
  await handle.promise;
  handle.cancel();
  handle.cancel();
  const immediate = table.wait([a], 1, undefined, false);
  immediate.cancel();
  assert.deepStrictEqual((await immediate.promise).ready, [true]);
});

Deno.test(
  "ObjectTable.rejectAll() rejects every open wait with the reason and clears timers",
  sanitize,
  async () => {
    const table = new ObjectTable();
    const [a, b] = [objectId(), objectId()];
    const reason = new Error("shut down");
    const open = [
      table.wait([a], 1, 60_000, false),
      table.wait([a, b], 2, 60_000, true),
      table.wait([b], 1, undefined, false),
    ];
    const cancelled = table.wait([a], 1, 60_000, false);
    cancelled.cancel();
    table.add(b, frame(2), false);
    const resolved = open.pop()!;
    table.rejectAll(reason);
    for (const h of open) await assert.rejects(h.promise, (err) => err === reason);
    assert.deepStrictEqual(
      (await resolved.promise).ready,
      [true],
      "a finished wait stays resolved",
    );
    assert.equal(await settles(cancelled), false, "a cancelled wait stays unsettled");
    table.add(a, frame(1), false);
    const after = table.wait([a, b], 2, undefined, false);
    assert.deepStrictEqual((await after.promise).ready, [true, true], "the table still works");
  },
);

Deno.test(
  "ObjectTable: waits on one object finish in the order they came; a cancelled one with repeats leaves the rest",
  sanitize,
  async () => {
    const table = new ObjectTable();
    const [a, b] = [objectId(), objectId()];
    const order: string[] = [];
    const first = table.wait([a, b], 1, undefined, true);
    const repeats = table.wait([a, a, b, a], 4, undefined, false);
    const third = table.wait([b, a, a], 3, undefined, true);
    const fourth = table.wait([a], 1, undefined, false);
    for (const [name, h] of [["first", first], ["third", third], ["fourth", fourth]] as const) {
      h.promise.then(() => order.push(name));
    }
    repeats.cancel();
    table.add(a, frame(7), false);
    table.add(b, frame(8), true);
    const one = await first.promise;
    assert.deepStrictEqual(one.ready, [true, false]);
    assert.deepStrictEqual(one.frames, [frame(7), undefined]);
    assert.deepStrictEqual((await third.promise).frames, [frame(8), frame(7), frame(7)]);
    await fourth.promise;
    assert.deepStrictEqual(order, ["first", "fourth", "third"]);
    assert.equal(await settles(repeats), false);
    assert.equal(table.status(b), "error");
    assert.deepStrictEqual(table.remove(b), { frame: frame(8), error: true });
    assert.deepStrictEqual(table.remove(a), { frame: frame(7), error: false });
    assert.equal(table.status(a), "missing");
  },
);
