/**
 * Tasks pushed straight to leased workers (RAYD_LEASED_TASKS=2: by every
 * caller; 1: by the driver only): results
 * exact and owned by their caller, long tasks spread over workers, a task
 * waiting for one pushed after it, resources and infeasible shapes, worker
 * deaths while three callers stream, fairness to work that waits behind a
 * stream, records. Each scenario runs in a process of its own
 * (tests/fixtures/lease_scenarios.ts), so its setting reaches no other test.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const SCENARIOS = fileURLToPath(new URL("../fixtures/lease_scenarios.ts", import.meta.url));

/** 2: every caller leases (the driver, tasks, actors); 1: the driver only. */
async function run(name: string, numWorkers = 2, mode = "2"): Promise<Record<string, any>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SCENARIOS, name, String(numWorkers)],
    env: { RAYD_LEASED_TASKS: mode },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  const stdout = text.decode(out.stdout);
  assert.equal(out.code, 0, `${name}: exit ${out.code}\n${stdout}\n${text.decode(out.stderr)}`);
  const line = stdout.trim().split("\n").at(-1)!;
  return JSON.parse(line);
}

Deno.test("leased tasks: 3,000 results exact, owned by the driver, none in the node's table", async () => {
  const seen = await run("stream");
  assert.deepEqual(seen, { owned: 3000, exact: true, storedDelta: 0 });
});

Deno.test("leased tasks: ten 300 ms tasks on ten workers run side by side", async () => {
  const seen = await run("spread", 10);
  assert.deepEqual(seen.values, [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
  assert.ok(seen.ms < 2_500, `took ${seen.ms.toFixed(0)} ms (one after another: 3,000)`);
});

Deno.test("leased tasks: a task waiting for one pushed after it on a one-worker node", async () => {
  const seen = await run("blocked", 1);
  assert.deepEqual(seen, {
    waited: 7,
    after: Array.from({ length: 20 }, (_, i) => 100 + i),
    later: 41,
  });
});

Deno.test("leased tasks: CPUs held while running, infeasible shapes fail at once, fractions", async () => {
  const seen = await run("resources");
  assert.equal(seen.during, 0, "a 2-CPU task holds both CPUs");
  assert.equal(seen.value, 8);
  assert.equal(seen.after, 2, "and gives them back");
  assert.match(
    seen.infeasible,
    /Cannot schedule task ident: it needs CPU: 3 but the cluster has 2/,
  );
  assert.deepEqual(seen.halves, [0, 2, 4, 6]);
});

Deno.test("leased tasks: workers holding leases die while three callers stream; all exact", async () => {
  const seen = await run("deaths");
  assert.equal(seen.exact, true);
  assert.equal(seen.sums, true);
  assert.equal(seen.died, 6, "six workers were ended (x = 0, 250, ..., 1250)");
});

Deno.test("leased tasks: a plain task waiting behind a 100,000-task stream runs long before its end", async () => {
  const seen = await run("fairness");
  assert.equal(seen.exact, true);
  assert.ok(
    seen.plainMs < seen.streamMs / 2,
    `the plain task ended ${seen.plainMs.toFixed(0)} ms into a ${
      seen.streamMs.toFixed(0)
    } ms stream`,
  );
});

Deno.test("leased tasks: ref arguments (owned chains, puts, errors, inside tasks) resolve first", async () => {
  const seen = await run("deps");
  assert.deepEqual(seen, {
    chain: 50,
    sum: 2 * (1 << 20),
    error: true,
    inside: 30,
    owned: true,
    fanIn: 4000,
  });
});

Deno.test("leased by the driver only: its tasks, and tasks' own tasks through the node", async () => {
  assert.deepEqual(await run("stream", 2, "1"), { owned: 3000, exact: true, storedDelta: 0 });
  const seen = await run("deps", 2, "1");
  assert.equal(seen.inside, 30);
  assert.equal(seen.fanIn, 4000);
});

Deno.test("leased tasks: the control store and timeline see every one", async () => {
  const seen = await run("records");
  assert.equal(seen.slices, 100);
  assert.equal(seen.finished, 100);
  assert.ok(seen.rows >= 1);
  assert.equal(seen.bigRejected, 3);
  assert.equal(
    seen.bigFailed,
    3,
    "errors sealed at the node (too big for the link) read as failed",
  );
});

Deno.test("leased tasks: a script ends only after the tasks it did not wait for", async () => {
  const seen = await run("unawaited");
  assert.equal(seen, "submitted");
});

Deno.test("leased tasks: a leasedTasks setting other than 0, 1 or 2 fails init, naming it", async () => {
  for (const bad of ["5", "1.5", "-1"]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", SCENARIOS, "stream", "2"],
      env: { RAYD_LEASED_TASKS: bad, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.notEqual(out.code, 0, `RAYD_LEASED_TASKS=${bad} started`);
    assert.match(stderr, new RegExp(`RAYD_LEASED_TASKS\\): expected 0, 1 or 2, got ${bad}`));
  }
});
