import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import * as ray from "../../mod.ts";
import { setProgressHook } from "../../runtime/core/mod.ts";
import { add, boom, dot, fanOut, sleep, zeros } from "../fixtures/observability_fns.ts";
import { rayTest } from "./_with_ray.ts";

const boxes = (dot: string) => dot.match(/^ {2}"t:[^"]*" \[shape=box/gm)?.length ?? 0;
const ovals = (dot: string) => dot.match(/shape=ellipse/g)?.length ?? 0;

rayTest("graph() of ten independent sleeps is op-root launching ten tasks", async () => {
  const refs = Array.from({ length: 10 }, () => sleep.remote(1));
  await ray.get(refs);
  const text = await ray.graph();
  assert.match(text, /^digraph rayd \{/);
  assert.equal(boxes(text), 10);
  assert.equal(ovals(text), 10);
  assert.equal(text.match(/"op-root" -> "t:[0-9a-f]+" \[style=dashed\]/g)?.length, 10);
  for (const r of refs) assert.ok(text.includes(`"o:${r.hex()}"`), "objects are named by id");
});

rayTest(
  "graph({ refs }) of dot(zeros, zeros) shows the dependency, and renders to SVG",
  async () => {
    await ray.get(sleep.remote(1));
    const a = zeros.remote(10);
    const b = zeros.remote(10);
    const c = dot.remote(a, b);
    assert.equal(await ray.get(c), 0);
    const text = await ray.graph({ refs: [c] });
    assert.equal(boxes(text), 3, "the earlier sleep is not part of c's lineage");
    assert.equal(ovals(text), 3);
    assert.ok(text.includes(`"o:${a.hex()}" -> "t:`));
    assert.ok(text.includes(`"o:${b.hex()}" -> "t:`));
    const svg = await ray.graph({ refs: [c], format: "svg" });
    assert.match(svg, /^<\?xml/);
    assert.equal(svg.match(/<ellipse/g)?.length, 3);
    await assert.rejects(ray.graph({ format: "png" as never }), TypeError);
  },
);

rayTest(
  "graph() draws tasks launched inside tasks from their parent, and collapses big jobs",
  async () => {
    assert.equal(await ray.get(fanOut.remote(30)), 465);
    const text = await ray.graph({ collapseAbove: 1000 });
    assert.equal(boxes(text), 31);
    assert.equal(text.match(/"op-root" -> /g)?.length, 1, "the driver launched only fanOut");
    const small = await ray.graph({ collapseAbove: 10 });
    assert.match(small, /label="add \u00d730"/);
    assert.match(small, /label="fanOut"/);
  },
);

rayTest(
  "timeline(path) writes Chrome trace events: a slice per task on its worker's row",
  async () => {
    await ray.get(Array.from({ length: 6 }, () => sleep.remote(20)));
    const path = await Deno.makeTempFile({ suffix: ".json" });
    try {
      const events = await ray.timeline(path);
      assert.deepEqual(JSON.parse(await Deno.readTextFile(path)), events);
      const slices = events.filter((e) => e.ph === "X");
      assert.equal(slices.length, 6);
      for (const e of slices) {
        assert.equal(e.name, "sleep");
        assert.equal(e.cat, "task");
        assert.ok(e.dur! >= 15_000, `a 20 ms sleep lasts about 20 ms (${e.dur} us)`);
        assert.ok(e.ts > 1e15, "microseconds since the epoch");
        assert.equal(typeof e.args.taskId, "string");
        assert.ok((e.args.waitMs as number) >= 0);
      }
      const rows = events.filter((e) => e.ph === "M" && e.name === "thread_name");
      assert.deepEqual(
        new Set(slices.map((e) => e.tid)),
        new Set(rows.map((e) => e.tid)),
        "every slice is on a named worker row",
      );
    } finally {
      await Deno.remove(path);
    }
  },
);

rayTest("a failed task's error and remote stack reach the control store", async () => {
  await assert.rejects(ray.get(boom.remote(3)), ray.RayTaskError);
  const failed = (await ray.timeline()).find((e) => e.ph === "X" && e.args.state === "failed");
  assert.ok(failed);
  assert.match(String(failed.args.error), /RangeError: x must be 0, got 3/);
  assert.match(String(failed.args.error), /Remote stack:/);
});

rayTest(
  "get() and wait() over many refs call the progress hook unless progress is false",
  async () => {
    const calls: [string, number][] = [];
    let polled = 0;
    setProgressHook((kind, total, poll) => {
      calls.push([kind, total]);
      poll().then((n) => polled = n);
      return () => calls.push([`${kind} end`, total]);
    });
    try {
      const refs = Array.from({ length: 1000 }, (_, i) => add.remote(i, 0));
      await ray.get(refs);
      await ray.wait(refs, { numReturns: 10 });
      await ray.get(refs, { progress: false });
      await ray.wait(refs, { progress: false });
      assert.deepEqual(calls, [["get", 1000], ["get end", 1000], ["wait", 10], ["wait end", 10]]);
      assert.ok(polled >= 0 && polled <= 1000);
    } finally {
      setProgressHook(undefined);
    }
  },
);

Deno.test({
  name: "init({ dashboard }) serves the dashboard at dashboardUrl until shutdown()",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const info = await ray.init({ numWorkers: 1, dashboard: { port: 0 } });
    let url;
    try {
      assert.match(info.dashboardUrl!, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      url = info.dashboardUrl!;
      await ray.get(add.remote(1, 2));
      const state = await (await fetch(`${url}api/state`)).json();
      assert.equal(state.summary.tasks.byFunction.add.finished, 1);
      assert.equal(state.nodes[0].resources.CPU, 1);
    } finally {
      await ray.shutdown();
    }
    await assert.rejects(fetch(`${url}api/state`), TypeError, "closed by shutdown()");
  },
});

Deno.test({
  name: "init({ dashboard }) on a taken port throws and leaves nothing initialized",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const port = (listener.addr as Deno.NetAddr).port;
      await assert.rejects(
        ray.init({ numWorkers: 1, dashboard: { port } }),
        Deno.errors.AddrInUse,
      );
      assert.equal(ray.isInitialized(), false);
    } finally {
      listener.close();
    }
  },
});

const FIXTURE = fileURLToPath(new URL("../fixtures/observability_fns.ts", import.meta.url));

async function runFixture(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", FIXTURE, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  assert.equal(out.code, 0, text.decode(out.stderr));
  return { stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

Deno.test("a task's console output reaches the driver's terminal prefixed with worker and task", async () => {
  const { stdout, stderr } = await runFixture();
  assert.match(stdout, /^\(worker w1, shout\) hello from a task$/m);
  assert.match(stdout, /^driver got from a task$/m);
  assert.match(stderr, /^\(worker w1, shout\) two\n\(worker w1, shout\) lines$/m);
});

Deno.test("logToDriver: false keeps a task's console output out of the driver's terminal", async () => {
  const { stdout, stderr } = await runFixture("off");
  assert.equal(stdout.includes("hello"), false);
  assert.equal(stderr.includes("lines"), false);
  assert.match(stdout, /^driver got from a task$/m);
});
