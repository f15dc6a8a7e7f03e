import assert from "node:assert/strict";
import * as ray from "../../mod.ts";
import { currentBackend } from "../../runtime/core/mod.ts";
import type { Node } from "../../runtime/node/mod.ts";
import { blockingSleep } from "../fixtures/warm_fns.ts";

const ROOT = new URL("../../", import.meta.url);

/** The modules `entry` loads when it runs: its static imports, not type-only or dynamic ones. */
async function loadedBy(entry: string): Promise<Set<string>> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL(entry, ROOT).href],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const info = JSON.parse(new TextDecoder().decode(stdout)) as {
    roots: string[];
    modules: {
      specifier: string;
      dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[];
    }[];
  };
  const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const todo = [...info.roots];
  while (todo.length > 0) {
    const specifier = todo.pop()!;
    if (seen.has(specifier)) continue;
    seen.add(specifier);
    for (const dep of bySpecifier.get(specifier)?.dependencies ?? []) {
      if (dep.code && !dep.isDynamic) todo.push(dep.code.specifier);
    }
  }
  return seen;
}

Deno.test("a worker importing mod.ts with a user's module loads only the driver's files beyond its entry", async () => {
  const worker = await loadedBy("runtime/worker/entry.ts");
  const extra = [...await loadedBy("mod.ts")]
    .filter((m) => !worker.has(m))
    .map((m) => m.startsWith(ROOT.href) ? m.slice(ROOT.href.length) : m)
    .filter((m) => m !== "mod.ts" && !m.startsWith("runtime/driver/"))
    .sort();
  // The node, the control store (with the Redis client) and the dashboard load on `init`.
  assert.deepEqual(extra, []);
});

Deno.test({
  name:
    "init resolves with numWorkers started workers; blocking sleeps submitted at once run together",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const numWorkers = 10;
    const ms = 2000;
    await ray.init({ numWorkers });
    try {
      assert.equal((await ray.nodes())[0].numWorkers, numWorkers);
      const gcs = (currentBackend() as Node).gcs;
      await gcs.flush();
      const workers = await gcs.listWorkers();
      assert.equal(workers.filter((w) => w.state === "alive").length, numWorkers, "all started");
      const start = performance.now();
      const refs = Array.from({ length: numWorkers }, (_, i) => blockingSleep.remote(ms, i));
      assert.deepEqual(await ray.get(refs), Array.from({ length: numWorkers }, (_, i) => i));
      const elapsed = performance.now() - start;
      // Quiet: about 2.05 s (2.2 s is the target); a cold pool took 3.2-3.4 s.
      assert.ok(
        elapsed < ms + 1000,
        `${numWorkers} sleeps of ${ms} ms took ${elapsed.toFixed(0)} ms`,
      );
      assert.equal((await gcs.listWorkers()).length, numWorkers, "no worker was added for them");
    } finally {
      await ray.shutdown();
    }
  },
});

Deno.test(
  "a worker that does not start in time fails init with its name, and nothing is left running",
  async () => {
    // In a process of its own: the setting comes from the environment, which the test files the
    // parallel runner runs in this process share (here it made their workers fail to start).
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("../fixtures/worker_start_timeout.ts", import.meta.url).href],
      env: { RAYD_WORKER_START_TIMEOUT_MS: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    const seen = JSON.parse(new TextDecoder().decode(stdout).trim().split("\n").at(-1)!);
    assert.equal(seen.failed?.name, "RayError", JSON.stringify(seen));
    assert.match(seen.failed.message, /^Worker w\d failed to start: not started within 1 ms$/);
    assert.equal(seen.initializedAfter, false);
    assert.deepEqual(seen.results, ["a", "b"]);
  },
);
