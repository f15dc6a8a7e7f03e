import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  COMPILE_ARGS,
  downloadFailureHelp,
  isRuntimeDownloadFailure,
} from "../../scripts/compile.ts";

/** What deno compile 2.9.6 prints when it cannot download the runtime archive. */
const DOWNLOAD_ERROR = `Compile cli/main.ts to dist/rayd
Download https://example.invalid/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip
error: Writing deno compile executable to temporary file 'dist/rayd.tmp-ba3658e2c8860bff'

Caused by:
    0: Setting up base binary.
    1: error sending request for url: client error (Connect): dns error
`;

Deno.test("isRuntimeDownloadFailure() recognises a failed denort download", () => {
  assert.equal(isRuntimeDownloadFailure(DOWNLOAD_ERROR), true);
});

Deno.test("isRuntimeDownloadFailure() ignores other compile errors", () => {
  const typeError = "error: TS2322 [ERROR]: Type 'string' is not assignable to type 'number'.";
  assert.equal(isRuntimeDownloadFailure(typeError), false);
  assert.equal(isRuntimeDownloadFailure('error: Module not found "file:///x/entry.ts".'), false);
});

Deno.test("downloadFailureHelp() names DENORT_BIN and the archive for this platform", () => {
  const help = downloadFailureHelp();
  assert.match(help, /^Cannot compile rayd: .*could not download/);
  assert.match(help, /DENORT_BIN=/);
  assert.ok(help.includes(`denort-${Deno.build.target}.zip`));
});

Deno.test("COMPILE_ARGS include the worker entry and write dist/rayd from cli/main.ts", () => {
  assert.deepEqual(COMPILE_ARGS.slice(-3), ["-o", "dist/rayd", "cli/main.ts"]);
  const include = COMPILE_ARGS.indexOf("--include");
  assert.equal(COMPILE_ARGS[include + 1], "runtime/worker/entry.ts");
});

Deno.test("compile.ts exits 1 and says so when DENORT_BIN is not a file", async () => {
  const script = fileURLToPath(new URL("../../scripts/compile.ts", import.meta.url));
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script],
    env: { DENORT_BIN: "/no/such/denort" },
  }).output();
  assert.equal(out.code, 1);
  assert.match(
    new TextDecoder().decode(out.stderr),
    /Cannot compile rayd: DENORT_BIN is not a file: \/no\/such\/denort/,
  );
});
