/**
 * Code shipping between cluster processes. A process that sends a task or
 * an actor whose module is a `file:` URL names that module's code graph
 * (runtime/code: content-addressed, computed once per module) in the
 * message. The receiver makes sure it can run that graph before it takes
 * the message: when it reads the same files with the same bytes at the
 * same paths (a node on the driver's machine) it keeps the original URLs;
 * otherwise it asks the sender for the graph and the modules its cache
 * lacks, lays the graph out and runs the copy (the mirror). A mirror URL
 * maps back to its graph, so a nested task declared by a mirrored module
 * ships the same graph again when it is forwarded.
 *
 * Messages that wait for code hold back the ones behind them (one queue
 * each way), so an actor's calls never overtake its creation and a cancel
 * never overtakes its task.
 *
 * @module
 */
import { importsOf, ModuleCache, type ModuleGraph, moduleGraphOf, sha256Hex } from "../code/mod.ts";
import type { FunctionDescriptor } from "../protocol/mod.ts";
import { type CodeRefs, type CodeReply, type CodeRequest, MSG } from "./messages.ts";
import type { RunMessage } from "./run_wire.ts";
import type { ActorMessage } from "./remote_actors.ts";
import type { Peers } from "./peers.ts";

/** Bytes of modules asked for in one `code` request (a bigger module goes alone). */
const CODE_CHUNK_BYTES = 8 * 1024 * 1024;

/** A module as it travels: its URL where its graph was made, and the graph's id. */
interface Origin {
  readonly url: string;
  readonly graph: string;
  /** The folder the graph's paths are under there. */
  readonly root: string;
}

/** How this process runs a graph it received. */
interface Local {
  readonly graph: ModuleGraph;
  /** The sender's folder of the graph (the same files may sit in other folders elsewhere). */
  readonly root: string;
  /** The laid-out copy's folder; undefined when the original files are read here. */
  readonly mirrorRoot?: string;
}

/** What a received message's descriptors become here. */
export type LocalDescriptor = (fn: FunctionDescriptor) => FunctionDescriptor;

/** How code is shipped. */
export interface CodeShippingOptions {
  readonly peers: Peers;
  /** Runs received graphs from the copy even when the original files read the same (tests). */
  readonly alwaysMirror?: boolean;
}

interface Outgoing {
  readonly address: string;
  readonly type: number;
  readonly message: unknown;
  readonly urls: readonly string[];
  readonly origins: Promise<(Origin | undefined)[]>;
}

interface Incoming {
  readonly ready: Promise<Map<string, Local | Error>>;
  readonly code: CodeRefs | undefined;
  readonly handle: (local: LocalDescriptor) => void;
}

/** One process's code shipping: its sending and receiving sides. */
export class CodeShipping {
  readonly #options: CodeShippingOptions;
  /** Module URL -> where it comes from (undefined: not shipped), once known. */
  readonly #origins = new Map<string, Origin | undefined>();
  readonly #computing = new Map<string, Promise<Origin | undefined>>();
  /** Graphs this process can serve, with how to read a module's bytes. */
  readonly #served = new Map<
    string,
    { graph: ModuleGraph; read: (hash: string) => Uint8Array | Promise<Uint8Array> }
  >();
  /** Graphs received, by id. */
  readonly #local = new Map<string, Promise<Local>>();
  readonly #localDone = new Map<string, Local | Error>();
  #outbox: Outgoing[] = [];
  #inbox: Incoming[] = [];
  #cache: Promise<{ cache: ModuleCache; dir: string }> | undefined;
  #closed = false;

  constructor(options: CodeShippingOptions) {
    this.#options = options;
  }

  /** Loads the import reader now (a driver's first graph then waits less). */
  warm(): void {
    importsOf("").catch(() => {}); // an error shows when a graph is made
  }

  /**
   * Sends a peer message, naming the code graphs of its `file:` modules
   * (`run` tasks, actor `create`), in order with the messages sent before.
   */
  send(address: string, type: number, message: unknown): void {
    const urls = modulesOf(type, message);
    const known = urls.map((u) => this.#origin(u));
    if (this.#outbox.length === 0 && !known.some((o) => o instanceof Promise)) {
      const origins = known as (Origin | undefined)[];
      return this.#options.peers.send(address, type, withCode(type, message, urls, origins));
    }
    this.#outbox.push({ address, type, message, urls, origins: Promise.all(known) });
    if (this.#outbox.length === 1) this.#drainOut();
  }

  async #drainOut(): Promise<void> {
    while (this.#outbox.length > 0) {
      const next = this.#outbox[0];
      const origins = await next.origins;
      if (!this.#closed) {
        const message = withCode(next.type, next.message, next.urls, origins);
        this.#options.peers.send(next.address, next.type, message);
      }
      this.#outbox.shift();
    }
  }

  /** Where module `url` comes from: known now, being computed, or undefined (not shipped). */
  #origin(url: string): Origin | undefined | Promise<Origin | undefined> {
    if (this.#origins.has(url)) return this.#origins.get(url);
    if (!url.startsWith("file:")) return undefined;
    let computing = this.#computing.get(url);
    if (!computing) {
      computing = moduleGraphOf(url).then(({ graph, sources }) => {
        if (!this.#served.has(graph.id)) {
          this.#served.set(graph.id, { graph, read: (hash) => sources.get(hash)! });
        }
        return { url, graph: graph.id, root: graph.root };
      }, (err) => {
        // Not shippable (unreadable here): the receiver tries the URL itself.
        console.error(`rayd: cannot ship the code of ${url}: ${(err as Error).message}`);
        return undefined;
      }).then((origin) => {
        this.#origins.set(url, origin);
        this.#computing.delete(url);
        return origin;
      });
      this.#computing.set(url, computing);
    }
    return computing;
  }

  /** Module `url` as it is at its origin: a mirror's original URL, else `url` itself. */
  originOf(url: string): string {
    return this.#origins.get(url)?.url ?? url;
  }

  /** Answers a peer's `code` request. */
  async serve(request: unknown): Promise<{ message: CodeReply; body?: Uint8Array }> {
    const { graph, hashes } = request as CodeRequest;
    const served = this.#served.get(graph);
    if (!served) throw new Error(`code graph ${graph} is not known here`);
    if (!hashes) return { message: { graph: served.graph } };
    const parts: Uint8Array[] = [];
    for (const hash of hashes) parts.push(await served.read(hash));
    const body = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) body.set(p, at), at += p.length;
    return { message: { sizes: parts.map((p) => p.length) }, body };
  }

  /**
   * Takes a peer message once the code it names can run here, in order with
   * the messages received before: `handle` gets it with its descriptors as
   * they are here (a mirror's URL where the original files cannot be read).
   */
  receive<M>(type: number, message: M, handle: (message: M) => void): void {
    const { origin, code } = codeOf(type, message);
    const graphs = [...new Set((code ?? []).map(([, g, root]) => `${g} ${root}`))];
    const take = (local: LocalDescriptor) => handle(localized(type, message, local));
    if (this.#inbox.length === 0 && graphs.every((g) => this.#localDone.has(g))) {
      return take(this.#localDescriptor(code, this.#localDone));
    }
    const ready = Promise.all(graphs.map((g) => this.#localFor(g, origin).catch((e) => e)))
      .then((got) => new Map(graphs.map((g, i) => [g, got[i] as Local | Error])));
    this.#inbox.push({ ready, code, handle: take });
    if (this.#inbox.length === 1) this.#drainIn();
  }

  async #drainIn(): Promise<void> {
    while (this.#inbox.length > 0) {
      const { ready, code, handle } = this.#inbox[0];
      const graphs = await ready;
      try {
        if (!this.#closed) handle(this.#localDescriptor(code, graphs));
      } catch (err) {
        // As a message taken at once would: said, and the ones behind it still taken.
        console.error(`rayd: a peer message could not be taken: ${(err as Error).message}`);
      }
      this.#inbox.shift();
    }
  }

  /** What descriptors of a message naming `code` become here. */
  #localDescriptor(
    code: CodeRefs | undefined,
    graphs: Map<string, Local | Error>,
  ): LocalDescriptor {
    if (!code || code.length === 0) return (fn) => fn;
    const byUrl = new Map(code.map(([url, g, root]) => [url, `${g} ${root}`]));
    return (fn) => {
      const id = byUrl.get(fn.moduleUrl);
      const local = id === undefined ? undefined : graphs.get(id);
      if (!local) return fn;
      if (local instanceof Error) return failing(fn, local);
      if (!local.mirrorRoot) return fn;
      const path = decodeURIComponent(fn.moduleUrl.slice(local.root.length));
      return { ...fn, moduleUrl: new URL(encodePath(path), local.mirrorRoot).href };
    };
  }

  /** Makes graph `key` (`id root`) runnable here (asking `origin` for what is missing), once. */
  #localFor(key: string, origin: string): Promise<Local> {
    let local = this.#local.get(key);
    if (!local) {
      const at = key.indexOf(" ");
      local = this.#fetchGraph(key.slice(0, at), key.slice(at + 1), origin).then((l) => {
        this.#localDone.set(key, l);
        return l;
      });
      local.catch(() => this.#local.delete(key));
      this.#local.set(key, local);
    }
    return local;
  }

  async #fetchGraph(id: string, root: string, origin: string): Promise<Local> {
    try {
      const rpc = await this.#options.peers.get(origin);
      const ask = async (req: CodeRequest) => {
        const reply = await rpc.request(MSG.code, req);
        return { message: reply.message as CodeReply, body: reply.body };
      };
      const { graph } = (await ask({ graph: id })).message;
      if (!graph || graph.id !== id) throw new Error(`${origin} sent no graph ${id}`);
      if (!this.#options.alwaysMirror && await readsSameFiles(graph, root)) {
        this.#served.set(id, {
          graph,
          read: (hash) => Deno.readFile(fileOf(root, graph.modules.find((m) => m.hash === hash)!)),
        });
        return { graph, root };
      }
      const { cache } = await this.#cacheHere();
      const missing = new Set(await cache.missing(graph));
      const sizes = new Map(graph.modules.map((m) => [m.hash, m.bytes]));
      let batch: string[] = [];
      let batchBytes = 0;
      const flush = async () => {
        if (batch.length === 0) return;
        const { message, body } = await ask({ graph: id, hashes: batch });
        let at = 0;
        for (const [i, hash] of batch.entries()) {
          const size = message.sizes?.[i] ?? -1;
          if (size < 0 || at + size > body.length) throw new Error(`${origin} sent too few bytes`);
          await cache.put(hash, body.subarray(at, at + size));
          at += size;
        }
        batch = [];
        batchBytes = 0;
      };
      for (const hash of missing) {
        if (batchBytes + sizes.get(hash)! > CODE_CHUNK_BYTES) await flush();
        batch.push(hash);
        batchBytes += sizes.get(hash)!;
      }
      await flush();
      const mirrorRoot = await cache.layOut(graph);
      this.#served.set(id, { graph, read: (hash) => cache.read(hash) });
      for (const m of graph.modules) {
        const mirror = new URL(encodePath(m.path), mirrorRoot).href;
        this.#origins.set(mirror, { url: fileOf(root, m).href, graph: id, root });
      }
      return { graph, root, mirrorRoot };
    } catch (err) {
      throw new Error(
        `cannot get code graph ${id.slice(0, 12)} from ${origin}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  #cacheHere(): Promise<{ cache: ModuleCache; dir: string }> {
    this.#cache ??= Deno.makeTempDir({ prefix: "rayd_code_" }).then((dir) => ({
      cache: new ModuleCache(dir),
      dir,
    }));
    return this.#cache;
  }

  /** Stops sending and taking messages and removes the cache. */
  async close(): Promise<void> {
    this.#closed = true;
    const cache = await this.#cache?.catch(() => undefined);
    if (cache) await Deno.remove(cache.dir, { recursive: true }).catch(() => {});
  }
}

/** Who sent a message and the code graphs it names. */
function codeOf(type: number, message: unknown): { origin: string; code?: CodeRefs } {
  if (type === MSG.run) {
    return { origin: (message as RunMessage).owner, code: (message as RunMessage).code };
  }
  const m = message as ActorMessage;
  if (type === MSG.actor && m.kind === "create") {
    return { origin: m.codeFrom ?? m.owner, code: m.code };
  }
  return { origin: "" };
}

/** A received message with its descriptors as they are here. */
function localized<M>(type: number, message: M, local: LocalDescriptor): M {
  if (type === MSG.run) {
    const m = message as RunMessage;
    if (!m.code) return message;
    return { ...m, fns: m.fns.map(local) } as M;
  }
  const m = message as ActorMessage;
  if (type !== MSG.actor || m.kind !== "create" || !m.code) return message;
  return { ...m, spec: { ...m.spec, cls: local(m.spec.cls) } } as M;
}

/** The module URLs a message names. */
function modulesOf(type: number, message: unknown): string[] {
  if (type === MSG.run) {
    return [...new Set((message as RunMessage).fns.map((fn) => fn.moduleUrl))];
  }
  const m = message as ActorMessage;
  if (type === MSG.actor && m.kind === "create") return [m.spec.cls.moduleUrl];
  return [];
}

/** `message` with its modules' URLs as at their origin and `code` naming their graphs. */
function withCode(
  type: number,
  message: unknown,
  urls: readonly string[],
  origins: readonly (Origin | undefined)[],
): unknown {
  const byUrl = new Map<string, Origin>();
  urls.forEach((u, i) => origins[i] && byUrl.set(u, origins[i]));
  if (byUrl.size === 0) return message;
  const code: CodeRefs = [...byUrl.values()].map((o) => [o.url, o.graph, o.root]);
  if ([...byUrl].every(([url, o]) => url === o.url)) return { ...(message as object), code };
  const fn = (d: FunctionDescriptor) => {
    const url = byUrl.get(d.moduleUrl)?.url;
    return url === undefined || url === d.moduleUrl ? d : { ...d, moduleUrl: url };
  };
  if (type === MSG.run) {
    const m = message as RunMessage;
    return { ...m, code, fns: m.fns.map(fn) } satisfies RunMessage;
  }
  const m = message as ActorMessage & { kind: "create" };
  return { ...m, code, spec: { ...m.spec, cls: fn(m.spec.cls) } } satisfies ActorMessage;
}

/** The original URL of a graph's module, the graph being in folder `root`. */
function fileOf(root: string, m: { path: string }): URL {
  return new URL(encodePath(m.path), root);
}

/** True when every module of `graph` is here, at its path, with the same bytes. */
async function readsSameFiles(graph: ModuleGraph, root: string): Promise<boolean> {
  for (const m of graph.modules) {
    try {
      if ((await sha256Hex(await Deno.readFile(fileOf(root, m)))) !== m.hash) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** A descriptor whose function fails with `error` (its code could not be had). */
function failing(fn: FunctionDescriptor, error: Error): FunctionDescriptor {
  const text = JSON.stringify(`${fn.name}: ${error.message}`);
  return { ...fn, moduleUrl: "", source: `function () { throw new Error(${text}); }` };
}

function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}
