/**
 * Links from this process to its peers, dialed on first use and kept; a
 * closed link is dialed again on the next use.
 *
 * @module
 */
import { sleep } from "../common/mod.ts";
import { dialFrames, FrameRpc, type RpcHandlers } from "../transport/mod.ts";

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
    dialing.catch(() => this.#links.delete(address));
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

  /** Forgets the link to a peer that is gone. */
  forget(address: string): void {
    const link = this.#links.get(address);
    this.#links.delete(address);
    link?.then((rpc) => rpc.conn.close("peer gone"), () => {});
  }

  /** Closes every link, once what was sent on it is written (at most CLOSE_FLUSH_MS). */
  async close(): Promise<void> {
    this.#closed = true;
    const links = [...this.#links.values()];
    this.#links.clear();
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
    const rpc = new FrameRpc(conn, this.#options.handlers);
    conn.closed.then(() => {
      if (this.#links.get(address) !== undefined) this.#links.delete(address);
    });
    return rpc;
  }
}
