/**
 * `checkExample`: runs one program of examples/ as a user would, as a process
 * of its own (embedded, or against a cluster when `env` has `RAYD_ADDRESS`).
 *
 * @module
 */
import assert from "node:assert/strict";

/** Runs `examples/<name>` with `args` and `env`; asserts exit 0 and that stdout has `expect`. */
export async function checkExample(
  name: string,
  args: string[],
  expect: string,
  env: Record<string, string> = {},
): Promise<string> {
  const script = new URL(`../../examples/${name}`, import.meta.url);
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script.href, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout);
  const err = new TextDecoder().decode(stderr);
  assert.equal(code, 0, `${name} exited ${code}:\n${out}\n${err}`);
  assert.ok(out.includes(expect), `${name} did not print "${expect}":\n${out}\n${err}`);
  return out;
}
