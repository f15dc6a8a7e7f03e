/**
 * Actor method calls reach the control store as actor tasks: the timeline,
 * the graph, the dashboard's summary and failures, and `getTask` see them,
 * whoever made the call (the driver, or a task in a worker).
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { CounterActor, pushMany, RecorderActor } from "../fixtures/actor_classes.ts";
import { rayTest } from "./_with_ray.ts";

const boxes = (dot: string) => dot.match(/^ {2}"t:[^"]*" \[shape=box/gm)?.length ?? 0;

rayTest(
  "a job of 100 actor calls shows 100 slices in the timeline, on the actor's row",
  async () => {
    const counter = CounterActor.remote();
    const refs = Array.from({ length: 100 }, () => counter.incr.remote(1));
    assert.equal((await ray.get(refs)).at(-1), 100);
    const events = await ray.timeline();
    const slices = events.filter((e) => e.ph === "X" && e.name === "Counter.incr");
    assert.equal(slices.length, 100);
    assert.deepEqual(
      new Set(slices.map((e) => e.args.taskId)),
      new Set(refs.map((r) => r.hex().slice(0, -4))),
      "one slice per call, named by its task id",
    );
    assert.equal(new Set(slices.map((e) => e.tid)).size, 1, "all on the actor's worker row");
    for (const e of slices) {
      assert.equal(e.args.state, "finished");
      assert.ok(e.dur! >= 0 && e.ts > 1e15);
    }
    // Calls on one link run in order: their slices do not overlap.
    const sorted = slices.toSorted((a, b) => a.ts - b.ts);
    for (let i = 1; i < sorted.length; i++) {
      const gap = sorted[i].ts - (sorted[i - 1].ts + sorted[i - 1].dur!);
      assert.ok(gap > -1, `slices in order (${gap} us)`); // shares of a run: fractions of a ms
    }
  },
);

rayTest("a slow actor call is timed, and a failed one keeps its error", async () => {
  const counter = CounterActor.remote();
  assert.equal(await ray.get(counter.slowIncr.remote(1, 150)), 1);
  await assert.rejects(ray.get(counter.boom.remote()), ray.RayTaskError);
  const events = await ray.timeline();
  const slow = events.find((e) => e.name === "Counter.slowIncr")!;
  assert.ok(slow.dur! >= 140_000, `a 150 ms call lasts about 150 ms (${slow.dur} us)`);
  const failed = events.find((e) => e.name === "Counter.boom")!;
  assert.equal(failed.args.state, "failed");
  assert.match(String(failed.args.error), /TypeError: boom from a method/);
});

rayTest(
  "an actor call whose error is too big for its link is recorded failed, with the error",
  async () => {
    const counter = CounterActor.remote();
    const refs = Array.from({ length: 3 }, () => counter.bigBoom.remote(20_000));
    for (const ref of refs) {
      await assert.rejects(ray.get(ref), (err: Error) => /big boom x{100}/.test(err.message));
    }
    const events = await ray.timeline();
    const failed = events.filter((e) => e.name === "Counter.bigBoom");
    assert.equal(failed.length, 3);
    for (const e of failed) {
      assert.equal(e.args.state, "failed", "not finished: the error went through the node");
      assert.match(String(e.args.error), /RangeError: big boom x{100}/);
      assert.ok(String(e.args.error).length <= 2_100, "the record's text is cut short");
    }
    assert.equal(await ray.get(counter.incr.remote(1)), 1, "the actor keeps running");
  },
);

rayTest("actor calls made by a task are recorded, with the task as their parent", async () => {
  const recorder = RecorderActor.remote();
  assert.equal(await ray.get(pushMany.remote(recorder, "t", 5)), 5);
  const events = await ray.timeline();
  const pushes = events.filter((e) => e.ph === "X" && e.name === "Recorder.push");
  assert.equal(pushes.length, 5);
  const dot = await ray.graph();
  assert.equal(boxes(dot), 6, "the task and its five calls");
  assert.equal(
    dot.match(/"op-root" -> /g)?.length,
    1,
    "the calls hang off the task, not the driver",
  );
});

Deno.test({
  name: "the dashboard counts a running actor call as running, then as finished",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const info = await ray.init({ numWorkers: 1, dashboard: { port: 0 } });
    try {
      const state = async () => (await (await fetch(`${info.dashboardUrl}api/state`)).json());
      const counter = CounterActor.remote();
      const ref = counter.slowIncr.remote(1, 1500);
      let running = 0;
      for (let i = 0; i < 50 && running === 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
        running = (await state()).summary.tasks.byFunction["Counter.slowIncr"]?.running ?? 0;
      }
      assert.equal(running, 1, "listed as running within about 100 ms of being written");
      assert.equal(await ray.get(ref), 1);
      await assert.rejects(ray.get(counter.boom.remote()), ray.RayTaskError);
      await new Promise((r) => setTimeout(r, 100)); // the driver's records reach the store in batches
      const after = await state();
      assert.deepEqual(after.summary.tasks.byFunction["Counter.slowIncr"], { finished: 1 });
      const failure = after.failures.find((f: { name: string }) => f.name === "Counter.boom");
      assert.match(failure.error, /boom from a method/);
    } finally {
      await ray.shutdown();
    }
  },
});
