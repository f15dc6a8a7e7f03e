/**
 * Checks the layering rules of DESIGN.md: which runtime/ folder may import
 * which, that folders are entered only through their `mod.ts`, that runtime/
 * imports nothing outside itself, and that no source file is too long.
 *
 * ```sh
 * deno task layering          # or: deno run -A scripts/check_layering.ts [ROOT]
 * ```
 *
 * Prints each violation as `file:line: message` and exits 1, or prints one
 * OK line and exits 0.
 *
 * @module
 */
import { dirname, join, posix, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { findImports } from "./_imports.ts";

/**
 * The rules: for each runtime/ folder, the other runtime/ folders it may
 * import (always through their `mod.ts`), and those it may import only with
 * `import type`. A folder may always import its own files.
 */
export const LAYERS: Readonly<Record<string, { may: string[]; typesOnly?: string[] }>> = {
  common: { may: [] },
  serialization: { may: ["common"] },
  protocol: { may: ["common", "serialization"] },
  transport: { may: ["common", "serialization", "protocol"] },
  object_store: { may: ["common"] },
  code: { may: ["common"] },
  scheduler: { may: ["common", "protocol"] },
  gcs: { may: ["common", "serialization", "protocol"] },
  core: { may: ["common", "serialization", "protocol", "transport", "object_store", "gcs"] },
  links: {
    may: ["core", "common", "serialization", "protocol", "transport"],
    typesOnly: ["object_store"],
  },
  worker: {
    may: [
      "links",
      "core",
      "common",
      "serialization",
      "protocol",
      "transport",
      "object_store",
      "gcs",
    ],
  },
  pool: { may: ["worker", "common", "protocol", "object_store"] },
  node: {
    may: [
      ...["links", "pool", "worker", "scheduler", "core", "common", "serialization"],
      ...["protocol"],
      ...["transport", "object_store", "gcs"],
    ],
  },
  observability: { may: ["common", "protocol", "gcs"], typesOnly: ["scheduler"] },
};

/** Longest allowed source file, in lines. */
export const MAX_LINES = 800;

/** Top-level places whose source files are checked. */
export const SOURCE_ROOTS = ["runtime", "cli", "scripts", "tests", "examples", "mod.ts"];

const SOURCE_FILE = /\.(ts|tsx|mts|js|mjs|jsx)$/;

/** One broken rule. */
export interface Violation {
  /** Repository-relative path with `/` separators. */
  file: string;
  /** 1-based line. */
  line: number;
  /** What is wrong and what to do instead. */
  message: string;
}

/**
 * Checks every file of a source tree against the layering rules and the line limit.
 *
 * @param files source text by repository-relative path (`/` separators), e.g. `runtime/core/mod.ts`
 * @returns the violations, sorted by file and line; empty when all is well
 * @example
 * ```ts
 * const files = new Map([["runtime/common/mod.ts", `import "../core/mod.ts";`]]);
 * console.assert(checkImports(files)[0].message.startsWith("Forbidden import"));
 * ```
 */
export function checkImports(files: ReadonlyMap<string, string>): Violation[] {
  const violations: Violation[] = [];
  for (const [file, source] of files) {
    const lines = source.split("\n").length - (source.endsWith("\n") ? 1 : 0);
    if (lines > MAX_LINES) {
      violations.push({
        file,
        line: MAX_LINES + 1,
        message: `File has ${lines} lines: split it (limit ${MAX_LINES})`,
      });
    }
    const from = folderOf(file);
    if (from.top === "runtime" && !(from.layer in LAYERS)) {
      violations.push({
        file,
        line: 1,
        message: from.layer === ""
          ? "File directly in runtime/: move it into one of the folders listed in LAYERS"
          : `Unknown folder runtime/${from.layer}: add it to LAYERS in scripts/check_layering.ts`,
      });
      continue;
    }
    for (const ref of findImports(source)) {
      if (!ref.specifier.startsWith("./") && !ref.specifier.startsWith("../")) continue;
      const target = posix.normalize(posix.join(posix.dirname(file), ref.specifier));
      const message = judge(file, target, ref.typeOnly);
      if (message !== undefined) violations.push({ file, line: ref.line, message });
    }
  }
  return violations.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

/**
 * Where a path sits: its top-level folder and, under runtime/, its layer
 * folder (`""` for a file directly in runtime/).
 */
function folderOf(path: string): { top: string; layer: string } {
  const parts = path.split("/");
  return { top: parts[0], layer: parts[0] === "runtime" && parts.length > 2 ? parts[1] : "" };
}

/** Why importing `target` from `file` breaks a rule, or `undefined` when it does not. */
function judge(file: string, target: string, typeOnly: boolean): string | undefined {
  const from = folderOf(file);
  const to = folderOf(target);
  if (from.top === "runtime") {
    if (to.top !== "runtime") {
      if (target.endsWith(".json")) return undefined;
      return `Forbidden import of ${target}: nothing in runtime/ imports files outside runtime/`;
    }
    if (to.layer === from.layer) return undefined;
    const rule = LAYERS[from.layer];
    const allowed = [...rule.may, ...(rule.typesOnly ?? []).map((l) => `${l} (types only)`)];
    if (rule.typesOnly?.includes(to.layer) && !typeOnly) {
      return `Value import of ${target}: ${from.layer} may import ${to.layer} only with "import type"`;
    }
    if (!rule.may.includes(to.layer) && !rule.typesOnly?.includes(to.layer)) {
      return `Forbidden import of ${target}: ${from.layer} may import only ` +
        (allowed.length ? allowed.join(", ") : "its own files");
    }
  } else if (from.top === "examples" && to.top !== "examples" && target !== "mod.ts") {
    return `Forbidden import of ${target}: examples import only the root mod.ts`;
  }
  if (to.top !== "runtime" || from.top === "tests") return undefined;
  return entersThroughModTs(target, to.layer);
}

/** The message for reaching into another folder past its `mod.ts`, if it does. */
function entersThroughModTs(target: string, layer: string): string | undefined {
  if (target === `runtime/${layer}/mod.ts`) return undefined;
  if (target.split("/").some((part) => part.startsWith("_"))) {
    return `Import of private file ${target}: files starting with _ are private to runtime/${layer}`;
  }
  return `Import of ${target}: other folders enter runtime/${layer} only through its mod.ts`;
}

/**
 * Reads every source file under {@link SOURCE_ROOTS} of `root`.
 *
 * @param root the repository's root folder
 * @returns source text by repository-relative path with `/` separators
 */
export async function readSourceTree(root: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const visit = async (path: string): Promise<void> => {
    let info;
    try {
      info = await Deno.stat(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    if (info.isDirectory) {
      for await (const entry of Deno.readDir(path)) {
        if (entry.name !== "node_modules" && !entry.name.startsWith(".")) {
          await visit(join(path, entry.name));
        }
      }
    } else if (info.isFile && SOURCE_FILE.test(path)) {
      files.set(relative(root, path).split(sep).join("/"), await Deno.readTextFile(path));
    }
  };
  for (const name of SOURCE_ROOTS) await visit(join(root, name));
  return files;
}

if (import.meta.main) {
  const root = Deno.args[0] ?? dirname(dirname(fileURLToPath(import.meta.url)));
  const files = await readSourceTree(root);
  const violations = checkImports(files);
  for (const v of violations) console.error(`${v.file}:${v.line}: ${v.message}`);
  if (violations.length > 0) {
    console.error(`Layering check failed: ${violations.length} violation(s)`);
    Deno.exit(1);
  }
  const runtime = [...files.keys()].filter((f) => f.startsWith("runtime/")).length;
  console.log(
    `Layering OK: ${files.size} files (${runtime} in runtime/), none over ${MAX_LINES} lines`,
  );
}
