/**
 * Checks the layering rules of docs/ARCHITECTURE.md ("Layering"): which
 * runtime/ folder may import which, that folders are entered only through
 * their `mod.ts`, that a `_` file is imported only from its own folder (or
 * by that folder's tests), that runtime/ imports nothing outside itself and
 * that no source file is too long. It also checks that every repository file
 * named in a code comment or a Markdown file exists.
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
import { type Comment, findComments, findImports } from "./_imports.ts";

/**
 * The rules: for each runtime/ folder, the other runtime/ folders it may
 * import (always through their `mod.ts`), and those it may import only with
 * `import type`. A folder may always import its own files. Each row lists
 * what the folder's code uses today, lowest layers first; a new folder gets
 * a row of its own (and its place in docs/ARCHITECTURE.md, "Layering").
 */
export const LAYERS: Readonly<Record<string, { may: string[]; typesOnly?: string[] }>> = {
  common: { may: [] },
  serialization: { may: ["common"] },
  protocol: { may: ["common", "serialization"] },
  transport: { may: ["common", "serialization", "protocol"] },
  object_store: { may: ["common"] },
  code: { may: ["common"] },
  scheduler: { may: ["common", "protocol"] },
  gcs: { may: ["common", "protocol"] },
  core: { may: ["common", "serialization", "protocol", "object_store"] },
  links: {
    may: ["core", "common", "serialization", "protocol", "transport"],
    typesOnly: ["object_store"],
  },
  worker: {
    may: ["links", "core", "common", "serialization", "protocol", "transport", "object_store"],
  },
  pool: { may: ["worker", "common", "protocol", "object_store"] },
  observability: { may: ["common"], typesOnly: ["gcs"] },
  node: {
    may: [
      ...["links", "pool", "worker", "scheduler", "core", "common", "protocol", "transport"],
      ...["object_store", "gcs"],
    ],
  },
  cluster: {
    may: [
      ...["node", "scheduler", "gcs", "core", "common", "protocol", "transport", "code"],
      "observability",
    ],
    typesOnly: ["object_store"],
  },
  driver: { may: ["common", "gcs", "core", "node", "cluster", "observability"] },
};

/**
 * Names of files that the docs use only as examples of a user's own files
 * (`rayd run script.ts`, `-o trace.json`), and names that look like files but
 * are not (`Node.js`): a mention of one of these is not checked.
 */
export const EXAMPLE_NAMES: ReadonlySet<string> = new Set([
  "script.ts",
  "job.ts",
  "a.ts",
  "x.ts",
  "trace.json",
  "values.json",
  "bench.json",
  "table.md",
  "Node.js",
]);

/** Longest allowed source file, in lines. */
export const MAX_LINES = 800;

/** Longest allowed file of the engine itself (runtime/ and the root mod.ts), in lines. */
export const MAX_RUNTIME_LINES = 600;

/** The line limit of `file`. */
export function lineLimitOf(file: string): number {
  return file.startsWith("runtime/") || file === "mod.ts" ? MAX_RUNTIME_LINES : MAX_LINES;
}

/**
 * A file path in prose: folders and a name with one of these extensions, not
 * part of a URL, an absolute path or a longer word.
 */
const MENTION =
  /(?<![\w.:/@~$-])((?:\.{1,2}\/)*(?:[\w.-]+\/)*[\w-]+(?:\.[\w-]+)*\.(?:ts|tsx|js|mjs|md|json|txt))(?![\w/-])/g;

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
    const limit = lineLimitOf(file);
    if (lines > limit) {
      violations.push({
        file,
        line: limit + 1,
        message: `File has ${lines} lines: split it (limit ${limit})`,
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
  const privateMessage = privateImport(file, target);
  if (privateMessage !== undefined) return privateMessage;
  if (to.top !== "runtime" || from.top === "tests") return undefined;
  return entersThroughModTs(target, to.layer);
}

/**
 * The message for importing a `_` file from outside its folder, if `file`
 * does. A `_` file is private to its folder (and the folders below it); the
 * tests of that folder may use it too: tests/X/ for runtime/X/, X/ or scripts/X/.
 */
function privateImport(file: string, target: string): string | undefined {
  if (!posix.basename(target).startsWith("_")) return undefined;
  const home = posix.dirname(target);
  const dir = posix.dirname(file);
  if (dir === home || dir.startsWith(`${home}/`)) return undefined;
  if (dir.startsWith("tests/")) {
    const tested = dir.slice("tests/".length);
    if ([tested, `runtime/${tested}`, `scripts/${tested}`].includes(home)) return undefined;
  }
  return `Import of private file ${target}: files starting with _ are private to ${home}`;
}

/** The message for reaching into another folder past its `mod.ts`, if it does. */
function entersThroughModTs(target: string, layer: string): string | undefined {
  if (target === `runtime/${layer}/mod.ts`) return undefined;
  return `Import of ${target}: other folders enter runtime/${layer} only through its mod.ts`;
}

/**
 * Checks that every repository file named in a code comment or a Markdown
 * file exists: a path like `runtime/core/mod.ts` (or `../core/mod.ts`) must
 * name a file relative to the repository's root or to the mentioning file,
 * and a shorter one like `core/mod.ts` or `mod.ts` must be the end of some
 * file's path. Mentions inside URLs and absolute paths, and the names of
 * {@link EXAMPLE_NAMES}, are not checked.
 *
 * @param files source and Markdown text by repository-relative path (`/` separators)
 * @param existing every file and folder path of the repository
 * @returns the violations, sorted by file and line; empty when all is well
 * @example
 * ```ts
 * const files = new Map([["mod.ts", "// See docs/gone" + ".md\n"]]);
 * console.assert(checkMentions(files, new Set(["mod.ts"]))[0].line === 1);
 * ```
 */
export function checkMentions(
  files: ReadonlyMap<string, string>,
  existing: ReadonlySet<string>,
): Violation[] {
  const violations: Violation[] = [];
  const suffixes = new Set<string>();
  for (const path of existing) {
    const parts = path.split("/");
    for (let i = 0; i < parts.length; i++) suffixes.add(parts.slice(i).join("/"));
  }
  for (const [file, text] of files) {
    const chunks: Comment[] = file.endsWith(".md") ? [{ text, line: 1 }] : findComments(text);
    for (const chunk of chunks) {
      for (const match of chunk.text.matchAll(MENTION)) {
        const named = match[1];
        const bare = named.replace(/^(\.\.?\/)+/, "");
        if (EXAMPLE_NAMES.has(bare)) continue;
        const relative = posix.normalize(posix.join(posix.dirname(file), named));
        if (existing.has(relative) || suffixes.has(bare)) continue;
        const line = chunk.line + chunk.text.slice(0, match.index).split("\n").length - 1;
        violations.push({
          file,
          line,
          message:
            `Mention of ${named}: no such file in the repository (fix or remove the reference)`,
        });
      }
    }
  }
  return violations.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

/** A repository as the checks read it. */
export interface Tree {
  /** Source files under {@link SOURCE_ROOTS}, by repository-relative path (`/` separators). */
  sources: Map<string, string>;
  /** Markdown files anywhere in the repository, by path. */
  docs: Map<string, string>;
  /** Every file and folder path. */
  paths: Set<string>;
}

/**
 * Reads a repository: its source files, its Markdown files and the paths of
 * all its files and folders (hidden ones and node_modules left out).
 *
 * @param root the repository's root folder
 * @returns the tree
 */
export async function readTree(root: string): Promise<Tree> {
  const tree: Tree = { sources: await readSourceTree(root), docs: new Map(), paths: new Set() };
  const visit = async (dir: string): Promise<void> => {
    for await (const entry of Deno.readDir(join(root, dir))) {
      if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
      const path = dir ? `${dir}/${entry.name}` : entry.name;
      tree.paths.add(path);
      if (entry.isDirectory) await visit(path);
      else if (entry.name.endsWith(".md")) {
        tree.docs.set(path, await Deno.readTextFile(join(root, path)));
      }
    }
  };
  await visit("");
  return tree;
}

/**
 * Runs every check over a repository: {@link checkImports} over its sources
 * and {@link checkMentions} over their comments and its Markdown files.
 *
 * @param root the repository's root folder
 * @returns the tree that was read and the violations, sorted by file and line
 */
export async function checkTree(root: string): Promise<{ tree: Tree; violations: Violation[] }> {
  const tree = await readTree(root);
  const violations = [
    ...checkImports(tree.sources),
    ...checkMentions(new Map([...tree.sources, ...tree.docs]), tree.paths),
  ].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
  return { tree, violations };
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
  const { tree, violations } = await checkTree(root);
  for (const v of violations) console.error(`${v.file}:${v.line}: ${v.message}`);
  if (violations.length > 0) {
    console.error(`Layering check failed: ${violations.length} violation(s)`);
    Deno.exit(1);
  }
  const files = tree.sources;
  const runtime = [...files.keys()].filter((f) => f.startsWith("runtime/")).length;
  console.log(
    `Layering OK: ${files.size} files (${runtime} in runtime/), none over ${MAX_RUNTIME_LINES} lines in runtime/ ` +
      `or ${MAX_LINES} elsewhere; ` +
      `${tree.docs.size} Markdown files name no missing file`,
  );
}
