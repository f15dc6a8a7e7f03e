import assert from "node:assert/strict";
import { objectIdOf, type TaskId } from "../../runtime/common/mod.ts";
import type { TaskState } from "../../runtime/gcs/mod.ts";
import { buildGraph, type GraphTask, renderSvg } from "../../runtime/observability/mod.ts";

let counter = 0;
/** A hand-made task record: `returns` return objects, `deps` consumed, launched by `parent`. */
function task(
  name: string,
  options: { deps?: string[]; parent?: TaskId; returns?: number; state?: TaskState } = {},
): GraphTask {
  const taskId = `00000000000000aa${(++counter).toString(16).padStart(8, "0")}` as TaskId;
  return {
    taskId,
    name,
    state: options.state ?? "finished",
    parentTaskId: options.parent,
    deps: (options.deps ?? []) as never,
    returns: Array.from({ length: options.returns ?? 1 }, (_, i) => objectIdOf(taskId, i)),
    submittedAt: counter,
  };
}

const count = (dot: string, re: RegExp) => dot.match(re)?.length ?? 0;
const boxes = (dot: string) => count(dot, /^ {2}"t:[^"]*" \[shape=box/gm);
const ovals = (dot: string) => count(dot, /shape=ellipse/g);
const dashed = (dot: string) => count(dot, /\[style=dashed/g);
const solid = (dot: string) => count(dot, /^ {2}"[^"]+" -> "[^"]+";$/gm);

Deno.test("buildGraph() draws ten independent tasks as the tutorial's figure", () => {
  const tasks = Array.from({ length: 10 }, () => task("sleep"));
  const dot = buildGraph(tasks);
  assert.match(dot, /^digraph rayd \{/);
  assert.match(dot, /"op-root" \[shape=box/);
  assert.equal(boxes(dot), 10);
  assert.equal(ovals(dot), 10);
  assert.equal(dashed(dot), 10, "op-root launched each task");
  assert.equal(solid(dot), 10, "each task produced one object");
  for (const t of tasks) {
    assert.ok(dot.includes(`"op-root" -> "t:${t.taskId}" [style=dashed];`));
    assert.ok(dot.includes(`"t:${t.taskId}" -> "o:${t.returns[0]}";`));
  }
  assert.equal(count(dot, /label="sleep"/g), 10, "boxes are labelled with the function name");
});

Deno.test("buildGraph() draws dot(zeros, zeros) with objects feeding the consumer", () => {
  const a = task("zeros");
  const b = task("zeros");
  const c = task("dot", { deps: [a.returns[0], b.returns[0]] });
  const dot = buildGraph([c, b, a]);
  assert.equal(boxes(dot), 3);
  assert.equal(ovals(dot), 3);
  assert.equal(dashed(dot), 3);
  assert.ok(dot.includes(`"o:${a.returns[0]}" -> "t:${c.taskId}";`));
  assert.ok(dot.includes(`"o:${b.returns[0]}" -> "t:${c.taskId}";`));
  assert.ok(dot.includes(`"t:${c.taskId}" -> "o:${c.returns[0]}";`));
  assert.ok(dot.indexOf(`"t:${a.taskId}"`) < dot.indexOf(`"t:${c.taskId}"`), "by submit time");
});

Deno.test("buildGraph() draws nested tasks launched from their parent task", () => {
  const run = task("run_experiment");
  const subs = Array.from({ length: 3 }, () => task("sub_experiment", { parent: run.taskId }));
  const dot = buildGraph([run, ...subs]);
  for (const s of subs) {
    assert.ok(dot.includes(`"t:${run.taskId}" -> "t:${s.taskId}" [style=dashed];`));
  }
  assert.equal(count(dot, /"op-root" -> /g), 1);
});

Deno.test("buildGraph() gives a task whose parent record is gone a stand-in parent", () => {
  const orphan = task("child", { parent: "ffffffffffffffffffffffff" as TaskId });
  const dot = buildGraph([orphan]);
  assert.match(dot, /"t:ffffffffffffffffffffffff" \[shape=box, style=dashed, label="\(not kept\)"/);
  assert.ok(dot.includes(`"t:ffffffffffffffffffffffff" -> "t:${orphan.taskId}" [style=dashed];`));
});

Deno.test("buildGraph() draws put objects that tasks consumed as labelled ovals", () => {
  const putId = objectIdOf("00000000000000bb00000007" as TaskId, 0xffff);
  const t = task("add", { deps: [putId] });
  const dot = buildGraph([t]);
  assert.match(dot, new RegExp(`"o:${putId}" \\[shape=ellipse, label="put 7"`));
  assert.ok(dot.includes(`"o:${putId}" -> "t:${t.taskId}";`));
});

Deno.test("buildGraph() labels objects of a multi-return task by index", () => {
  const t = task("three", { returns: 3 });
  const dot = buildGraph([t]);
  assert.equal(ovals(dot), 3);
  const n = parseInt(t.taskId.slice(-8), 16).toString(16);
  assert.ok(dot.includes(`label="${n}/2"`));
});

Deno.test("buildGraph() colours failed and running tasks", () => {
  const dot = buildGraph([task("bad", { state: "failed" }), task("busy", { state: "running" })]);
  assert.match(dot, /label="bad", class="task failed", style="filled", fillcolor="#f4b6b6"/);
  assert.match(dot, /label="busy", class="task running", style="filled"/);
});

Deno.test("buildGraph() collapses one function at one depth into a counted box past the limit", () => {
  const drivers = Array.from({ length: 5 }, () => task("run_experiment"));
  const subs = drivers.flatMap((d) =>
    Array.from({ length: 10 }, () => task("sub_experiment", { parent: d.taskId }))
  );
  const merge = task("merge", { deps: drivers.map((d) => d.returns[0]) });
  const dot = buildGraph([...drivers, ...subs, merge], { collapseAbove: 20 });
  assert.match(dot, /"g0" \[shape=box, label="run_experiment \u00d75"/);
  assert.match(dot, /"g1" \[shape=box, label="sub_experiment \u00d750"/);
  assert.match(dot, /"g2" \[shape=box, label="merge"/);
  assert.match(dot, /"g0:0" \[shape=ellipse, label="5 objects"/);
  assert.match(dot, /"g1:0" \[shape=ellipse, label="50 objects"/);
  assert.match(dot, /"op-root" -> "g0" \[style=dashed, label="\u00d75"\];/);
  assert.match(dot, /"g0" -> "g1" \[style=dashed, label="\u00d750"\];/);
  assert.match(dot, /"g0:0" -> "g2" \[label="\u00d75"\];/);
  assert.equal(count(dot, /shape=box/g), 4, "op-root and three groups, whatever the task count");
  assert.equal(
    buildGraph([...drivers, ...subs, merge], { collapseAbove: 100 }).includes("g0"),
    false,
  );
});

Deno.test("buildGraph() keeps only the lineage of the given objects", () => {
  const noise = task("noise");
  const a = task("zeros");
  const b = task("zeros");
  const c = task("dot", { deps: [a.returns[0], b.returns[0]] });
  const child = task("inner", { parent: c.taskId });
  const dot = buildGraph([noise, a, b, c, child], { objects: [c.returns[0]] });
  assert.equal(boxes(dot), 4);
  assert.equal(dot.includes(noise.taskId), false);
  assert.ok(dot.includes(`"t:${c.taskId}" -> "t:${child.taskId}" [style=dashed];`));
});

Deno.test("buildGraph() escapes quotes and backslashes in names", () => {
  const dot = buildGraph([task('say "hi"\\')]);
  assert.ok(dot.includes('label="say \\"hi\\"\\\\"'));
});

Deno.test("buildGraph() of no tasks is op-root alone, and renderSvg() lays it out", async () => {
  const dot = buildGraph([]);
  assert.equal(boxes(dot), 0);
  const svg = await renderSvg(dot);
  assert.match(svg, /<svg/);
  assert.match(svg, /op&#45;root/);
});

Deno.test("renderSvg() draws boxes as polygons and objects as ellipses", async () => {
  const a = task("zeros");
  const c = task("dot", { deps: [a.returns[0]] });
  const svg = await renderSvg(buildGraph([a, c]));
  assert.match(svg, /class="node task finished">\s*<title>t:[0-9a-f]+<\/title>[^]*?<polygon/);
  assert.match(svg, /<ellipse/);
  assert.match(svg, /stroke-dasharray/, "the launched edges are dashed");
  assert.match(svg, />dot</);
});

Deno.test("renderSvg() rejects DOT it cannot parse with a clear message", async () => {
  await assert.rejects(renderSvg("digraph { a -> }"), /Cannot render graph: Graphviz rejected/);
});
