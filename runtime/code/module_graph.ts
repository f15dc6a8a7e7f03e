/**
 * The local module graph of a driver's code: every `file:` module reachable
 * from an entry module through static imports, re-exports and dynamic
 * imports of string literals, each with the SHA-256 of its bytes. A node that
 * cannot read the driver's files receives the graph and the bytes it does not
 * have yet (content-addressed, so drivers that use the same files share them)
 * and runs the code from its own copy (see ModuleCache).
 *
 * Specifiers that are not relative or `file:` (`npm:`, `jsr:`, `http:`, bare
 * names from an import map) are listed as externals: the node resolves them
 * itself. Modules reached only through `new URL("./x.ts", import.meta.url)`
 * (workers, assets) are not found and not shipped.
 *
 * Imports are read with TypeScript's own `preProcessFile`, which knows every
 * TypeScript and JavaScript import form and skips strings and comments; the
 * `typescript` package is loaded only when a graph is first built.
 *
 * @module
 */

/** One module of a graph. */
export interface GraphModule {
  /** Its path relative to the graph's root folder, with `/` separators. */
  readonly path: string;
  /** SHA-256 of its bytes, hex. */
  readonly hash: string;
  /** Its size in bytes. */
  readonly bytes: number;
  /**
   * Its imports of rayd's own modules (`runtime/`, `mod.ts`): the specifier as
   * written and the module's path under rayd's folder. They are not shipped:
   * the node points them at its own rayd (one rayd per worker).
   */
  readonly rayd?: readonly (readonly [specifier: string, path: string])[];
}

/** A driver's local module graph. */
export interface ModuleGraph {
  /** SHA-256 over the sorted `path:hash` list: the same files give the same id. */
  readonly id: string;
  /** The folder all modules are under, as a `file:` URL ending in `/`. */
  readonly root: string;
  /** The entry module's path relative to `root`. */
  readonly entry: string;
  /** Every module, sorted by path. */
  readonly modules: readonly GraphModule[];
  /** Specifiers the node resolves itself, sorted. */
  readonly externals: readonly string[];
}

/** A graph and the bytes of its modules, by hash. */
export interface ShippableGraph {
  /** The graph. */
  readonly graph: ModuleGraph;
  /** The bytes of every module, by hash. */
  readonly sources: ReadonlyMap<string, Uint8Array>;
}

const SOURCE = /\.(m|c)?(t|j)sx?$/;

/** rayd's own folder, as a `file:` URL ending in `/` (when rayd runs from files). */
export const RAYD_ROOT: string = new URL("../../", import.meta.url).href;

/** The path of `url` under rayd's own modules (`runtime/...`, `mod.ts`), or undefined. */
export function raydPathOf(url: string, root = RAYD_ROOT): string | undefined {
  if (!url.startsWith(root)) return undefined;
  const path = decodeURIComponent(url.slice(root.length));
  return path === "mod.ts" || path.startsWith("runtime/") ? path : undefined;
}

/** SHA-256 of `bytes`, hex. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

type Preprocess = (
  source: string,
  readImportFiles: boolean,
  detectJavaScriptImports: boolean,
) => { importedFiles: { fileName: string }[] };

let preprocess: Promise<Preprocess> | undefined;

function importsReader(): Promise<Preprocess> {
  // An inline npm: specifier, as for msgpackr, so that rayd imported by URL from another project
  // still finds it; loaded on first use only (about 0.4 s).
  // deno-lint-ignore no-import-prefix
  preprocess ??= import("npm:typescript@5.9.3").then((ts) => ts.default.preProcessFile);
  return preprocess;
}

/** The specifiers `source` imports (static, re-export, dynamic with a literal). */
export async function importsOf(source: string): Promise<string[]> {
  const read = await importsReader();
  return read(source, true, true).importedFiles.map((f) => f.fileName);
}

/**
 * Walks the local modules reachable from `entry` and reads their bytes.
 *
 * @param entry the entry module, a `file:` URL
 * @returns the graph and its sources
 */
export async function moduleGraphOf(entry: string | URL): Promise<ShippableGraph> {
  const start = new URL(entry);
  if (start.protocol !== "file:") {
    throw new TypeError(`Cannot ship ${start.href}: only file: modules are shipped`);
  }
  if (raydPathOf(start.href) !== undefined) {
    throw new TypeError(`Cannot ship ${start.href}: it is rayd's own module`);
  }
  const files = new Map<string, Uint8Array>();
  const raydImports = new Map<string, [string, string][]>();
  const externals = new Set<string>();
  const queue: { url: URL; from?: string }[] = [{ url: start }];
  while (queue.length > 0) {
    const { url, from } = queue.shift()!;
    if (files.has(url.href)) continue;
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(url);
    } catch (e) {
      const by = from ? ` (imported by ${from})` : "";
      throw new Error(`Cannot ship ${url.pathname}${by}: ${(e as Error).message}`, { cause: e });
    }
    files.set(url.href, bytes);
    if (!SOURCE.test(url.pathname)) continue;
    for (const spec of await importsOf(new TextDecoder().decode(bytes))) {
      if (/^\.{0,2}\//.test(spec) || spec.startsWith("file:")) {
        const target = new URL(spec, url);
        const own = raydPathOf(target.href);
        if (own === undefined) queue.push({ url: target, from: url.pathname });
        else {
          const list = raydImports.get(url.href) ?? [];
          list.push([spec, own]);
          raydImports.set(url.href, list);
        }
      } else {
        externals.add(spec);
      }
    }
  }
  const root = commonFolder([...files.keys()]);
  const sources = new Map<string, Uint8Array>();
  const modules: GraphModule[] = [];
  for (const [href, bytes] of files) {
    const hash = await sha256Hex(bytes);
    sources.set(hash, bytes);
    const path = decodeURIComponent(href.slice(root.length));
    const rayd = raydImports.get(href);
    modules.push(
      rayd ? { path, hash, bytes: bytes.length, rayd } : { path, hash, bytes: bytes.length },
    );
  }
  modules.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const id = await sha256Hex(
    new TextEncoder().encode(
      modules.map((m) => `${m.path}:${m.hash}${m.rayd ? ` ${JSON.stringify(m.rayd)}` : ""}`)
        .join("\n"),
    ),
  );
  const graph: ModuleGraph = {
    id,
    root,
    entry: decodeURIComponent(start.href.slice(root.length)),
    modules,
    externals: [...externals].sort(),
  };
  return { graph, sources };
}

/** The deepest folder (a URL ending in `/`) that holds every one of `hrefs`. */
function commonFolder(hrefs: string[]): string {
  let prefix = hrefs[0].slice(0, hrefs[0].lastIndexOf("/") + 1);
  for (const href of hrefs) {
    while (!href.startsWith(prefix)) {
      prefix = prefix.slice(0, prefix.slice(0, -1).lastIndexOf("/") + 1);
    }
  }
  return prefix;
}
