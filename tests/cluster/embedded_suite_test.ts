/**
 * Embedded test files run unchanged against a cluster: with
 * `RAYD_TEST_CLUSTER=1`, `rayTest` (tests/integration/_with_ray.ts) starts a
 * head and a node in the test process and joins them as a driver (tests
 * showing a known gap of cluster mode are left out: CLUSTER_GAPS there).
 */
import assert from "node:assert/strict";

const FILES = ["remote_functions_test.ts", "nested_tasks_test.ts"];

Deno.test({
  name: "remote functions and nested tasks pass their embedded tests on a cluster",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const files = FILES.map((f) => new URL(`../integration/${f}`, import.meta.url).pathname);
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["test", "-A", ...files],
      env: { RAYD_TEST_CLUSTER: "1", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    assert.equal(code, 0, out.slice(-4000));
    const m = out.match(/ok \| (\d+) passed \| 0 failed/);
    assert.ok(m && Number(m[1]) >= 20, `ran the suite:\n${out.slice(-2000)}`);
  },
});
