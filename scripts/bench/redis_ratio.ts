/**
 * `deno task bench:redis`: async task throughput of an embedded cluster
 * whose control store is in Redis, against one whose store is in memory,
 * measured in the same run (issue: writes must stay off the hot path).
 *
 * Starts its own `redis-server` on a free loopback port and stops it by pid.
 *
 * @module
 */
import * as ray from "../../mod.ts";
import { FULL, measure, QUICK } from "./_measure.ts";
import { noop } from "./_remote.ts";
import { startRedisServer } from "./_redis.ts";

const TASKS = 1000;

async function throughput(redisAddress: string | undefined, quick: boolean): Promise<number> {
  await ray.init({ redisAddress });
  try {
    const m = await measure(async () => {
      const refs = [];
      for (let i = 0; i < TASKS; i++) refs.push(noop.remote());
      await ray.get(refs);
      return TASKS;
    }, quick ? QUICK : FULL);
    return m.value;
  } finally {
    await ray.shutdown();
  }
}

/** Measures both, alternating, and returns the medians and their ratio. */
export async function redisRatio(quick = false): Promise<
  { memory: number; redis: number; ratio: number }
> {
  const redis = await startRedisServer();
  try {
    const memory: number[] = [];
    const withRedis: number[] = [];
    for (let round = 0; round < (quick ? 1 : 3); round++) {
      memory.push(await throughput(undefined, quick));
      withRedis.push(await throughput(redis.url, quick));
    }
    const mid = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const m = mid(memory);
    const r = mid(withRedis);
    return { memory: m, redis: r, ratio: r / m };
  } finally {
    await redis.stop();
  }
}

async function haveRedis(): Promise<boolean> {
  try {
    return (await new Deno.Command("redis-server", { args: ["--version"], stdout: "null" })
      .output())
      .success;
  } catch {
    return false;
  }
}

if (import.meta.main) {
  if (!(await haveRedis())) {
    console.log("skipped: redis-server not on PATH (apt-get install -y redis-server)");
    Deno.exit(0);
  }
  const result = await redisRatio(Deno.args.includes("--quick"));
  if (Deno.args.includes("--json")) {
    console.log(JSON.stringify(result));
  } else {
    console.log(
      `single_client_tasks_async, control store in memory: ${result.memory.toFixed(0)} tasks/s`,
    );
    console.log(
      `single_client_tasks_async, control store in Redis:  ${result.redis.toFixed(0)} tasks/s`,
    );
    console.log(`ratio Redis / memory: ${result.ratio.toFixed(2)}x`);
  }
}
