/**
 * `rayTest`: a Deno test that runs with an embedded cluster started before it
 * and shut down after it, whatever the test does.
 *
 * @module
 */
import * as ray from "../../mod.ts";

/** How the embedded cluster of one test is started: init options (numWorkers defaults to 2). */
export type RayTestOptions = ray.InitOptions;

/**
 * Registers a test that gets a fresh embedded cluster. Op and resource
 * sanitizers are off: the cluster's workers outlive single awaits by design,
 * and lifecycle_test.ts checks separately that shutdown leaves nothing behind.
 */
export function rayTest(
  name: string,
  fn: (t: Deno.TestContext) => void | Promise<void>,
  options: RayTestOptions = {},
): void {
  Deno.test({
    name,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      await ray.init({ ...options, numWorkers: options.numWorkers ?? 2 });
      try {
        await fn(t);
      } finally {
        await ray.shutdown();
      }
    },
  });
}
