import assert from "node:assert/strict";
import { formatProgress, terminalProgress } from "../../runtime/observability/mod.ts";

Deno.test("formatProgress() shows done / total, percent, rate and time left", () => {
  const line = formatProgress({ kind: "get", done: 250, total: 1000, elapsedMs: 500 }, 100);
  assert.match(line, /^get \[#+\.+\] 250\/1,000 25% 500\/s ETA 1\.5s$/);
  const done = formatProgress({ kind: "wait", done: 1000, total: 1000, elapsedMs: 2000 }, 100);
  assert.match(done, /^wait \[#+\] 1,000\/1,000 100% 500\/s in 2\.0s$/);
  assert.match(formatProgress({ kind: "get", done: 0, total: 5, elapsedMs: 0 }), /ETA \?$/);
});

Deno.test("formatProgress() fits the bar to the terminal width", () => {
  const narrow = formatProgress({ kind: "get", done: 1, total: 2, elapsedMs: 1 }, 60);
  const wide = formatProgress({ kind: "get", done: 1, total: 2, elapsedMs: 1 }, 200);
  assert.ok(narrow.length <= 60, narrow);
  assert.ok(wide.length > narrow.length);
});

Deno.test("terminalProgress() draws nothing for few refs or when stderr is not a terminal", () => {
  const out: string[] = [];
  const write = (t: string) => out.push(t);
  const poll = () => Promise.resolve(0);
  assert.equal(terminalProgress({ write, isTerminal: () => true })("get", 999, poll), undefined);
  assert.equal(terminalProgress({ write, isTerminal: () => false })("get", 5000, poll), undefined);
  assert.deepEqual(out, []);
});

Deno.test("terminalProgress() redraws in place while polling and ends with a full bar", async () => {
  const out: string[] = [];
  let ready = 0;
  const hook = terminalProgress({
    write: (t) => out.push(t),
    isTerminal: () => true,
    minRefs: 10,
    intervalMs: 5,
    columns: () => 100,
  });
  const stop = hook("get", 10, () => Promise.resolve(ready += 3))!;
  assert.ok(stop);
  await new Promise((r) => setTimeout(r, 40));
  stop();
  stop();
  assert.ok(out.length >= 3, out.join("|"));
  assert.ok(out.slice(0, -1).every((t) => t.startsWith("\r\x1b[2Kget [")), "redrawn in place");
  assert.match(out.at(-2)!, /10\/10 100%/);
  assert.equal(out.at(-1), "\n");
  const before = out.length;
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(out.length, before, "nothing after stop");
});

Deno.test("terminalProgress() prints nothing when the wait ends before the first redraw", () => {
  const out: string[] = [];
  const hook = terminalProgress({ write: (t) => out.push(t), isTerminal: () => true, minRefs: 1 });
  hook("wait", 5, () => Promise.resolve(5))!();
  assert.deepEqual(out, []);
});

Deno.test("terminalProgress() with intervalMs of 2^31 ms or more does not redraw at once", async () => {
  for (const intervalMs of [2 ** 31, 1e10]) {
    let polls = 0;
    const hook = terminalProgress({
      write: () => {},
      isTerminal: () => true,
      minRefs: 1,
      intervalMs,
    });
    const stop = hook("get", 10, () => Promise.resolve(++polls))!;
    await new Promise((r) => setTimeout(r, 50));
    stop();
    assert.equal(polls, 0, `polled ${polls} times in 50 ms with intervalMs ${intervalMs}`);
  }
});
