/**
 * Object locations kept by owners. Every id starts with the owner tag of
 * the process that made it (ids.ts): that process owns the object and
 * keeps its directory of copies (directory.ts). Holders tell the owner of
 * the copies they add and remove (`publish`, batched per owner per turn),
 * and readers ask the owner where a copy is (`locate`). An owner's address
 * comes from its tag through the head's membership (`whereIs`, cached here;
 * new members are learned on first use, dead ones from `nodeDied`).
 *
 * @module
 */
import {
  type NodeId,
  type ObjectId,
  objectLost,
  ObjectLostError,
  ownerTagOf,
  RecentSet,
} from "../common/mod.ts";
import { ObjectDirectory } from "./directory.ts";
import type { HeadApi } from "./head.ts";
import { type LocateRequest, MSG, type OwnerInfo, type PublishMessage } from "./messages.ts";
import type { Peers } from "./peers.ts";
import { RemoteRequestError } from "../transport/mod.ts";

/** Ids of objects this process owned and freed that it remembers (the newest). */
const FREED_KEPT = 65_536;
/** Why a locate of an object its owner freed fails. */
const FREED = "its owner freed it (no reference it counts was left)";

/** What the locations need of their process. */
export interface OwnersHost {
  /** This process's address and owner tag. */
  readonly address: string;
  readonly tag: string;
  readonly peers: Peers;
  readonly head: Pick<HeadApi, "whereIs">;
  /** The size of an object stored here. */
  sizeOf(id: ObjectId): number;
}

/** Messages and lookups this process made and served, for tests and diagnostics. */
export interface OwnerCounters {
  /** `publish` messages sent to other owners. */
  publishesSent: number;
  /** `publish` messages taken from holders (as the owner). */
  publishesTaken: number;
  /** `locate` requests sent to other owners. */
  locatesSent: number;
  /** `locate` requests answered for other processes (as the owner). */
  locatesServed: number;
  /** Lookups of objects this process owns, answered from its own directory. */
  locatesOwn: number;
}

interface Batch {
  added: [ObjectId, number][];
  removed: ObjectId[];
}

/** The owner side of one process, and its way to other owners. */
export class Owners {
  readonly #host: OwnersHost;
  /** Where the objects this process owns are. */
  readonly directory = new ObjectDirectory();
  /** Owners by tag (a promise while the head is asked). */
  readonly #owners = new Map<string, Promise<OwnerInfo | undefined>>();
  /** Members declared dead (or gone). */
  readonly #dead = new Set<NodeId>();
  /** Objects this process holds and told their owners of. */
  readonly #published = new Set<ObjectId>();
  /** Objects this process owned and freed, oldest first (the last FREED_KEPT): no copy will come. */
  readonly #freed = new RecentSet<ObjectId>(FREED_KEPT);
  /** Changes to tell, by owner tag, sent once per turn. */
  #batches = new Map<string, Batch>();
  readonly counters: OwnerCounters = {
    publishesSent: 0,
    publishesTaken: 0,
    locatesSent: 0,
    locatesServed: 0,
    locatesOwn: 0,
  };

  constructor(host: OwnersHost) {
    this.#host = host;
  }

  /** True when this process owns `id`. */
  owns(id: ObjectId): boolean {
    return ownerTagOf(id) === this.#host.tag;
  }

  /** This process holds a copy of `id` (stored here): its owner learns of it. */
  add(id: ObjectId): void {
    if (this.#published.has(id)) return;
    this.#published.add(id);
    this.#batch(ownerTagOf(id)).added.push([id, this.#host.sizeOf(id)]);
  }

  /** The copy of `id` here is gone: its owner learns of it. */
  remove(id: ObjectId): void {
    if (!this.#published.delete(id)) return;
    this.#batch(ownerTagOf(id)).removed.push(id);
  }

  /**
   * This process freed `id` (nothing it counts holds it): when it owns it,
   * lookups waiting for a copy and later ones fail at once (ObjectLostError),
   * instead of waiting for a copy that will not come.
   */
  freed(id: ObjectId): void {
    if (!this.owns(id)) return;
    this.#freed.add(id);
    this.directory.gone(id, () => objectLost(id, FREED));
  }

  /**
   * The address of a holder of `id`, one not in `tried` when there is one,
   * asked of its owner (once some process holds it).
   *
   * @throws ObjectLostError when its owner is dead or gone, naming it
   * @throws the link's error when the owner could not be asked (try again)
   */
  async locate(id: ObjectId, tried: readonly string[] = []): Promise<string> {
    if (this.owns(id)) {
      this.counters.locatesOwn++;
      return await this.#holder(id, tried);
    }
    const tag = ownerTagOf(id);
    const owner = await this.#ownerOf(tag);
    if (!owner) throw objectLost(id, `its owner (tag ${tag}) is not a member of this cluster`);
    if (!owner.alive || this.#dead.has(owner.nodeId)) {
      throw objectLost(id, `its owner ${owner.nodeId} (${owner.address}) is dead or gone`);
    }
    this.counters.locatesSent++;
    const message: LocateRequest = tried.length === 0 ? id : [id, tried];
    try {
      const rpc = await this.#host.peers.get(owner.address);
      const reply = await rpc.request(MSG.locate, message, undefined, { timeoutMs: Infinity });
      return reply.message as string;
    } catch (err) {
      if (err instanceof RemoteRequestError && err.remoteName === ObjectLostError.name) {
        throw objectLost(id, FREED); // the owner answered so
      }
      this.#owners.delete(tag); // ask the head again: the owner may have died
      throw err;
    }
  }

  /** Answers a reader's `locate` of an object this process owns. */
  serveLocate(request: LocateRequest): Promise<string> {
    const [id, tried] = typeof request === "string" ? [request, []] : request;
    if (!this.owns(id)) {
      throw new TypeError(`object ${id} is not owned by this process (${this.#host.address})`);
    }
    this.counters.locatesServed++;
    return this.#holder(id, tried);
  }

  /** Takes a holder's `publish` of objects this process owns. */
  takePublish({ from, added, removed }: PublishMessage): void {
    this.counters.publishesTaken++;
    this.directory.update(from, { added, removed });
  }

  /** Bytes of `ids` each process holds, as this process knows (own directory, own store). */
  locality(ids: readonly ObjectId[], localSize: (id: ObjectId) => number): [string, number][] {
    const me = this.#host.address;
    const out = new Map<string, number>();
    for (const id of ids) {
      const e = this.owns(id) ? this.directory.entry(id) : undefined;
      for (const h of e?.holders ?? []) out.set(h, (out.get(h) ?? 0) + e!.size);
      if (e?.holders.has(me)) continue; // counted above
      const size = localSize(id);
      if (size > 0) out.set(me, (out.get(me) ?? 0) + size);
    }
    return [...out];
  }

  /** A member is dead or gone: its copies are gone, and so is what it owned. */
  died(nodeId: NodeId, address: string): void {
    this.#dead.add(nodeId);
    this.directory.dropHolder(address);
  }

  /** Drops the waiting lookups (this process is shutting down). */
  close(): void {
    this.directory.close();
  }

  async #holder(id: ObjectId, tried: readonly string[]): Promise<string> {
    if (this.#freed.has(id)) throw objectLost(id, FREED);
    return await this.directory.holder(id, (h) => !tried.includes(h));
  }

  #ownerOf(tag: string): Promise<OwnerInfo | undefined> {
    let info = this.#owners.get(tag);
    if (!info) {
      info = this.#host.head.whereIs(tag);
      this.#owners.set(tag, info);
      info.catch(() => this.#owners.get(tag) === info && this.#owners.delete(tag));
    }
    return info;
  }

  #batch(tag: string): Batch {
    let batch = this.#batches.get(tag);
    if (batch) return batch;
    batch = { added: [], removed: [] };
    this.#batches.set(tag, batch);
    if (this.#batches.size === 1) queueMicrotask(() => this.#flush());
    return batch;
  }

  #flush(): void {
    const batches = this.#batches;
    this.#batches = new Map();
    const { address, tag: mine, peers } = this.#host;
    for (const [tag, { added, removed }] of batches) {
      if (tag === mine) {
        this.directory.update(address, { added, removed });
        continue;
      }
      // In order per owner: every batch waits on the same lookup of its owner.
      this.#ownerOf(tag).then((owner) => {
        if (!owner?.alive || this.#dead.has(owner.nodeId)) return; // its objects went with it
        this.counters.publishesSent++;
        peers.send(owner.address, MSG.publish, { from: address, added, removed });
      }, () => {});
    }
  }
}

/** True when `err` says an object is lost for good (its owner is gone): no other try helps. */
export function isOwnerGone(err: unknown): err is ObjectLostError {
  return err instanceof ObjectLostError;
}
