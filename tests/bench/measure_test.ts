import assert from "node:assert/strict";
import { BenchSkipped, measure, median } from "../../scripts/bench/_measure.ts";

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
