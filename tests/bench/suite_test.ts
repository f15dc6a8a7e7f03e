/**
 * The benchmark suite's smoke test: the quick suite runs once, as
 * `rayd microbenchmark --quick --json` would, and every metric of
 * docs/BENCHMARKS.md must give a positive finite number or a reason it was
 * skipped. Nothing here asserts on speed.
 *
 * @module
 */
import assert from "node:assert/strict";
import { METRIC_NAMES } from "../../scripts/bench/suite.ts";
import type { BenchReport } from "../../scripts/bench/suite.ts";

const SUITE = new URL("../../scripts/bench/suite.ts", import.meta.url);

/** The quick suite's JSON, run in its own process as users run it. */
async function quickReport(): Promise<BenchReport> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SUITE.href, "--quick", "--json"],
    stdin: "null",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `suite exited with ${out.code}: ${stderr}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test("quick suite gives every metric a positive finite number or a skip reason", async () => {
  const report = await quickReport();
  assert.deepEqual(Object.keys(report.results), [...METRIC_NAMES]);
  for (const name of METRIC_NAMES) {
    const result = report.results[name];
    if ("skipped" in result) {
      assert.ok(result.skipped.length > 0, `${name}: skipped without a reason`);
      continue;
    }
    assert.ok(!("error" in result), `${name} failed: ${"error" in result && result.error}`);
    if (!("value" in result)) continue;
    for (const key of ["value", "min", "max"] as const) {
      assert.ok(
        Number.isFinite(result[key]) && result[key] > 0,
        `${name}.${key} is ${result[key]}, expected a positive finite number`,
      );
    }
    assert.ok(
      result.min <= result.value && result.value <= result.max,
      `${name}: median outside min..max`,
    );
    assert.equal(typeof result.unit, "string");
    assert.ok(result.runs >= 1 && result.samples.length === result.runs, `${name}: runs`);
  }
  const { machine } = report;
  assert.ok(Number.isInteger(machine.cpus) && machine.cpus > 0, "machine.cpus");
  assert.equal(machine.deno, Deno.version.deno);
  assert.match(machine.commit, /^([0-9a-f]{40}|unknown)$/);
  assert.equal(machine.quick, true);
});
