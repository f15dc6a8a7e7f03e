/**
 * Builds the one-file `rayd` binary, `dist/rayd` (`deno task compile`).
 *
 * `deno compile` needs Deno's runtime archive (denort) for this platform. It
 * downloads it unless `DENORT_BIN` names a denort binary already on disk; this
 * script passes `DENORT_BIN` through and, when the download fails, says so and
 * how to set it.
 *
 * @module
 */
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: compile paths are relative to it. */
const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

/**
 * Arguments of `deno` that build `dist/rayd`. Worker modules are loaded with
 * `new Worker(new URL(...))`, which `deno compile` cannot follow, so the
 * worker entry is included by name.
 */
export const COMPILE_ARGS: readonly string[] = [
  "compile",
  "-A",
  "--include",
  "runtime/worker/entry.ts",
  "-o",
  "dist/rayd",
  "cli/main.ts",
];

/**
 * Whether `deno compile`'s error output says it could not get the runtime archive.
 *
 * @param stderr what `deno compile` wrote to standard error
 * @returns true when the denort download failed
 * @example
 * ```ts
 * console.assert(isRuntimeDownloadFailure("0: Setting up base binary.\n1: error sending request"));
 * ```
 */
export function isRuntimeDownloadFailure(stderr: string): boolean {
  return /Setting up base binary|denort-[\w-]+\.zip|Download could not be found/i.test(stderr);
}

/**
 * The explanation printed when the runtime archive cannot be downloaded.
 *
 * @returns lines for standard error
 */
export function downloadFailureHelp(): string {
  const target = Deno.build.target;
  return [
    "Cannot compile rayd: deno compile could not download Deno's runtime archive " +
    `(denort-${target}.zip for Deno ${Deno.version.deno})`,
    "Set DENORT_BIN to the path of the denort binary from that archive, unzipped, and run " +
    "deno task compile again:",
    `  DENORT_BIN=/path/to/denort deno task compile`,
    "Without it, deno task install gives a rayd command that runs on the installed Deno",
  ].join("\n");
}

/**
 * Runs `deno compile` from the repository root, echoing its output.
 *
 * @returns the exit code: 0 on success, 1 on any failure
 */
export async function compile(): Promise<number> {
  const denort = Deno.env.get("DENORT_BIN");
  if (denort !== undefined) {
    const found = await Deno.stat(denort).then((info) => info.isFile, () => false);
    if (!found) {
      console.error(`Cannot compile rayd: DENORT_BIN is not a file: ${denort}`);
      return 1;
    }
    console.error(`Using the runtime from DENORT_BIN: ${denort}`);
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: [...COMPILE_ARGS],
    cwd: ROOT,
    env: denort === undefined ? undefined : { DENORT_BIN: denort },
    stdout: "inherit",
    stderr: "piped",
  }).spawn();
  const decoder = new TextDecoder();
  let stderr = "";
  for await (const chunk of child.stderr) {
    stderr += decoder.decode(chunk, { stream: true });
    await Deno.stderr.write(chunk);
  }
  const { success } = await child.status;
  if (success) {
    console.error(`Built ${ROOT}/dist/rayd`);
    return 0;
  }
  if (denort === undefined && isRuntimeDownloadFailure(stderr)) {
    console.error(`\n${downloadFailureHelp()}`);
  }
  return 1;
}

if (import.meta.main) {
  Deno.exit(await compile());
}
