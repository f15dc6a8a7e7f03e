import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { runBounded, withTempDir } from "../fixtures/bounded_process.ts";

const DRIVER = fileURLToPath(new URL("../fixtures/no_shutdown_driver.ts", import.meta.url));

Deno.test("a driver that never calls shutdown() exits with its code once its work is done", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/out.json`;
    const { code, stderr } = await runBounded(["run", "-A", DRIVER, "work", out, "5"]);
    assert.equal(code, 5, stderr);
    // The work after an idle moment ran, and so did the task nobody awaited.
    assert.deepEqual(JSON.parse(await Deno.readTextFile(out)), { squares: [1, 4, 9], n: 2 });
  });
});

Deno.test("a driver that throws exits 1 with the error shown", async () => {
  const { code, stderr } = await runBounded(["run", "-A", DRIVER, "throw", "-", "0"]);
  assert.equal(code, 1);
  assert.match(stderr, /Uncaught.*Error: the driver failed on purpose/);
});
