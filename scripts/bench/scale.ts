/**
 * Scale runs: does rayd hold up at sizes the microbenchmarks never reach,
 * and what does it cost in time and memory? Each step runs once on one
 * embedded cluster and reports its wall time and the peak resident memory
 * of the process (`Deno.memoryUsage().rss`, sampled) while it ran.
 *
 * ```sh
 * deno run -A scripts/bench/scale.ts [--json] [--filter REGEX]
 * ```
 *
 * Steps: 1M queued no-op tasks end to end, a task with 10k arguments (by
 * value and by ref), a task returning 3,000 values (`numReturns: 3000`), a
 * get of 10k objects, 1M spilled tasks through the pure global scheduler
 * on 100 and on 1,000 simulated nodes, and a 4 GiB object (put, get, passed to a task) when
 * the machine has the memory; otherwise that step says what it found.
 *
 * @module
 */
import { parseArgs } from "node:util";
import * as ray from "../../mod.ts";
import { machineInfo } from "./_machine.ts";
import { formatNumber, type MachineInfo } from "./_report.ts";
import { Session } from "node:inspector";
import { arrayLength, noop, range, spin, sumArgs, TallyActor } from "./_remote.ts";
import { check } from "./_tasks.ts";
import { runGlobalScheduler } from "./_global_scheduler.ts";

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
/** Tasks of the queued-tasks step. */
const QUEUED_TASKS = 1_000_000;
/** Tasks of the heap-per-queued-task step. */
const HEAP_TASKS = 200_000;
/** How long the heap step keeps every worker busy, in milliseconds (its tasks queue meanwhile). */
const HEAP_SPIN_MS = 12_000;
/** Arguments of the many-arguments step. */
const ARGS = 10_000;
/** Returns of the many-returns step. */
const RETURNS = 3_000;
/** Objects of the many-objects get. */
const OBJECTS = 10_000;
/** Size of the big object. */
const BIG_BYTES = 4 * GIB;
/** Actors of the many-actors step (sharing workers), and of its comparison with a worker each. */
const MANY_ACTORS = 1_000;
const OWN_WORKER_ACTORS = 100;
/** Calls to each actor in the many-actors steps. */
const CALLS_PER_ACTOR = 10;
/** Spilled tasks placed by each global-scheduler step. */
const SPILLED_TASKS = 1_000_000;
/** How often the memory sampler looks, in milliseconds. */
const SAMPLE_MS = 20;

/** What one step did. */
export interface ScaleResult {
  /** Wall time of the whole step. */
  seconds: number;
  /** Highest `rss` seen while the step ran, in bytes. */
  peakRssBytes: number;
  /** `rss` when the step started, in bytes. */
  startRssBytes: number;
  /** What the step found, in words and numbers (rates, partial timings, what it skipped). */
  detail: Record<string, number | string>;
}

/** The JSON of `scale.ts --json`. */
export interface ScaleReport {
  /** Where and on what the steps ran. */
  machine: MachineInfo;
  /** Every step that was selected, by name. */
  results: Record<string, ScaleResult | { skipped: string } | { error: string }>;
}

/** Tracks the peak resident memory: a timer, plus `sample()` from loops that keep the timer from firing. */
class RssSampler {
  peak = Deno.memoryUsage().rss;
  readonly start = this.peak;
  readonly #timer = setInterval(() => this.sample(), SAMPLE_MS);

  sample(): void {
    const rss = Deno.memoryUsage().rss;
    if (rss > this.peak) this.peak = rss;
  }

  stop(): number {
    clearInterval(this.#timer);
    this.sample();
    return this.peak;
  }
}

/** Seconds since `start` (a `performance.now()` reading). */
function since(start: number): number {
  return (performance.now() - start) / 1000;
}

type Step = (rss: RssSampler) => Promise<Record<string, number | string>>;

/** The V8 heap in use after a full collection, in bytes (no flags needed: the inspector asks for it). */
async function heapAfterCollection(): Promise<number> {
  const session = new Session();
  session.connect();
  try {
    await new Promise<void>((resolve, reject) =>
      session.post("HeapProfiler.collectGarbage", (error) => error ? reject(error) : resolve())
    );
  } finally {
    session.disconnect();
  }
  return Deno.memoryUsage().heapUsed;
}

/** The steps by name, in the order they run (the big object last: the store keeps what earlier steps made). */
const STEPS: Record<string, Step> = {
  /**
   * The heap a queued task costs the driver's process (node, scheduler,
   * in-memory control store, and the caller's ref when kept): every worker
   * busy, no-op tasks queued behind them, measured after full collections:
   * first tasks whose refs the caller dropped at once, then as many with
   * their refs kept.
   */
  async queued_task_heap() {
    const busy = Array.from(
      { length: navigator.hardwareConcurrency },
      () => spin.remote(HEAP_SPIN_MS),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const turns = async () => {
      // Let the control store apply the submissions, as it does within a turn or two.
      for (let i = 0; i < 3; i++) await new Promise((resolve) => setTimeout(resolve, 0));
    };
    const start = performance.now();
    const before = await heapAfterCollection();
    // First with the refs dropped at once (the caller's ObjectRefs and their counts go)...
    for (let i = 0; i < HEAP_TASKS; i++) noop.remote();
    await turns();
    await heapAfterCollection();
    await turns(); // the dropped refs' finalizers
    const dropped = await heapAfterCollection();
    // ... then as many more with their refs kept.
    const refs = new Array<ray.ObjectRef<number>>(HEAP_TASKS);
    for (let i = 0; i < HEAP_TASKS; i++) refs[i] = noop.remote();
    await turns();
    const held = await heapAfterCollection();
    const measuredSeconds = since(start);
    if (measuredSeconds * 1000 > HEAP_SPIN_MS) {
      throw new Error(`the workers ran tasks before the heap was measured (${measuredSeconds} s)`);
    }
    check("queued tasks", (await ray.get(refs)).length, HEAP_TASKS);
    await ray.get(busy);
    return {
      tasks: HEAP_TASKS,
      heapBytesPerQueuedTask: (held - dropped) / HEAP_TASKS,
      heapBytesPerQueuedTaskRefsDropped: (dropped - before) / HEAP_TASKS,
    };
  },
  async queued_tasks_1m(rss) {
    const start = performance.now();
    const refs = new Array<ray.ObjectRef<number>>(QUEUED_TASKS);
    for (let i = 0; i < QUEUED_TASKS; i++) {
      refs[i] = noop.remote();
      if (i % 10_000 === 0) rss.sample();
    }
    const submitted = since(start);
    const values = await ray.get(refs);
    const total = since(start);
    check("1M tasks", values.length, QUEUED_TASKS);
    return {
      tasks: QUEUED_TASKS,
      submitSeconds: submitted,
      tasksPerSecond: QUEUED_TASKS / total,
      rssBytesPerTask: (rss.peak - rss.start) / QUEUED_TASKS,
    };
  },
  /**
   * Actors created and called per second: 1,000 actors that share workers
   * (`shareWorker: true`), each called 10 times, all at once; and the
   * longest `.remote()` of a creation (the event loop is blocked while it
   * runs).
   */
  async many_actors(rss) {
    return await manyActors(MANY_ACTORS, true, rss);
  },
  /** The same with 100 actors that each have a worker of their own (the default), to compare. */
  async many_actors_own_workers(rss) {
    return await manyActors(OWN_WORKER_ACTORS, false, rss);
  },
  async task_with_10k_args() {
    const values = Array.from({ length: ARGS }, (_, i) => i);
    const want = (ARGS * (ARGS - 1)) / 2;
    let start = performance.now();
    check("10k args by value", await ray.get(sumArgs.remote(...values)), want);
    const byValue = since(start);
    const refs = values.map((v) => ray.put(v));
    start = performance.now();
    check("10k args by ref", await ray.get(sumArgs.remote(...refs)), want);
    return { args: ARGS, byValueSeconds: byValue, byRefSeconds: since(start) };
  },
  async task_returning_3000_values() {
    const start = performance.now();
    const refs = range.options({ numReturns: RETURNS }).remote(RETURNS) as unknown as ray.ObjectRef<
      number
    >[];
    const submitted = since(start);
    const values = await ray.get(refs);
    check("3000 returns", values.length, RETURNS);
    check("last of 3000 returns", values[RETURNS - 1], RETURNS - 1);
    return { returns: RETURNS, submitSeconds: submitted };
  },
  async get_10k_objects() {
    let start = performance.now();
    const refs = Array.from({ length: OBJECTS }, (_, i) => ray.put({ i }));
    const putSeconds = since(start);
    start = performance.now();
    const values = await ray.get(refs);
    const getSeconds = since(start);
    check("get of 10k objects", values[OBJECTS - 1].i, OBJECTS - 1);
    return { objects: OBJECTS, putSeconds, getSeconds, getsPerSecond: OBJECTS / getSeconds };
  },
  // deno-lint-ignore require-await
  async global_scheduler_100_nodes(rss) {
    return globalSchedulerStep(100, rss);
  },
  // deno-lint-ignore require-await
  async global_scheduler_1000_nodes(rss) {
    return globalSchedulerStep(1000, rss);
  },
  async object_4gib(rss) {
    const available = Deno.systemMemoryInfo().available;
    // The driver's array, the store's copy, and room for everything else.
    const needed = 2 * BIG_BYTES + GIB;
    if (available < needed) {
      return {
        outcome: `not attempted: ${formatNumber(available / GIB)} GiB available, ` +
          `${formatNumber(needed / GIB)} GiB needed`,
      };
    }
    // When 4 GiB fails, halve until a size works, to say where the limit is.
    const detail: Record<string, number | string> = {};
    for (let bytes = BIG_BYTES; bytes >= BIG_BYTES / 4; bytes /= 2) {
      const label = `${bytes / GIB}GiB`;
      try {
        for (const [key, value] of Object.entries(await bigObject(bytes, rss))) {
          detail[`${label}.${key}`] = value;
        }
        detail.outcome = bytes === BIG_BYTES ? "ok" : `4 GiB failed; ${bytes / GIB} GiB worked`;
        return detail;
      } catch (error) {
        const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        detail[`${label}.error`] = message.split("\n")[0];
      }
    }
    detail.outcome = `failed down to ${BIG_BYTES / 4 / GIB} GiB`;
    return detail;
  },
};

/** 1M spilled tasks through the pure global scheduler on `nodes` simulated nodes. */
function globalSchedulerStep(nodes: number, rss: RssSampler): Record<string, number> {
  const run = runGlobalScheduler(nodes, SPILLED_TASKS, () => rss.sample());
  check("global scheduler decisions", run.placed + run.infeasible, SPILLED_TASKS);
  return {
    nodes: run.nodes,
    decisions: run.decisions,
    placed: run.placed,
    decisionsPerSecond: run.decisionsPerSecond,
    rssBytesPerDecision: (rss.peak - rss.start) / SPILLED_TASKS,
  };
}

/** Puts, gets and passes to a task one object of `bytes` bytes; returns the timings. */
async function bigObject(bytes: number, rss: RssSampler): Promise<Record<string, number>> {
  const times: Record<string, number> = {};
  let array: Uint8Array | undefined = new Uint8Array(bytes);
  array[0] = 1;
  array[bytes - 1] = 2;
  rss.sample();
  let start = performance.now();
  const ref = ray.put(array);
  times.putSeconds = since(start);
  times.putGigabytesPerSecond = bytes / 1e9 / times.putSeconds;
  array = undefined;
  rss.sample();
  start = performance.now();
  const back = await ray.get(ref);
  times.getSeconds = since(start);
  check("big object get length", back.length, bytes);
  check("big object last byte", back[bytes - 1], 2);
  start = performance.now();
  check("big object task arg length", await ray.get(arrayLength.remote(ref)), bytes);
  times.taskSeconds = since(start);
  rss.sample();
  return times;
}

/** Store size for the scale runs: room for the big object, if the machine has it. */
function storeBytes(): number | undefined {
  try {
    const total = Deno.systemMemoryInfo().total;
    return Math.max(Math.floor(total * 0.3), Math.min(BIG_BYTES + GIB, Math.floor(total * 0.6)));
  } catch {
    return undefined;
  }
}

/**
 * Runs the scale steps (or those `filter` selects) on one embedded cluster.
 *
 * @param options print JSON instead of lines; which steps; where lines go
 * @returns every step's time, peak memory and findings
 */
export async function runScale(
  options: { json?: boolean; filter?: RegExp; out?: (line: string) => void } = {},
): Promise<ScaleReport> {
  const out = options.out ?? ((line: string) => console.log(line));
  const numWorkers = navigator.hardwareConcurrency;
  const report: ScaleReport = { machine: await machineInfo(numWorkers, false), results: {} };
  await ray.init({ numWorkers, objectStoreMemory: storeBytes() });
  try {
    for (const [name, step] of Object.entries(STEPS)) {
      if (options.filter && !options.filter.test(name)) continue;
      const rss = new RssSampler();
      const start = performance.now();
      try {
        const detail = await step(rss);
        const seconds = since(start);
        report.results[name] = {
          seconds,
          peakRssBytes: rss.stop(),
          startRssBytes: rss.start,
          detail,
        };
      } catch (error) {
        rss.stop();
        const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        report.results[name] = { error: message.split("\n")[0] };
      }
      if (!options.json) out(describe(name, report.results[name]));
    }
  } finally {
    await ray.shutdown();
  }
  if (options.json) out(JSON.stringify(report, null, 2));
  return report;
}

/** Creates `n` actors, calls each CALLS_PER_ACTOR times, checks every count, then kills them. */
async function manyActors(n: number, shareWorker: boolean, rss: RssSampler) {
  const start = performance.now();
  let longestCreateMs = 0;
  const actors = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    actors.push(TallyActor.options({ shareWorker }).remote());
    longestCreateMs = Math.max(longestCreateMs, performance.now() - t);
    if (i % 50 === 0) rss.sample();
  }
  const createSeconds = since(start);
  const refs = [];
  for (let k = 0; k < CALLS_PER_ACTOR; k++) for (const a of actors) refs.push(a.add.remote(1));
  const values = await ray.get(refs);
  const seconds = since(start);
  rss.sample();
  check("calls of many actors", values.slice(-n).filter((v) => v === CALLS_PER_ACTOR).length, n);
  for (const a of actors) await ray.kill(a);
  return {
    actors: n,
    calls: n * CALLS_PER_ACTOR,
    createSeconds,
    actorsPerSecond: n / seconds,
    callsPerSecond: (n * CALLS_PER_ACTOR) / seconds,
    longestCreateMs,
  };
}

function describe(name: string, result: ScaleReport["results"][string]): string {
  if ("error" in result) return `${name}: error: ${result.error}`;
  if ("skipped" in result) return `${name}: skipped: ${result.skipped}`;
  const details = Object.entries(result.detail)
    .map(([k, v]) => `${k}=${typeof v === "number" ? formatNumber(v) : v}`)
    .join(" ");
  return `${name}: ${formatNumber(result.seconds)} s, peak rss ${
    formatNumber(result.peakRssBytes / MIB)
  } MiB (from ${formatNumber(result.startRssBytes / MIB)} MiB); ${details}`;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { json: { type: "boolean" }, filter: { type: "string" } },
  });
  const filter = values.filter === undefined ? undefined : new RegExp(values.filter);
  const report = await runScale({ json: values.json, filter });
  Deno.exitCode = Object.values(report.results).some((r) => "error" in r) ? 1 : 0;
}
