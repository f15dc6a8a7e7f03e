import assert from "node:assert/strict";
import { COMMANDS, main, VERSION } from "../../cli/main.ts";
import denoConfig from "../../deno.json" with { type: "json" };

/** Runs `rayd` in-process and records what it prints. */
async function rayd(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const DOCUMENTED = [
  "start",
  "run",
  "stop",
  "status",
  "list",
  "timeline",
  "graph",
  "microbenchmark",
];

Deno.test("--help lists every documented command and exits 0", async () => {
  for (const flag of ["--help", "-h", "help"]) {
    const { code, out } = await rayd(flag);
    assert.equal(code, 0);
    for (const name of DOCUMENTED) assert.match(out, new RegExp(`^  ${name} `, "m"), name);
  }
  assert.deepEqual(COMMANDS.map((c) => c.name).sort(), [...DOCUMENTED].sort());
});

Deno.test("<command> --help and help <command> print that command's usage", async () => {
  for (const name of DOCUMENTED) {
    for (const args of [[name, "--help"], [name, "-h"], ["help", name]]) {
      const { code, out } = await rayd(...args);
      assert.equal(code, 0, args.join(" "));
      assert.match(out, new RegExp(`^Usage: rayd ${name}\\b`), args.join(" "));
    }
  }
});

Deno.test("--help after other flags still prints help, even if they are wrong", async () => {
  const { code, out } = await rayd("start", "--bogus", "--help");
  assert.equal(code, 0);
  assert.match(out, /^Usage: rayd start/);
});

Deno.test("no arguments prints the overview on stderr and exits 2", async () => {
  const { code, out, err } = await rayd();
  assert.equal(code, 2);
  assert.equal(out, "");
  assert.match(err, /Commands:/);
});

Deno.test("--version prints the version from deno.json", async () => {
  const { code, out } = await rayd("--version");
  assert.equal(code, 0);
  assert.equal(out, `rayd ${denoConfig.version}`);
  assert.equal(VERSION, denoConfig.version);
});

Deno.test("an unknown top-level flag exits 2 and names the flag", async () => {
  const { code, err } = await rayd("--frobnicate");
  assert.equal(code, 2);
  assert.match(err, /^rayd: unknown flag: --frobnicate/);
});

Deno.test("an unknown command exits 2 and names the command", async () => {
  const { code, err } = await rayd("launch");
  assert.equal(code, 2);
  assert.match(err, /^rayd: unknown command: launch/);
  assert.equal((await rayd("help", "launch")).code, 2);
});

Deno.test("an unknown flag of any command exits 2 and names the flag", async () => {
  for (const name of DOCUMENTED) {
    const { code, err } = await rayd(name, "--frobnicate");
    assert.equal(code, 2, name);
    assert.match(err, new RegExp(`^rayd ${name}: unknown flag: --frobnicate`), name);
  }
  const short = await rayd("timeline", "-x");
  assert.match(short.err, /unknown flag: -x/);
});

Deno.test("a flag without its value exits 2 and names the flag", async () => {
  const { code, err } = await rayd("run", "job.ts", "--address");
  assert.equal(code, 2);
  assert.match(err, /^rayd run: missing value for --address/);
});

Deno.test("a boolean flag given a value exits 2 and names the flag", async () => {
  const { code, err } = await rayd("start", "--head=yes");
  assert.equal(code, 2);
  assert.match(err, /flag --head takes no value/);
});
