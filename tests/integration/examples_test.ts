/**
 * The example programs of examples/, each run as a user would run it, as a
 * process of its own: they check their own results and exit non-zero when a
 * result is wrong. `checkExample` takes the environment so that the same
 * programs can be run against a cluster (with `RAYD_ADDRESS` set).
 */
import assert from "node:assert/strict";
import { checkExample } from "./example_runner.ts";

/** Writes `files` text files of random words from a small vocabulary; returns the folder. */
async function corpus(files: number): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "rayd_word_count_" });
  const vocabulary = [
    "ray",
    "task",
    "actor",
    "object",
    "store",
    "node",
    "constructor",
    "__proto__",
  ];
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let f = 0; f < files; f++) {
    const words = Array.from({ length: 500 }, () => vocabulary[Math.floor(next() * 8)]);
    await Deno.writeTextFile(`${dir}/part_${f}.txt`, words.join(" "));
  }
  return dir;
}

Deno.test("examples/word_count.ts counts 20 files with 3 reducers exactly", async () => {
  const dir = await corpus(20);
  try {
    const out = await checkExample(
      "word_count.ts",
      [dir, "--reducers", "3"],
      "word count matches",
    );
    assert.ok(out.includes("20 files, 10000 words, 8 distinct"), out);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("examples/parameter_server.ts converges to the true weights", async () => {
  const out = await checkExample(
    "parameter_server.ts",
    ["--workers", "3", "--steps", "40"],
    "parameter server converged",
  );
  assert.ok(out.includes("40 updates"), out);
});

Deno.test("examples/hyperparameter_search.ts stops early by cancelling the other trials", async () => {
  const out = await checkExample(
    "hyperparameter_search.ts",
    ["--trials", "16"],
    "search reached the target",
  );
  const m = out.match(/(\d+) trials finished, (\d+) cancelled early/);
  assert.ok(m, out);
  assert.equal(Number(m[1]) + Number(m[2]), 16);
  assert.ok(Number(m[2]) > 0, `no trial was cancelled:\n${out}`);
});

Deno.test("examples reject bad flags with rc 2 and a clear line", async () => {
  const script = new URL("../../examples/word_count.ts", import.meta.url);
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script.href, "--reducers", "0"],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(code, 2);
  assert.match(new TextDecoder().decode(stderr), /--reducers must be an integer >= 1, got 0/);
});
