import assert from "node:assert/strict";
import { setLongTimeout } from "../../runtime/transport/mod.ts";

Deno.test("setLongTimeout fires once after a short delay", async () => {
  let calls = 0;
  const started = Date.now();
  const { promise, resolve } = Promise.withResolvers<void>();
  setLongTimeout(() => {
    calls++;
    resolve();
  }, 30);
  await promise;
  assert.ok(Date.now() - started >= 25);
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(calls, 1);
});

Deno.test("setLongTimeout does not fire at once for 2^31 ms and more, and cancels", async () => {
  let fired = 0;
  const cancels = [2 ** 31, 2 ** 31 - 1, 2 ** 40, Number.MAX_SAFE_INTEGER].map((ms) =>
    setLongTimeout(() => fired++, ms)
  );
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(fired, 0);
  for (const cancel of cancels) {
    cancel();
    cancel();
  }
});

Deno.test("setLongTimeout never fires for Infinity and refuses negative or NaN delays", () => {
  const cancel = setLongTimeout(() => assert.fail("Infinity fired"), Infinity);
  cancel();
  assert.throws(() => setLongTimeout(() => {}, -1), /-1 ms is not a number ≥ 0/);
  assert.throws(() => setLongTimeout(() => {}, NaN), RangeError);
});
