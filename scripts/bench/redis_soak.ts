/**
 * `deno run -A scripts/bench/redis_soak.ts [TASKS]`: runs TASKS (default
 * 1,000,000) no-op tasks at full speed on an embedded cluster whose control
 * store is in a fresh Redis, shuts down, then asks `rayd status
 * --redis-address` how many finished. Every one must be counted: the
 * control store never drops records (it slows the cluster instead).
 *
 * Starts its own `redis-server` on a free loopback port and stops it by pid.
 *
 * @module
 */
import * as ray from "../../mod.ts";
import { noop } from "./_remote.ts";
import { startRedisServer } from "./_redis.ts";

/** Tasks in flight at once: the driver submits a window, then gets it. */
const WINDOW = 20_000;

/** What a soak run measured. */
export interface SoakResult {
  /** Tasks run. */
  tasks: number;
  /** Seconds from the first submit until shutdown returned (every record written). */
  seconds: number;
  /** The `Tasks by state` lines of `rayd status`, as counts. */
  byState: Record<string, number>;
  /** What `rayd status` printed. */
  status: string;
}

/** Runs `tasks` no-op tasks with the control store at `redisAddress`, then reads `rayd status`. */
export async function soak(redisAddress: string, tasks: number): Promise<SoakResult> {
  await ray.init({ redisAddress });
  const start = performance.now();
  try {
    for (let done = 0; done < tasks; done += WINDOW) {
      const refs = [];
      for (let i = 0; i < Math.min(WINDOW, tasks - done); i++) refs.push(noop.remote());
      await ray.get(refs);
    }
  } finally {
    await ray.shutdown();
  }
  const seconds = (performance.now() - start) / 1000;
  const cli = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../../cli/main.ts", import.meta.url).pathname, "status"]
      .concat(["--redis-address", redisAddress]),
    stdout: "piped",
    stderr: "piped",
  });
  const out = await cli.output();
  const status = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`rayd status failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  const byState: Record<string, number> = {};
  let inTasks = false;
  for (const line of status.split("\n")) {
    if (line.startsWith("Tasks by state:")) inTasks = true;
    else if (!line.startsWith("  ")) inTasks = false;
    else if (inTasks) {
      const [state, count] = line.trim().split(/\s+/);
      byState[state] = Number(count);
    }
  }
  return { tasks, seconds, byState, status };
}

if (import.meta.main) {
  const tasks = Number(Deno.args[0] ?? 1_000_000);
  if (!Number.isInteger(tasks) || tasks <= 0) {
    console.error(
      `usage: redis_soak.ts [TASKS]: TASKS must be a positive integer, not ${Deno.args[0]}`,
    );
    Deno.exit(2);
  }
  const redis = await startRedisServer();
  try {
    const r = await soak(redis.url, tasks);
    console.log(r.status);
    const finished = r.byState.finished ?? 0;
    console.log(
      `${tasks} no-op tasks with the control store in Redis: ${r.seconds.toFixed(1)} s ` +
        `(${(tasks / r.seconds).toFixed(0)} tasks/s, every record written); ` +
        `rayd status counts ${finished} finished`,
    );
    if (finished !== tasks) Deno.exitCode = 1;
  } finally {
    await redis.stop();
  }
}
