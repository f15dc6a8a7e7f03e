import assert from "node:assert/strict";
import { longInterval, longTimeout, MAX_TIMER_MS, sleep } from "../../runtime/common/mod.ts";

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("longTimeout() fires after a short delay like setTimeout", async () => {
  let fired = 0;
  longTimeout(() => fired++, 5);
  await pause(40);
  assert.equal(fired, 1);
});

Deno.test("longTimeout() of 2^31 ms or more does not fire at once; clear() stops it", async () => {
  let fired = 0;
  const timers = [MAX_TIMER_MS, 2 ** 31, 1e10, Number.MAX_SAFE_INTEGER].map((ms) =>
    longTimeout(() => fired++, ms)
  );
  await pause(40);
  assert.equal(fired, 0);
  for (const t of timers) t.clear();
  // The op sanitizer fails this test if a cleared timer were still pending.
});

Deno.test("longTimeout() of Infinity never fires and holds no timer", async () => {
  let fired = 0;
  longTimeout(() => fired++, Infinity);
  await pause(20);
  assert.equal(fired, 0);
});

Deno.test("longInterval() repeats short periods and waits out long ones", async () => {
  let short = 0;
  let long = 0;
  const a = longInterval(() => short++, 5);
  const b = longInterval(() => long++, 2 ** 31);
  await pause(60);
  a.clear();
  b.clear();
  assert.ok(short >= 2, `fired ${short} times`);
  assert.equal(long, 0);
});

Deno.test("sleep() resolves after its delay", async () => {
  const t0 = performance.now();
  await sleep(20);
  assert.ok(performance.now() - t0 >= 15);
});
