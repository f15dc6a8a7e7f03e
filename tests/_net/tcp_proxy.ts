/**
 * A TCP proxy inside the test process that makes a network worse on demand:
 * it delays every chunk (each way, order kept), refuses new connections,
 * swallows them (accepts and never answers), or kills the open ones. No
 * netem or iptables needed.
 *
 * ```ts
 * await using proxy = TcpProxy.start({ target: { hostname: "127.0.0.1", port: 7000 } });
 * proxy.delayMs = 100;        // each way
 * proxy.mode = "refuse";      // new connections are closed at once
 * proxy.killAll();            // open ones end now
 * proxy.stall();              // open ones carry nothing (a cut link) ...
 * proxy.resume();             // ... until now: what was held goes through, in order
 * ```
 *
 * @module
 */

/** What the proxy does with a new connection. */
export type ProxyMode =
  /** Connect to the target and forward both ways (after `delayMs`). */
  | "forward"
  /** Close it at once. */
  | "refuse"
  /** Keep it open, read and drop what comes, never connect to the target. */
  | "blackhole";

/** Where the proxy listens and where it forwards to. */
export interface TcpProxyOptions {
  /** The address to forward to. */
  readonly target: { readonly hostname: string; readonly port: number };
  /** Where to listen (default 127.0.0.1 on a free port). */
  readonly listen?: { readonly hostname?: string; readonly port?: number };
  /** Initial delay of each chunk, each way, in milliseconds (default 0). */
  readonly delayMs?: number;
}

interface Pair {
  readonly client: Deno.Conn;
  upstream?: Deno.Conn;
}

/** The proxy: listening from `start` until `close`. */
export class TcpProxy implements AsyncDisposable {
  /** Where clients connect. */
  readonly hostname: string;
  readonly port: number;
  /** Delay of each chunk, each way, in milliseconds; applies to chunks read from now on. */
  delayMs: number;
  /** What happens to the next connections. */
  mode: ProxyMode = "forward";
  /** Connections accepted so far (every mode). */
  accepted = 0;
  #stalled: Promise<void> | undefined;
  #resume: (() => void) | undefined;
  readonly #target: TcpProxyOptions["target"];
  readonly #listener: Deno.Listener;
  readonly #pairs = new Set<Pair>();
  readonly #tasks = new Set<Promise<void>>();
  #acceptLoop: Promise<void>;

  private constructor(options: TcpProxyOptions) {
    this.#target = options.target;
    this.delayMs = options.delayMs ?? 0;
    this.#listener = Deno.listen({
      hostname: options.listen?.hostname ?? "127.0.0.1",
      port: options.listen?.port ?? 0,
    });
    const addr = this.#listener.addr as Deno.NetAddr;
    this.hostname = addr.hostname;
    this.port = addr.port;
    this.#acceptLoop = this.#accept();
  }

  /** Starts listening. */
  static start(options: TcpProxyOptions): TcpProxy {
    if (!(options.delayMs === undefined || options.delayMs >= 0)) {
      throw new RangeError(`Invalid delayMs: ${options.delayMs} (must be >= 0)`);
    }
    return new TcpProxy(options);
  }

  /** Connections open now (forwarded or swallowed). */
  get active(): number {
    return this.#pairs.size;
  }

  /** Ends every open connection at once (both sides closed, nothing more forwarded); returns how many. */
  killAll(): number {
    const n = this.#pairs.size;
    for (const pair of [...this.#pairs]) this.#end(pair);
    return n;
  }

  /**
   * Holds every chunk (and every close) of the open and later connections,
   * both ways, as a link that went down holds them, until {@link resume}.
   */
  stall(): void {
    if (this.#stalled) return;
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#stalled = promise;
    this.#resume = resolve;
  }

  /** Ends a {@link stall}: what was held goes through, in order. */
  resume(): void {
    const resolve = this.#resume;
    this.#stalled = this.#resume = undefined;
    resolve?.();
  }

  /** Stops listening, kills every connection, and waits until all of it is finished. */
  async close(): Promise<void> {
    this.resume();
    try {
      this.#listener.close();
    } catch { /* already closed */ }
    await this.#acceptLoop;
    this.killAll();
    await Promise.allSettled([...this.#tasks]);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #accept(): Promise<void> {
    while (true) {
      let client: Deno.Conn;
      try {
        client = await this.#listener.accept();
      } catch {
        return; // closed
      }
      this.accepted++;
      if (this.mode === "refuse") {
        client.close();
        continue;
      }
      const pair: Pair = { client };
      this.#pairs.add(pair);
      this.#track(this.mode === "blackhole" ? this.#swallow(pair) : this.#forward(pair));
    }
  }

  #track(task: Promise<void>): void {
    this.#tasks.add(task);
    task.finally(() => this.#tasks.delete(task));
  }

  async #swallow(pair: Pair): Promise<void> {
    const buf = new Uint8Array(16 * 1024);
    try {
      while ((await pair.client.read(buf)) !== null) { /* dropped */ }
    } catch { /* killed */ }
    this.#end(pair);
  }

  async #forward(pair: Pair): Promise<void> {
    try {
      pair.upstream = await Deno.connect({
        hostname: this.#target.hostname,
        port: this.#target.port,
      });
    } catch {
      this.#end(pair);
      return;
    }
    if (!this.#pairs.has(pair)) {
      // Killed while connecting.
      pair.upstream.close();
      return;
    }
    await Promise.allSettled([
      this.#pump(pair.client, pair.upstream, pair),
      this.#pump(pair.upstream, pair.client, pair),
    ]);
    this.#end(pair);
  }

  /** Copies `src` to `dst`, each chunk held `delayMs` (as set when it was read), in order. */
  async #pump(src: Deno.Conn, dst: Deno.Conn, pair: Pair): Promise<void> {
    const queue: { due: number; data: Uint8Array }[] = [];
    let readerDone = false;
    let wake: (() => void) | undefined;
    const writer = (async () => {
      while (this.#pairs.has(pair)) {
        const item = queue.shift();
        if (item === undefined) {
          if (readerDone) break;
          await new Promise<void>((resolve) => (wake = resolve));
          continue;
        }
        const wait = item.due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        while (this.#stalled) await this.#stalled;
        if (!this.#pairs.has(pair)) return;
        for (let off = 0; off < item.data.length;) off += await dst.write(item.data.subarray(off));
      }
      while (this.#stalled) await this.#stalled;
      if (this.#pairs.has(pair)) await dst.closeWrite();
    })().catch(() => this.#end(pair));
    const buf = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await src.read(buf);
        if (n === null) break;
        queue.push({ due: performance.now() + this.delayMs, data: buf.slice(0, n) });
        wake?.();
        wake = undefined;
      }
    } catch {
      this.#end(pair);
    } finally {
      readerDone = true;
      wake?.();
    }
    await writer;
  }

  #end(pair: Pair): void {
    if (!this.#pairs.delete(pair)) return;
    for (const conn of [pair.client, pair.upstream]) {
      try {
        conn?.close();
      } catch { /* already closed */ }
    }
  }
}
