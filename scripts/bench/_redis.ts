/**
 * A private `redis-server` for the Redis benchmarks: started on a free
 * loopback port, without persistence, and stopped by pid. Private to
 * scripts/bench/.
 *
 * @module
 */

/** A running redis-server. */
export interface BenchRedis {
  /** `redis://127.0.0.1:PORT`. */
  url: string;
  /** Stops it by pid and waits for it to exit. */
  stop: () => Promise<void>;
}

/** Starts redis-server (from PATH) on a free port and waits until it accepts connections. */
export async function startRedisServer(): Promise<BenchRedis> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const child = new Deno.Command("redis-server", {
    args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  for (let i = 0; i < 100; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      Deno.kill(child.pid, "SIGTERM");
      await child.status;
    },
  };
}
