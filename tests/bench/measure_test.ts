import assert from "node:assert/strict";
import { BenchSkipped, measure, measurePaired, median } from "../../scripts/bench/_measure.ts";

/** A clock that moves only when a batch says so. */
function fakeClock() {
  let ms = 0;
  return { now: () => ms, advance: (by: number) => (ms += by) };
}

Deno.test("measure() reports the median, min and max of its runs as rates", async () => {
  const clock = fakeClock();
  const durations = [100, 100, 200, 400, 100]; // per run of one batch (runMs 100), after warm-up
  let call = 0;
  const result = await measure(
    () => {
      clock.advance(call === 0 ? 10 : durations[call - 1]);
      call++;
      return 10;
    },
    { warmupMs: 0, runMs: 100, runs: 5 },
    clock.now,
  );
  assert.equal(call, 6, "one warm-up batch and one batch per run");
  assert.deepEqual(result.samples, [100, 100, 50, 25, 100]);
  assert.deepEqual([result.value, result.min, result.max, result.runs], [100, 25, 100, 5]);
});

Deno.test("measure() repeats batches until each run lasts runMs", async () => {
  const clock = fakeClock();
  let calls = 0;
  const result = await measure(
    () => {
      clock.advance(30);
      calls++;
      return 3;
    },
    { warmupMs: 60, runMs: 100, runs: 2 },
    clock.now,
  );
  assert.equal(calls, 2 + 4 + 4, "two warm-up batches, then four batches per 100 ms run");
  assert.deepEqual(result.samples, [100, 100]);
});

Deno.test("measure() divides by the seconds a self-timed batch reports", async () => {
  const clock = fakeClock();
  const result = await measure(
    () => {
      clock.advance(500);
      return { work: 2, seconds: 0.25 };
    },
    { warmupMs: 0, runMs: 100, runs: 1 },
    clock.now,
  );
  assert.equal(result.value, 8);
});

Deno.test("measure() rejects a run count below one", async () => {
  await assert.rejects(measure(() => 1, { warmupMs: 0, runMs: 1, runs: 0 }), RangeError);
});

Deno.test("median() of an even count is the mean of the middle two", () => {
  assert.equal(median([1, 2, 3, 10]), 2.5);
  assert.equal(median([7]), 7);
});

Deno.test("BenchSkipped carries the reason as its message", () => {
  assert.equal(
    new BenchSkipped("cluster mode not available yet").message,
    "cluster mode not available yet",
  );
});

Deno.test("measurePaired() alternates peer and own batches and takes the median pair ratio", async () => {
  const clock = fakeClock();
  const order: string[] = [];
  // Peer batches are timed by the harness, own batches time themselves (as a transfer does).
  // The machine slows down and speeds up from pair to pair, both sides by the same factor: every
  // pair's ratio is 0.5 while each side's rate alone swings by 4x.
  let pairIndex = 0;
  const slow = [1, 2, 4, 1, 2];
  const { own, peer } = await measurePaired(
    () => {
      order.push("own");
      clock.advance(1000); // its untimed part (making the object) counts for neither side
      return { work: 1, seconds: 0.2 * slow[pairIndex++] };
    },
    () => {
      order.push("peer");
      clock.advance(100 * slow[pairIndex]);
      return 1;
    },
    { warmupMs: 0, runMs: 1, runs: 4 },
    clock.now,
  );
  assert.deepEqual(order.slice(0, 4), ["peer", "own", "peer", "own"]);
  assert.equal(order.length, 10, "one warm-up pair, then one pair per run");
  assert.deepEqual(own.samples, [2.5, 1.25, 5, 2.5]);
  assert.deepEqual(peer.samples, [5, 2.5, 10, 5]);
  assert.deepEqual(peer.pairRatios, [0.5, 0.5, 0.5, 0.5]);
  assert.equal(peer.ratio, 0.5);
});

Deno.test("measurePaired() ratio is the median of the pairs, not the ratio of the medians", async () => {
  const clock = fakeClock();
  const ownSeconds = [0.1, 0.1, 0.4, 0.1, 0.1]; // warm-up, then four pairs
  const peerMs = [100, 50, 400, 200, 100];
  let i = 0;
  const { own, peer } = await measurePaired(
    () => ({ work: 1, seconds: ownSeconds[i++] }),
    () => {
      clock.advance(peerMs[i]);
      return 1;
    },
    { warmupMs: 0, runMs: 1, runs: 4 },
    clock.now,
  );
  // Pair rates own/peer: 10/20 = 0.5, 2.5/2.5 = 1, 10/5 = 2, 10/10 = 1.
  assert.deepEqual(peer.pairRatios, [0.5, 1, 2, 1]);
  assert.equal(peer.ratio, 1);
  assert.deepEqual(own.samples, [10, 2.5, 10, 10]);
  assert.equal(own.value, 10);
  assert.equal(peer.value, 7.5, "median of 20, 2.5, 5, 10");
  assert.equal(own.value / peer.value, 4 / 3, "what dividing the medians would have said");
});

Deno.test("measurePaired() puts every pair of a run into that run's rates", async () => {
  const clock = fakeClock();
  const { own, peer } = await measurePaired(
    () => {
      clock.advance(30);
      return 3;
    },
    () => ({ work: 1, seconds: 0.01 }),
    { warmupMs: 0, runMs: 100, runs: 2 },
    clock.now,
  );
  assert.equal(peer.pairRatios.length, 8, "four pairs of 30 ms per 100 ms run");
  assert.deepEqual(own.samples, [100, 100]);
  assert.deepEqual(peer.samples, [100, 100]);
  assert.equal(peer.ratio, 1);
});

Deno.test("measurePaired() rejects a run count below one", async () => {
  await assert.rejects(
    measurePaired(() => 1, () => 1, { warmupMs: 0, runMs: 1, runs: 0 }),
    RangeError,
  );
});
