/**
 * The shared-memory channel between the node and an actor: batches too big
 * for it go by message without losing their order, refs a method puts reach
 * the node before the results that hold them, and a driver's spinning get
 * loses nothing.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { BulkyActor, CounterActor, FragileActor, OverlapActor } from "../fixtures/actor_classes.ts";
import { rayTest } from "./_with_ray.ts";

const KIB = 1024;

rayTest("results too big for the channel arrive by message, every one intact", async () => {
  const a = BulkyActor.remote();
  // 40 x 90 KiB inline results: several channels' worth in one batch.
  const refs = Array.from({ length: 40 }, (_, i) => a.blob.remote(90 * KIB, i));
  const blobs = await ray.get(refs);
  blobs.forEach((b, i) => {
    assert.equal(b.length, 90 * KIB);
    assert.ok(b.every((x) => x === i), `blob ${i} intact`);
  });
});

rayTest("arguments too big for the channel go by message and keep the call order", async () => {
  const a = BulkyActor.remote();
  await ray.get(a.measure.remote(new Uint8Array(1), -1)); // alive: each group below is a batch
  const refs: ray.ObjectRef<[number, number, number]>[] = [];
  const expected: [number, number, number][] = [];
  const call = (size: number) => {
    const tag = refs.length;
    refs.push(a.measure.remote(new Uint8Array(size).fill(tag & 0xff), tag));
    expected.push([size, tag & 0xff, tag]);
  };
  for (let g = 0; g < 24; g++) {
    // Odd groups: one batch of 3 x 95 KiB, more than the channel holds (by message);
    // even groups: small calls (through the channel). Each group is its own batch.
    if (g % 2 === 1) { for (let k = 0; k < 3; k++) call(95 * KIB); }
    else for (let k = 0; k < 2; k++) call(8);
    await new Promise((r) => setTimeout(r, 0));
  }
  assert.deepEqual(await ray.get(refs), expected);
});

rayTest("a ref a method puts and returns can be got at once, call after call", async () => {
  const a = BulkyActor.remote();
  for (let i = 0; i < 200; i++) {
    const [inner] = await ray.get(a.putAndReturn.remote([i, i + 1]));
    assert.deepEqual(await ray.get(inner), [i, i + 1]);
  }
});

rayTest("a ref a method returns and drops is still there when the driver gets it", async () => {
  const a = BulkyActor.remote();
  for (let round = 0; round < 8; round++) {
    const outers = Array.from({ length: 12 }, (_, i) => a.putAndForget.remote([round, i]));
    await new Promise((r) => setTimeout(r, 5)); // let the actor's collections run
    const inners = (await ray.get(outers)).map(([inner]) => inner);
    assert.deepEqual(await ray.get(inners), inners.map((_, i) => [round, i]));
  }
});

rayTest("typed arrays cross the channel aligned", async () => {
  const a = BulkyActor.remote();
  const xs = Float64Array.from({ length: 600 }, (_, i) => i / 3);
  const refs = Array.from({ length: 10 }, (_, k) => a.scale.remote(xs, k));
  const got = await ray.get(refs);
  got.forEach((ys, k) => assert.deepEqual(ys, xs.map((x) => x * k)));
});

rayTest("sync gets in a loop (the spinning path) see every result, in order", async () => {
  const c = CounterActor.remote();
  for (let i = 1; i <= 3000; i++) assert.equal(await ray.get(c.incr.remote()), i);
  // An actor that sleeps between calls is woken by its doorbell.
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(await ray.get(c.incr.remote()), 3001);
});

rayTest("many actors answer a driver's interleaved calls", async () => {
  const counters = Array.from({ length: 6 }, () => CounterActor.remote());
  const refs = [];
  for (let i = 0; i < 600; i++) refs.push(counters[i % 6].incr.remote());
  const out = await ray.get(refs);
  for (let i = 0; i < 600; i++) assert.equal(out[i], Math.floor(i / 6) + 1);
});

rayTest(
  "an actor's worker dying mid-stream loses no call: results read, the rest retried",
  async () => {
    const key = `RAYD_TEST_CRASH_${crypto.randomUUID()}`;
    const a = FragileActor.options({ maxRestarts: -1, maxTaskRetries: -1 }).remote(1000);
    await ray.get(a.value.remote());
    const refs: ray.ObjectRef<number>[] = [];
    for (let i = 0; i < 3000; i++) {
      refs.push(i === 1500 ? a.crashOnce.remote(key) : a.incr.remote());
      if (i % 100 === 0) await new Promise((r) => setTimeout(r, 0)); // many batches
    }
    const values = await ray.get(refs);
    assert.equal(values.length, 3000);
    const incrs = values.filter((_, i) => i !== 1500);
    // Each life of the actor counts up from its constructor's 1000 without a gap; the crash
    // starts exactly one new life.
    let resets = 0;
    for (let i = 1; i < incrs.length; i++) {
      if (incrs[i] === incrs[i - 1] + 1) continue;
      assert.equal(incrs[i], 1001, `after ${incrs[i - 1]} came ${incrs[i]}`);
      resets++;
    }
    assert.equal(incrs[0], 1001);
    assert.equal(resets, 1);
    assert.equal(await ray.get(a.value.remote()), incrs[incrs.length - 1]);
  },
);

rayTest(
  "a driver spinning on a get sees the call retried after the actor's worker died",
  async () => {
    const key = `RAYD_TEST_CRASH_${crypto.randomUUID()}`;
    const a = FragileActor.options({ maxRestarts: 1, maxTaskRetries: 1 }).remote(0);
    for (let i = 1; i <= 200; i++) assert.equal(await ray.get(a.incr.remote()), i);
    assert.equal(await ray.get(a.crashOnce.remote(key)), 0); // retried on the restarted actor
    for (let i = 1; i <= 200; i++) assert.equal(await ray.get(a.incr.remote()), i);
  },
);

rayTest(
  "an actor whose method posts a garbage message is ended like a crash, and restarts",
  async () => {
    const dead = FragileActor.remote(1);
    await assert.rejects(
      ray.get(dead.postGarbage.remote(), { timeoutMs: 20_000 }),
      ray.RayActorError,
    );
    await assert.rejects(ray.get(dead.value.remote(), { timeoutMs: 20_000 }), /is dead/);
    const phoenix = FragileActor.options({ maxRestarts: 1 }).remote(5);
    await assert.rejects(
      ray.get(phoenix.postGarbage.remote(), { timeoutMs: 20_000 }),
      ray.RayActorError,
    );
    assert.equal(await ray.get(phoenix.incr.remote(), { timeoutMs: 20_000 }), 6);
  },
);

rayTest("interleaved async and sync methods each get their own result back", async () => {
  const a = OverlapActor.options({ maxConcurrency: 8 }).remote();
  const refs: ray.ObjectRef<string>[] = [];
  const want: string[] = [];
  for (let i = 0; i < 400; i++) {
    const value = `value-${i}-${"x".repeat(i % 50)}`;
    refs.push(
      i % 3 === 0
        ? a.echo.remote(value)
        : i % 3 === 1
        ? a.echoSoon.remote(value, i % 5)
        : a.echoLater.remote(value, i % 7),
    );
    want.push(value);
    if (i % 40 === 0) await new Promise((r) => setTimeout(r, 1));
  }
  assert.deepEqual(await ray.get(refs), want);
});
