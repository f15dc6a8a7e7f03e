/**
 * A node's cache of shipped code. Module bytes are kept once per content hash
 * (`blobs/<sha256>`), whichever driver sent them; a graph is laid out as a
 * folder tree (`graphs/<graph id>/<path>`) of hard links to those blobs, so
 * relative imports between its modules work as they did on the driver, and a
 * driver's module URL maps to the same path under the tree (`mirrorOf`).
 *
 * @module
 */
import { type GraphModule, type ModuleGraph, RAYD_ROOT, sha256Hex } from "./module_graph.ts";

const HASH = /^[0-9a-f]{64}$/;

/** A content-addressed store of module bytes and the graphs laid out from them. */
export class ModuleCache {
  readonly #dir: string;
  readonly #raydRoot: string;
  readonly #laidOut = new Map<string, Promise<string>>();

  /**
   * @param dir the folder to keep the cache in (made when missing)
   * @param raydRoot the rayd that imports of rayd's own modules go to (this process's)
   */
  constructor(dir: string, raydRoot = RAYD_ROOT) {
    this.#dir = dir.replace(/\/+$/, "");
    this.#raydRoot = raydRoot;
  }

  /** The cached bytes with `hash`. */
  read(hash: string): Promise<Uint8Array> {
    checkHash(hash);
    return Deno.readFile(this.#blob(hash));
  }

  /** The hashes of `graph`'s modules that this cache does not hold yet. */
  async missing(graph: ModuleGraph): Promise<string[]> {
    const out: string[] = [];
    for (const m of graph.modules) {
      if (!(await this.has(m.hash))) out.push(m.hash);
    }
    return [...new Set(out)];
  }

  /** Whether the bytes with `hash` are cached. */
  async has(hash: string): Promise<boolean> {
    checkHash(hash);
    try {
      return (await Deno.stat(this.#blob(hash))).isFile;
    } catch {
      return false;
    }
  }

  /**
   * Stores `bytes` under `hash`, after checking that they hash to it.
   *
   * @param hash the SHA-256 the sender claims, hex
   * @param bytes the module's bytes
   */
  async put(hash: string, bytes: Uint8Array): Promise<void> {
    checkHash(hash);
    const actual = await sha256Hex(bytes);
    if (actual !== hash) {
      throw new Error(
        `Shipped module bytes do not match their hash ${hash} (they hash to ${actual})`,
      );
    }
    if (await this.has(hash)) return;
    await Deno.mkdir(`${this.#dir}/blobs`, { recursive: true });
    const tmp = `${this.#blob(hash)}.${crypto.randomUUID()}.tmp`;
    await Deno.writeFile(tmp, bytes, { mode: 0o644 });
    await Deno.rename(tmp, this.#blob(hash));
  }

  /**
   * Lays out `graph` as a folder tree and returns the `file:` URL of its root
   * folder (ending in `/`). Every module must be cached (`missing` is empty).
   */
  layOut(graph: ModuleGraph): Promise<string> {
    checkHash(graph.id);
    let done = this.#laidOut.get(graph.id);
    if (!done) {
      done = this.#layOut(graph);
      this.#laidOut.set(graph.id, done);
      done.catch(() => this.#laidOut.delete(graph.id));
    }
    return done;
  }

  /**
   * Where a module of the driver's (`url`, under `graph.root`) is in this cache.
   *
   * @returns the `file:` URL of the copy, or `undefined` when `url` is not in the graph
   */
  async mirrorOf(graph: ModuleGraph, url: string): Promise<string | undefined> {
    if (!url.startsWith(graph.root)) return undefined;
    const path = decodeURIComponent(url.slice(graph.root.length));
    if (!graph.modules.some((m) => m.path === path)) return undefined;
    return new URL(encodePath(path), await this.layOut(graph)).href;
  }

  async #layOut(graph: ModuleGraph): Promise<string> {
    const missing = await this.missing(graph);
    if (missing.length > 0) {
      throw new Error(
        `Cannot lay out code graph ${graph.id}: ${missing.length} module(s) not shipped`,
      );
    }
    const top = `${this.#dir}/graphs/${graph.id}`;
    const tmp = `${top}.${crypto.randomUUID()}.tmp`;
    for (const m of graph.modules) {
      if (
        m.path.split("/").some((part) => part === ".." || part === "") || m.path.startsWith("/")
      ) {
        throw new Error(`Refusing to lay out a module outside its graph: "${m.path}"`);
      }
      const target = `${tmp}/${m.path}`;
      await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
      if (m.rayd) {
        await Deno.writeTextFile(target, await this.#pointedAtRayd(m), { mode: 0o644 });
        continue;
      }
      try {
        await Deno.link(this.#blob(m.hash), target);
      } catch {
        await Deno.copyFile(this.#blob(m.hash), target);
      }
    }
    try {
      await Deno.rename(tmp, top);
    } catch (e) {
      // Another process laid the same graph out first: same content, keep theirs.
      await Deno.remove(tmp, { recursive: true });
      if (!(await Deno.stat(top).then((s) => s.isDirectory, () => false))) throw e;
    }
    return new URL(`file://${encodePath(top)}/`).href;
  }

  /** `m`'s source with its imports of rayd's own modules pointing at this process's rayd. */
  async #pointedAtRayd(m: GraphModule): Promise<string> {
    let text = new TextDecoder().decode(await this.read(m.hash));
    for (const [spec, path] of m.rayd ?? []) {
      const to = new URL(encodePath(path), this.#raydRoot).href;
      for (const q of [`"`, `'`]) text = text.replaceAll(`${q}${spec}${q}`, `${q}${to}${q}`);
    }
    return text;
  }

  #blob(hash: string): string {
    return `${this.#dir}/blobs/${hash}`;
  }
}

function checkHash(hash: string): void {
  if (!HASH.test(hash)) throw new Error(`Not a SHA-256 hex digest: "${hash}"`);
}

function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}
