/**
 * All settings in one table: name, type, default, meaning, and the
 * `RAYD_<NAME>` environment variable that overrides the default.
 *
 * @module
 */

/** One setting's description. */
export interface Setting<T extends number | string | boolean> {
  /** Default when neither the caller nor the environment sets it. */
  readonly default: T | (() => T);
  /** One line of meaning. */
  readonly doc: string;
}

const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;

/** The settings table. */
export const settings = {
  inlineObjectMaxBytes: {
    default: 100 * KIB,
    doc:
      "values whose serialized size is below this travel inline in messages; larger go to the store",
  },
  outOfBandMinBytes: {
    default: 4 * KIB,
    doc: "typed arrays at least this big are written as raw bytes beside the msgpack header",
  },
  objectStoreMemory: {
    default: () => Math.floor(systemMemory() * 0.3),
    doc: "most bytes the node's shared object store may grow to (default 30% of system memory)",
  },
  objectStoreInitialBytes: {
    default: 64 * MIB,
    doc: "bytes the shared object store starts with before growing",
  },
  spillSmallObjectBytes: {
    default: 1 * MIB,
    doc: "objects spilled to disk smaller than this share batch files; larger ones get a file each",
  },
  spillFileBytes: {
    default: 64 * MIB,
    doc: "a batch spill file takes small objects until it holds this many bytes",
  },
  spillMinBytes: {
    default: 8 * MIB,
    doc:
      "a full store spills at least this many bytes at a time (at most 1/8 of objectStoreMemory), so small puts write in batches",
  },
  spillRetryGcMs: {
    default: 20,
    doc:
      "a get that finds the store full of pinned objects collects garbage in every thread and retries after this long",
  },
  spillRetryGcRounds: {
    default: 3,
    doc:
      "times a get retries after collecting garbage before it reads a heap copy (a worker's put: goes to disk)",
  },
  spillWaitPollMs: {
    default: 50,
    doc:
      "a worker waiting for the node to make room checks this often whether the node is shutting down",
  },
  numWorkers: {
    default: () => navigator.hardwareConcurrency || 1,
    doc: "Web Workers a node starts (default: the number of logical CPUs)",
  },
  workerStartTimeoutMs: {
    default: 30_000,
    doc: "how long a worker may take to start before the node gives up on it",
  },
  gcAfterStoreFraction: {
    default: 0.125,
    doc:
      "collect garbage in every thread once the store grew by this fraction of objectStoreMemory (bytes sealed minus bytes freed) since the last time, unless V8 collected on its own meanwhile",
  },
  gcAfterStoreMinBytes: {
    default: 256 * MIB,
    doc:
      "the growth that makes every thread collect garbage is at least this many bytes (or the whole store when smaller: it collects when full)",
  },
  gcBeforeFreshBytes: {
    default: 512 * MIB,
    doc:
      "before a put in the node's thread writes memory no object used yet, it frees the refs it dropped (a garbage collection) if it stored this many bytes since it last did (doubled after a try that freed little; 0: never)",
  },
  workerPoolGrowth: {
    default: 4,
    doc:
      "a node may start up to this many times numWorkers workers when ready work fits but none is idle",
  },
  cancelGraceMs: {
    default: 5_000,
    doc:
      "a cancelled task still running this long after ray.cancel (it ignores its signal, or never yields) has its worker replaced",
  },
  pullRequestTimeoutMs: {
    default: 10_000,
    doc:
      "in cluster mode, a holder that sends no chunk of an object being pulled for this long is left for another copy",
  },
  pullDeadlineMs: {
    default: 30_000,
    doc:
      "in cluster mode, a pull that found no copy to take the object from within this long of its first failed try seals it as lost (ObjectLostError)",
  },
  pullAdmitFallbackMs: {
    default: 2_000,
    doc:
      "in cluster mode, a get's or wait's pull that found no room in the store for this long takes memory of its own (the node keeps it on disk)",
  },
  drainTimeoutMs: {
    default: 8_000,
    doc:
      "a `rayd start` node sent SIGTERM takes no new work and lets its running tasks finish for up to this long, then stops",
  },
  lineageMaxBytes: {
    default: GIB,
    doc:
      "in cluster mode, an owner keeps the specs of finished tasks (to make their results again if every copy is lost) up to this many bytes; past it the oldest are let go, and their results can no longer be rebuilt",
  },
  headReconnectTimeoutMs: {
    default: 60_000,
    doc:
      "in cluster mode, a node or driver whose link to the head closed dials it again for up to this long (a head restart), running its work meanwhile; then it stops",
  },
  batchBelowMs: {
    default: 1,
    doc:
      "tasks of functions whose average run time is below this are handed to a worker in batches",
  },
  maxBatch: {
    default: 256,
    doc: "most tasks handed to one worker in one message",
  },
  sharedActorsPerWorker: {
    default: 100,
    doc: "most actors with shareWorker: true on one worker thread (a new worker starts past it)",
  },
  actorCallBatch: {
    default: 256,
    doc:
      "method calls queued for an actor are sent to its worker as soon as this many are ready, in one message",
  },
  channelBytes: {
    default: 256 * KIB,
    doc:
      "size of each direction of a worker's or actor's shared-memory work channel (a power of two); bigger batches go by message",
  },
  linkBytes: {
    default: 64 * KIB,
    doc:
      "size of each direction of a call link (a worker's calls to one actor, a power of two); arguments and results over an eighth of it go through the node's store",
  },
  leasedTasks: {
    default: 0,
    doc:
      "1: the driver pushes its tasks straight to pool workers it leases from the node, and owns their results, instead of handing each task to the node's scheduler; 2: tasks and actors do too (embedded mode)",
  },
  blockedAfterMs: {
    default: 10,
    doc:
      "a task whose wait for results its worker owns (actor calls) lasts this long gives its CPU back meanwhile",
  },
  idleSpinMicros: {
    default: 100,
    doc:
      "an idle worker or actor spins this long for its next task or call before it sleeps, while they come that often",
  },
  getSpinMicros: {
    default: 200,
    doc:
      "a get of results of running tasks (in a driver) or of actor calls (anywhere, with at most 2 out) spins on their channels this long before it waits",
  },
  gcsMaxFinishedTasks: {
    default: 10_000,
    doc: "finished task records the control store keeps (unpinned older ones are dropped)",
  },
  gcsTaskHistoryMax: { default: 32, doc: "state transitions kept per task record" },
  gcsFlushIntervalMs: {
    default: 10,
    doc: "longest time a control-store event waits before its batch is written",
  },
  gcsTaskHoldMs: {
    default: 0,
    doc:
      "how long a submitted task's control-store record may wait for the task's end before it is written (Redis; 0: not at all): a task that ends by then is one write, not one per state change, but readers in other processes see it only then",
  },
  gcsBatchMax: { default: 2_000, doc: "most control-store events written in one Redis round trip" },
  gcsQueueMax: {
    default: 100_000,
    doc:
      "queued control-store writes (a task's merged changes count once; tasks still waiting or running do not) past which the node stops starting tasks until half are written (Redis)",
  },
  gcsRedisConnectTimeoutMs: {
    default: 5_000,
    doc: "deadline for connecting to Redis and checking it",
  },
  gcsRedisCommandTimeoutMs: {
    default: 3_000,
    doc: "deadline of each Redis command (a frozen Redis fails calls after it instead of hanging)",
  },
  gcsRedisRetryMaxMs: { default: 1_000, doc: "longest pause between retries while Redis is down" },
  gcsListLimit: { default: 100, doc: "records a state query returns when no limit is given" },
  graphCollapseAbove: {
    default: 60,
    doc:
      "past this many tasks, ray.graph() draws the tasks of one function at one depth as one box with a count",
  },
  dashboardPort: { default: 8265, doc: "port of the dashboard (0 = any free port)" },
  dashboardRefreshMs: { default: 1_000, doc: "how often the dashboard page refreshes itself" },
  dashboardFailures: { default: 10, doc: "latest failed tasks the dashboard shows" },
  progressMinRefs: {
    default: 1_000,
    doc: "a get or wait over at least this many refs shows a progress bar on a terminal",
  },
  progressIntervalMs: { default: 200, doc: "how often a progress bar is redrawn" },
} satisfies Record<string, Setting<number | string | boolean>>;

/** A setting's name. */
export type SettingName = keyof typeof settings;

function systemMemory(): number {
  try {
    return Deno.systemMemoryInfo().total;
  } catch {
    return 8 * 1024 * MIB;
  }
}

function envName(name: string): string {
  return "RAYD_" + name.replace(/[A-Z]/g, (c) => "_" + c).toUpperCase();
}

function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(envName(name));
  } catch {
    return undefined;
  }
}

/** Values set in this JS realm by `overrideSetting`, over the environment. */
const overrides = new Map<SettingName, number>();

/**
 * Sets `name` to `value` in this thread only (this JS realm), over its
 * environment variable, until set again or cleared with `undefined`. For
 * tests: the test files that `deno test --parallel` runs at once share one
 * process and so one environment, and a variable one file sets for a test
 * reaches every node another file starts meanwhile. Settings read in worker
 * threads do not see it.
 */
export function overrideSetting(name: SettingName, value: number | undefined): void {
  if (value === undefined) overrides.delete(name);
  else overrides.set(name, value);
}

/**
 * The value of setting `name`: an `overrideSetting` value, else the environment override if set,
 * else the default.
 *
 * @example
 * ```ts
 * import { config } from "./config.ts";
 * const limit: number = config("inlineObjectMaxBytes");
 * ```
 */
export function config<K extends SettingName>(name: K): number {
  const setting: Setting<number> = settings[name];
  if (overrides.size !== 0 && overrides.has(name)) return overrides.get(name)!;
  const raw = readEnv(name);
  if (raw !== undefined && raw.trim() !== "") {
    const n = Number(raw);
    if (!Number.isFinite(n)) {
      throw new TypeError(`Invalid ${envName(name)}: expected a number, got "${raw}"`);
    }
    return n;
  }
  return typeof setting.default === "function" ? setting.default() : setting.default;
}

/** Name of the environment variable that overrides `name`. */
export function settingEnvName(name: SettingName): string {
  return envName(name);
}
