/**
 * `rayd graph` and `rayd timeline`: rendering a DOT file, reading a job from
 * a control store in Redis, and saying what to pass when there is nothing to read.
 */
import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { main } from "../../cli/main.ts";
import { connectRedis } from "../../runtime/gcs/mod.ts";
import { REDIS_SERVER, startRedis } from "../gcs/redis_server.ts";
import { add, dot, zeros } from "../fixtures/observability_fns.ts";

async function rayd(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

Deno.test("rayd graph --from FILE.dot -o FILE.svg renders a DOT file with Graphviz", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/g.dot`, 'digraph { "op-root" -> "t:1" [style=dashed] }');
    const { code, err } = await rayd("graph", "--from", `${dir}/g.dot`, "-o", `${dir}/g.svg`);
    assert.equal(code, 0, err);
    assert.match(err, /^wrote .*g\.svg \(SVG, \d+ bytes\)$/);
    const svg = await Deno.readTextFile(`${dir}/g.svg`);
    assert.match(svg, /<svg/);
    assert.match(svg, /stroke-dasharray/);
    const missing = await rayd("graph", "--from", `${dir}/none.dot`);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /^rayd graph: cannot read .*none\.dot/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rayd graph and rayd timeline with nothing to read exit 2 and say what to pass", async () => {
  const graph = await rayd("graph", "-o", "graph.svg");
  assert.equal(graph.code, 2);
  assert.match(graph.err, /^rayd graph: nothing to read: pass --redis-address URL, or --from/);
  const timeline = await rayd("timeline", "-o", "trace.json");
  assert.equal(timeline.code, 2);
  assert.match(timeline.err, /^rayd timeline: nothing to read: pass --redis-address URL/);
  const both = await rayd("graph", "--from", "a.dot", "--redis-address", "redis://127.0.0.1:1");
  assert.equal(both.code, 2);
  assert.match(both.err, /pass one of --from, --address, --redis-address/);
});

if (!REDIS_SERVER) {
  console.warn("SKIPPED: redis-server not on PATH: rayd graph/timeline from Redis not tested");
}

Deno.test({
  name: "rayd graph and rayd timeline read the newest job from a control store in Redis",
  ignore: !REDIS_SERVER,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const redis = await startRedis();
    const dir = await Deno.makeTempDir();
    try {
      await ray.init({ numWorkers: 2, redisAddress: redis.url, logToDriver: false });
      try {
        await ray.get(dot.remote(zeros.remote(10), zeros.remote(10)));
        await ray.get(Array.from({ length: 5 }, (_, i) => add.remote(i, 1)));
      } finally {
        await ray.shutdown();
      }
      const text = await rayd("graph", "--redis-address", redis.url);
      assert.equal(text.code, 0, text.err);
      assert.match(text.out, /^digraph rayd \{/);
      assert.equal(text.out.match(/shape=box, label="zeros"/g)?.length, 2);
      assert.equal(text.out.match(/shape=box, label="add"/g)?.length, 5);
      const collapsed = await rayd("graph", "--redis-address", redis.url, "--collapse-above", "3");
      assert.match(collapsed.out, /label="add \u00d75"/);
      const svg = await rayd("graph", "--redis-address", redis.url, "-o", `${dir}/g.svg`);
      assert.equal(svg.code, 0, svg.err);
      assert.match(await Deno.readTextFile(`${dir}/g.svg`), />dot</);
      const trace = await rayd("timeline", "--redis-address", redis.url, "-o", `${dir}/t.json`);
      assert.equal(trace.code, 0, trace.err);
      assert.match(trace.err, /\(8 task slices\)$/);
      const events = JSON.parse(await Deno.readTextFile(`${dir}/t.json`));
      assert.equal(events.filter((e: { ph: string }) => e.ph === "X").length, 8);
      const none = await rayd("graph", "--redis-address", redis.url, "--job", "nope");
      assert.equal(none.code, 2, "an unknown job is bad input");
      assert.equal(
        none.err,
        'rayd graph: invalid value for --job: no job "nope" in the control store',
      );
      const store = await connectRedis(redis.url);
      const [job] = await store.listJobs({ limit: 1 }).finally(() => store.close());
      const named = await rayd("graph", "--redis-address", redis.url, "--job", job.jobId);
      assert.equal(named.out, text.out, "--job of the newest job draws the same graph");
    } finally {
      await Deno.remove(dir, { recursive: true });
      await redis.stop();
    }
  },
});
