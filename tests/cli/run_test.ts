import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { main } from "../../cli/main.ts";
import { parseRunArgs } from "../../cli/run.ts";
import { runBounded } from "../fixtures/bounded_process.ts";

const MAIN = new URL("../../cli/main.ts", import.meta.url);
const NO_SHUTDOWN = fileURLToPath(new URL("../fixtures/no_shutdown_driver.ts", import.meta.url));

/** Writes a driver script that records its arguments and address, then exits with `code`. */
async function tinyScript(dir: string, code: number): Promise<{ script: string; record: string }> {
  const script = `${dir}/driver.ts`;
  const record = `${dir}/record.json`;
  await Deno.writeTextFile(
    script,
    `const seen = { args: Deno.args, address: Deno.env.get("RAYD_ADDRESS") ?? null };
await Deno.writeTextFile(${JSON.stringify(record)}, JSON.stringify(seen));
Deno.exit(${code});
`,
  );
  return { script, record };
}

/** Runs `fn` with a fresh temporary directory, removed afterwards. */
async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "rayd_run_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("rayd run returns the script's exit code and passes the args after --", async () => {
  await withTempDir(async (dir) => {
    const { script, record } = await tinyScript(dir, 7);
    const code = await main(["run", script, "--", "a b", "--flag", "-x"]);
    assert.equal(code, 7);
    const seen = JSON.parse(await Deno.readTextFile(record));
    assert.deepEqual(seen, { args: ["a b", "--flag", "-x"], address: null });
  });
});

Deno.test("rayd run with --address sets RAYD_ADDRESS for the script", async () => {
  await withTempDir(async (dir) => {
    const { script, record } = await tinyScript(dir, 0);
    assert.equal(await main(["run", script, "--address", "127.0.0.1:6380"]), 0);
    const seen = JSON.parse(await Deno.readTextFile(record));
    assert.deepEqual(seen, { args: [], address: "127.0.0.1:6380" });
  });
});

Deno.test("rayd run as a process ends with the script's exit code", async () => {
  await withTempDir(async (dir) => {
    const { script, record } = await tinyScript(dir, 3);
    const { code } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", fileURLToPath(MAIN), "run", script, "--", "x"],
      stdout: "null",
      stderr: "null",
    }).output();
    assert.equal(code, 3);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(record)).args, ["x"]);
  });
});

Deno.test("rayd run of a driver that never calls shutdown() ends with its code", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/out.json`;
    const { code, stderr } = await runBounded([
      "run",
      "-A",
      fileURLToPath(MAIN),
      "run",
      NO_SHUTDOWN,
      "--",
      "work",
      out,
      "6",
    ]);
    assert.equal(code, 6, stderr);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(out)), { squares: [1, 4, 9], n: 2 });
  });
});

Deno.test("rayd run of a driver that throws ends with 1 and the error shown", async () => {
  const { code, stderr } = await runBounded(
    ["run", "-A", fileURLToPath(MAIN), "run", NO_SHUTDOWN, "--", "throw", "-", "0"],
  );
  assert.equal(code, 1);
  assert.match(stderr, /Uncaught.*Error: the driver failed on purpose/);
});

Deno.test("rayd run of a missing script exits 2 and names the script", async () => {
  const err: string[] = [];
  const code = await main(["run", "no_such_driver.ts"], { out: () => {}, err: (t) => err.push(t) });
  assert.equal(code, 2);
  assert.equal(err.join("\n"), "rayd run: script not found: no_such_driver.ts");
});

Deno.test("parseRunArgs() rejects a second positional before --", () => {
  assert.throws(() => parseRunArgs(["job.ts", "extra"]), /unexpected argument: extra/);
});

Deno.test("parseRunArgs() rejects an address without a port", () => {
  assert.throws(() => parseRunArgs(["job.ts", "--address", "localhost"]), /expected HOST:PORT/);
});

Deno.test("parseRunArgs() requires a script", () => {
  assert.throws(() => parseRunArgs(["--address", "h:1"]), /missing the script to run/);
});
