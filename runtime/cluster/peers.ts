/**
 * Links from this process to its peers, dialed on first use and kept; a
 * closed link is dialed again on the next use.
 *
 * @module
 */
import { sleep } from "../common/mod.ts";
import { dialFrames, FrameRpc, type RpcHandlers } from "../transport/mod.ts";

/** Pull links open to one peer at most; more pulls wait for one. */
const PULL_LINKS = 4;
/** How long closing waits for what was sent (results told to their owners) to be written. */
const CLOSE_FLUSH_MS = 1000;

/** How peers are dialed. */
export interface PeerOptions {
  readonly token: string;
  readonly role: string;
  readonly nodeId: string;
  /** Links that do not keep the process alive (a driver's). */
  readonly unref: boolean;
  /** What to do with frames a peer sends on a link this process dialed. */
  readonly handlers: RpcHandlers;
}

/** The holder name of an owner at `address` in reference counts (dropped when it dies). */
export function holderOf(address: string): string {
  return address === "" ? "" : `peer:${address}`;
}

/** Splits `host:port` (IPv6 hosts in brackets). */
export function splitAddress(address: string): { hostname: string; port: number } {
  const at = address.lastIndexOf(":");
  const host = address.slice(0, at);
  const port = Number(address.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new TypeError(`Invalid address ${JSON.stringify(address)}: expected HOST:PORT`);
  }
  return { hostname: host.startsWith("[") ? host.slice(1, -1) : host, port };
}

/** The links to peers, by address. */
export class Peers {
  readonly #options: PeerOptions;
  readonly #links = new Map<string, Promise<FrameRpc>>();
  /** Idle links of their own for pulls, by address (see `borrow`). */
  readonly #idle = new Map<string, FrameRpc[]>();
  readonly #lent = new Set<FrameRpc>();
  /** Pull links open or being dialed, by address. */
  readonly #pullLinks = new Map<string, number>();
  /** Pulls waiting for a pull link, by address. */
  readonly #borrowers = new Map<
    string,
    { resolve: (rpc: FrameRpc) => void; reject: (err: Error) => void }[]
  >();
  #closed = false;

  constructor(options: PeerOptions) {
    this.#options = options;
  }

  /** The link to `address`, dialed if needed. */
  get(address: string): Promise<FrameRpc> {
    const have = this.#links.get(address);
    if (have) return have;
    if (this.#closed) return Promise.reject(new Error("this process is shutting down"));
    const dialing = this.#dial(address);
    this.#links.set(address, dialing);
    const drop = () => {
      if (this.#links.get(address) === dialing) this.#links.delete(address);
    };
    dialing.then((rpc) => rpc.conn.closed.then(drop), drop);
    return dialing;
  }

  /** Sends a one-way message to `address`; a failure is logged, not thrown. */
  send(address: string, type: number, message: unknown): void {
    this.get(address)
      .then((rpc) => rpc.conn.send(type, message))
      .catch((err) => {
        if (!this.#closed) console.warn(`rayd: message to ${address} lost: ${err.message}`);
      });
  }

  /**
   * A link of its own to `address` for bulk transfers (pulls), apart from
   * the link that carries tasks and calls: an idle one, a new one while
   * fewer than `PULL_LINKS` are open to that peer, else the next one given
   * back. Give it back with `giveBack`; a pull that fails mid-chunk closes
   * it instead.
   */
  borrow(address: string): Promise<FrameRpc> {
    if (this.#closed) return Promise.reject(new Error("this process is shutting down"));
    const idle = this.#idle.get(address);
    for (let rpc = idle?.pop(); rpc; rpc = idle?.pop()) {
      if (rpc.conn.isClosed) continue;
      this.#lent.add(rpc);
      return Promise.resolve(rpc);
    }
    const open = this.#pullLinks.get(address) ?? 0;
    if (open >= PULL_LINKS) {
      const { promise, resolve, reject } = Promise.withResolvers<FrameRpc>();
      const queue = this.#borrowers.get(address) ?? [];
      queue.push({ resolve, reject });
      this.#borrowers.set(address, queue);
      return promise;
    }
    this.#pullLinks.set(address, open + 1);
    return this.#dial(address).then((rpc) => {
      rpc.conn.closed.then(() => this.#pullLinkGone(address, rpc));
      if (this.#closed) {
        rpc.conn.close("shutting down");
        throw new Error("this process is shutting down");
      }
      this.#lent.add(rpc);
      return rpc;
    }, (err) => {
      this.#pullLinkGone(address, undefined);
      throw err;
    });
  }

  /** Takes back a borrowed link: to the next pull waiting for one, else kept idle. */
  giveBack(address: string, rpc: FrameRpc): void {
    this.#lent.delete(rpc);
    if (rpc.conn.isClosed) return;
    if (this.#closed) return rpc.conn.close("shutting down");
    const next = this.#borrowers.get(address)?.shift();
    if (next) {
      this.#lent.add(rpc);
      return next.resolve(rpc);
    }
    const idle = this.#idle.get(address) ?? [];
    idle.push(rpc);
    this.#idle.set(address, idle);
  }

  /** A pull link closed (or could not be dialed): a waiting pull may open another. */
  #pullLinkGone(address: string, rpc: FrameRpc | undefined): void {
    if (rpc) {
      this.#lent.delete(rpc);
      const idle = this.#idle.get(address);
      const at = idle?.indexOf(rpc) ?? -1;
      if (at >= 0) idle!.splice(at, 1);
    }
    this.#pullLinks.set(address, Math.max(0, (this.#pullLinks.get(address) ?? 1) - 1));
    const next = this.#borrowers.get(address)?.shift();
    if (next) this.borrow(address).then(next.resolve, next.reject);
  }

  /** Forgets the link to a peer that is gone. */
  forget(address: string): void {
    const link = this.#links.get(address);
    this.#links.delete(address);
    link?.then((rpc) => rpc.conn.close("peer gone"), () => {});
    for (const rpc of this.#idle.get(address) ?? []) rpc.conn.close("peer gone");
    this.#idle.delete(address);
  }

  /** Closes every link, once what was sent on it is written (at most CLOSE_FLUSH_MS). */
  async close(): Promise<void> {
    this.#closed = true;
    const links = [...this.#links.values()];
    this.#links.clear();
    for (const rpc of [...this.#lent, ...[...this.#idle.values()].flat()]) {
      rpc.conn.close("shutting down");
    }
    this.#lent.clear();
    this.#idle.clear();
    const waiting = [...this.#borrowers.values()].flat();
    this.#borrowers.clear();
    for (const w of waiting) w.reject(new Error("this process is shutting down"));
    await Promise.allSettled(links.map(async (l) => {
      const { conn } = await l;
      await Promise.race([conn.drained(), sleep(CLOSE_FLUSH_MS)]);
      conn.close("shutting down");
    }));
  }

  async #dial(address: string): Promise<FrameRpc> {
    const { hostname, port } = splitAddress(address);
    const { token, role, nodeId } = this.#options;
    const conn = await dialFrames({ hostname, port, token, role, nodeId });
    if (this.#options.unref) conn.conn.unref();
    return new FrameRpc(conn, this.#options.handlers);
  }
}
