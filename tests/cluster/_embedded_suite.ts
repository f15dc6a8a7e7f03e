/**
 * `embeddedSuite`: registers a test that runs embedded test files of
 * tests/integration unchanged against a cluster (`RAYD_TEST_CLUSTER=1`:
 * `rayTest` in tests/integration/_with_ray.ts starts a three-node cluster in
 * the test process, its control store in Redis when redis-server is there,
 * and joins it as a driver; tests showing a known gap of cluster mode are
 * left out, CLUSTER_GAPS there, each with its reason). Together the
 * embedded_suite files here run the suites that exercise the docs/API.md
 * examples against a cluster.
 *
 * @module
 */
import assert from "node:assert/strict";

/**
 * @param name the test's name
 * @param files test files of tests/integration
 * @param minPassed how many tests must pass (the suite ran, not just started)
 */
export function embeddedSuite(name: string, files: string[], minPassed: number): void {
  Deno.test({
    name,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const paths = files.map((f) => new URL(`../integration/${f}`, import.meta.url).pathname);
      const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
        args: ["test", "-A", ...paths],
        env: { RAYD_TEST_CLUSTER: "1", NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const out = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
      assert.equal(code, 0, out.slice(-4000));
      const m = out.match(/ok \| (\d+) passed(?: \(\d+ steps\))? \| 0 failed/);
      assert.ok(m && Number(m[1]) >= minPassed, `ran the suite:\n${out.slice(-2000)}`);
    },
  });
}
