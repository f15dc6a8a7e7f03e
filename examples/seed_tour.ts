/**
 * A tour of the Ray tutorial (Ray Core's walkthrough) in rayd: every example of the
 * tutorial runs for real, and each result is printed beside the value the
 * tutorial shows. The process exits non-zero when any result differs.
 *
 * Run it with `deno task demo`, or `deno run -A examples/seed_tour.ts [graph-dir]`
 * to choose where the computation graphs are written.
 *
 * The remote functions are declared at the top level of this module: workers
 * import the module to find them, and the driver code at the bottom runs only
 * when this file is the main module.
 *
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import * as ray from "../mod.ts";

// ---------------------------------------------------------------------------
// Remote functions of the tutorial

/** "Remote functions": add two numbers. */
const add = ray.remote(function add(a: number, b: number) {
  return a + b;
});

/** "Remote functions": one task, three returned objects. */
const returnMultiple = ray.remote(function returnMultiple() {
  return [0, 0.0, "zero"];
}, { numReturns: 3 });

/** "Blocking computation": a wrapper around a timer, standing in for real work. */
const sleep = ray.remote(async function sleep(seconds: number) {
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  return 0;
});

/** A dense row-major matrix: what numpy arrays are in the tutorial. */
interface Matrix {
  rows: number;
  cols: number;
  data: Float64Array;
}

/** "Computation graphs": a matrix of zeros, like `np.zeros(shape)`. */
const zeros = ray.remote(function zeros([rows, cols]: [number, number]): Matrix {
  return { rows, cols, data: new Float64Array(rows * cols) };
});

/** "Computation graphs": the matrix product, like `np.dot(a, b)`. */
const dot = ray.remote(function dot(a: Matrix, b: Matrix): Matrix {
  if (a.cols !== b.rows) throw new RangeError(`Cannot multiply ${shape(a)} by ${shape(b)}`);
  const out = new Float64Array(a.rows * b.cols);
  for (let i = 0; i < a.rows; i++) {
    for (let k = 0; k < a.cols; k++) {
      const aik = a.data[i * a.cols + k];
      for (let j = 0; j < b.cols; j++) out[i * b.cols + j] += aik * b.data[k * b.cols + j];
    }
  }
  return { rows: a.rows, cols: b.cols, data: out };
});

/** "Remote functions within remote functions": the jth sub-experiment of experiment i. */
const subExperiment = ray.remote(function subExperiment(i: number, j: number) {
  return i + j;
});

/** Runs ten sub-experiments in parallel and sums their results. */
const runExperiment = ray.remote(async function runExperiment(i: number) {
  const subResults = [];
  for (let j = 0; j < 10; j++) subResults.push(subExperiment.remote(i, j));
  const values = await ray.get(subResults);
  return values.reduce((sum, v) => sum + v, 0);
});

// ---------------------------------------------------------------------------
// Printing results beside the tutorial's values

const SLEEP_DEADLINE_S = 6;

let failures = 0;

function shape(m: Matrix): string {
  return `${m.rows}x${m.cols}`;
}

function summarize(m: Matrix): string {
  return m.data.every((x) => x === 0) ? `${shape(m)} zeros` : `${shape(m)} matrix`;
}

/**
 * Prints one line, `expression -> ours   (seed: theirs)`, and counts a
 * failure when `ok` is false.
 */
function report(expression: string, ours: string, seed: string, ok: boolean): void {
  if (!ok) failures++;
  const mark = ok ? " " : "✗";
  console.log(`${mark} ${expression.padEnd(44)} -> ${ours.padEnd(26)} (seed: ${seed})`);
}

/** Reports `actual` against `expected`, deep strict equality deciding. */
function check(expression: string, actual: unknown, expected: unknown, seed: string): void {
  report(expression, JSON.stringify(actual), seed, isDeepStrictEqual(actual, expected));
}

function section(title: string): void {
  console.log(`\n${title}`);
}

/**
 * Writes the computation graph behind `refs` as Graphviz DOT and as SVG
 * (laid out by Graphviz in WebAssembly), and checks it against the tutorial's
 * figure: op-root, `tasks` boxes and `objects` ovals.
 */
async function writeGraph(
  dir: string,
  name: string,
  refs: ray.ObjectRef<unknown>[],
  shape: { tasks: number; objects: number },
): Promise<void> {
  const dotText = await ray.graph({ refs });
  const svg = await ray.graph({ refs, format: "svg" });
  await Deno.writeTextFile(`${dir}/${name}.dot`, dotText);
  await Deno.writeTextFile(`${dir}/${name}.svg`, svg);
  const tasks = dotText.match(/^ {2}"t:[^"]*" \[shape=box/gm)?.length ?? 0;
  const objects = dotText.match(/shape=ellipse/g)?.length ?? 0;
  const ours = `op-root, ${tasks} tasks, ${objects} objects`;
  const seed = `op-root, ${shape.tasks} tasks, ${shape.objects} objects`;
  report(`ray.graph() -> ${name}.dot`, ours, seed, dotText.includes('"op-root"') && ours === seed);
  console.log(`  written to ${dir}/${name}.dot and ${name}.svg`);
}

// ---------------------------------------------------------------------------
// The tour

async function tour(graphDir: string): Promise<void> {
  section("Starting Ray: a scheduler, one object store and ten workers");
  const info = await ray.init({ numWorkers: 10 });
  report(
    "ray.init({ numWorkers: 10 })",
    `${info.numWorkers} workers`,
    "ten workers",
    info.numWorkers === 10,
  );

  section("Put and get");
  const x = [1, 2, 3];
  const xId = ray.put(x);
  report("ray.put(x)", String(xId), "<ray.ObjectID at 0x1031baef0>", xId instanceof ray.ObjectRef);
  check("ray.get(x_id)", await ray.get(xId), [1, 2, 3], "[1, 2, 3]");
  const resultIds = Array.from({ length: 10 }, (_, i) => ray.put(i));
  check(
    "ray.get(result_ids)",
    await ray.get(resultIds),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    "[0, 1, ..., 9]",
  );

  section("Remote functions");
  check("ray.get(add.remote(1, 2))", await ray.get(add.remote(1, 2)), 3, "3");
  check("ray.get(add.remote(1, ray.put(2)))", await ray.get(add.remote(1, ray.put(2))), 3, "3");
  check(
    "ray.get(add.remote(ray.put(1), ray.put(2)))",
    await ray.get(add.remote(ray.put(1), ray.put(2))),
    3,
    "3",
  );
  const [aId, bId, cId] = returnMultiple.remote() as unknown as ray.ObjectRef<number | string>[];
  check(
    "ray.get([a_id, b_id, c_id])",
    await ray.get([aId, bId, cId]),
    [0, 0.0, "zero"],
    '0, 0.0, "zero"',
  );

  section("Blocking computation: ten 2-second sleeps on ten workers");
  const start = performance.now();
  const sleepIds = [];
  for (let i = 0; i < 10; i++) sleepIds.push(sleep.remote(2));
  const submitted = (performance.now() - start) / 1000;
  const slept = await ray.get(sleepIds);
  const elapsed = (performance.now() - start) / 1000;
  check("ray.get(result_ids)", slept, Array(10).fill(0), "[0, 0, 0, 0, 0, 0, 0, 0, 0, 0]");
  report(
    "submitting the ten tasks",
    `${submitted.toFixed(3)} s`,
    "almost immediately",
    submitted < 1,
  );
  report(
    "running the ten tasks",
    `${elapsed.toFixed(2)} s`,
    "2 seconds",
    elapsed <= SLEEP_DEADLINE_S,
  );
  await writeGraph(graphDir, "sleep", sleepIds, { tasks: 10, objects: 10 });

  section("Computation graphs: zeros and dot");
  const matA = zeros.remote([10, 10]);
  const matB = zeros.remote([10, 10]);
  const matC = dot.remote(matA, matB);
  const [a, b, c] = await ray.get([matA, matB, matC]);
  for (const [name, m] of [["a_id", a], ["b_id", b], ["c_id", c]] as const) {
    const ours = summarize(m);
    report(`ray.get(${name})`, ours, "10x10 zeros", ours === "10x10 zeros");
  }
  await writeGraph(graphDir, "zeros_dot", [matC], { tasks: 3, objects: 3 });

  section("Remote functions within remote functions");
  const results = Array.from({ length: 5 }, (_, i) => runExperiment.remote(i));
  check("ray.get(results)", await ray.get(results), [45, 55, 65, 75, 85], "[45, 55, 65, 75, 85]");
}

if (import.meta.main) {
  const graphDir = Deno.args[0] ?? (await Deno.makeTempDir({ prefix: "rayd_seed_tour_" }));
  await Deno.mkdir(graphDir, { recursive: true });
  console.log("rayd seed tour: the Ray tutorial's examples, our result beside the tutorial's");
  try {
    await tour(graphDir);
  } finally {
    await ray.shutdown();
  }
  console.log(failures === 0 ? "\nAll results match the seed." : `\n${failures} result(s) differ.`);
  if (failures > 0) Deno.exitCode = 1;
}
