/**
 * `rayd` as a process: bad input ends with one line on stderr and exit code 2,
 * a failure of the work with one line and exit code 1, and never a stack trace.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { REDIS_SERVER, startRedis } from "../gcs/redis_server.ts";

const MAIN = fileURLToPath(new URL("../../cli/main.ts", import.meta.url));

/** Runs `rayd` in a child process; stderr without Deno's own npm notices. */
async function rayd(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  // Deno's own notices when it first fetches npm packages are not rayd's output.
  const notice = /^(\s*[\u256d\u2502\u2570]|Download |Warning )/;
  const err = decode(stderr).split("\n").filter((l) => !notice.test(l)).join("\n");
  return { code, out: decode(stdout), err };
}

/** Asserts one line on stderr, matching `line`, and the exit code. */
function assertOneLine(
  result: { code: number; err: string },
  code: number,
  line: RegExp,
  what: string,
): void {
  const lines = result.err.trimEnd().split("\n");
  assert.doesNotMatch(result.err, /^\s+at /m, `${what}: a stack trace:\n${result.err}`);
  assert.doesNotMatch(result.err, /Uncaught/, `${what}: uncaught:\n${result.err}`);
  assert.equal(lines.length, 1, `${what}: more than one line:\n${result.err}`);
  assert.match(lines[0], line, what);
  assert.equal(result.code, code, `${what}: exit code`);
}

Deno.test("rayd graph of a DOT file Graphviz rejects, or to a missing directory: one line, rc 1", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rayd_cli_errors_" });
  try {
    await Deno.writeTextFile(`${dir}/bad.dot`, "digraph { a -> \n");
    await Deno.writeTextFile(`${dir}/good.dot`, "digraph { a -> b }\n");
    assertOneLine(
      await rayd("graph", "--from", `${dir}/bad.dot`, "-o", `${dir}/bad.svg`),
      1,
      /^rayd graph: cannot render .*bad\.dot: Graphviz rejected the DOT text \(syntax error in line 2\)$/,
      "bad DOT",
    );
    assertOneLine(
      await rayd("graph", "--from", `${dir}/good.dot`, "-o", `${dir}/none/g.svg`),
      1,
      /^rayd graph: cannot write .*none\/g\.svg: No such file or directory \(os error 2\)$/,
      "graph to a missing directory",
    );
    assertOneLine(
      await rayd("graph", "--from", dir, "-o", `${dir}/g.dot`),
      1,
      /^rayd graph: cannot read .*: Is a directory/,
      "graph from a directory",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rayd list with a --limit past 2^53 or an unknown --state: one line, rc 2", async () => {
  const url = "redis://127.0.0.1:1";
  assertOneLine(
    await rayd("list", "tasks", "--limit", "99999999999999999999", "--redis-address", url),
    2,
    /^rayd list: invalid value for --limit: expected a whole number up to 9007199254740991/,
    "huge --limit",
  );
  assertOneLine(
    await rayd("list", "tasks", "--state", "bogus", "--redis-address", url),
    2,
    /^rayd list: invalid value for --state \(tasks\): expected submitted \| .*, got "bogus"/,
    "unknown --state",
  );
  assertOneLine(
    await rayd("microbenchmark", "--filter", "no_such_metric"),
    2,
    /^rayd microbenchmark: invalid value for --filter: "no_such_metric" matches no metric/,
    "--filter matching nothing",
  );
  assertOneLine(await rayd("run", "."), 2, /^rayd run: script is not a file: \.$/, "run .");
});

Deno.test({
  name: "rayd timeline and graph from Redis: a missing output directory rc 1, an unknown job rc 2",
  ignore: !REDIS_SERVER,
  async fn() {
    const redis = await startRedis();
    try {
      for (const cmd of ["timeline", "graph"]) {
        const file = cmd === "graph" ? "/nonexistent/dir/g.dot" : "/nonexistent/dir/x.json";
        assertOneLine(
          await rayd(cmd, "--redis-address", redis.url, "-o", file),
          1,
          new RegExp(`^rayd ${cmd}: cannot write ${file}: No such file or directory`),
          `${cmd} -o ${file}`,
        );
        assertOneLine(
          await rayd(cmd, "--redis-address", redis.url, "--job", "nope"),
          2,
          new RegExp(`^rayd ${cmd}: invalid value for --job: no job "nope" in the control store$`),
          `${cmd} --job nope`,
        );
      }
      const listed = await rayd("list", "tasks", "--state", "FAILED", "--redis-address", redis.url);
      assert.equal(listed.code, 0, listed.err);
    } finally {
      await redis.dispose();
    }
  },
});

Deno.test({
  name: "rayd list whose query Redis refuses: one line naming the error, rc 1",
  ignore: !REDIS_SERVER,
  async fn() {
    // The store connects and checks (PING, INFO, HSET, SCRIPT LOAD), then every list query fails.
    const redis = await startRedis({ args: ["--rename-command", "ZRANGE", ""] });
    try {
      assertOneLine(
        await rayd("list", "tasks", "--redis-address", redis.url),
        1,
        /^rayd list: ControlStoreError: Cannot query control store at .*unknown command/,
        "a query Redis refuses",
      );
    } finally {
      await redis.dispose();
    }
  },
});
