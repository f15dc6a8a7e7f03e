/**
 * A draining node's objects that other processes still need: before it
 * stops, it tells each process it holds objects for (the owners of its
 * tasks' big results, the receivers of refs inside objects it sent) to take
 * a copy; each pulls its objects and then releases them here. The drain
 * waits until nothing stored here is held for another process, or its time
 * runs out (the objects left are then lost with the node, and rebuilt from
 * lineage where their owners keep it).
 *
 * @module
 */
import { type ObjectId, sleep } from "../common/mod.ts";
import type { ClusterSide } from "../node/mod.ts";
import { MSG } from "./messages.ts";

/** Holders of objects here that are other processes (see `holderOf`). */
const PEER = "peer:";
/** How often a draining node looks whether its objects were taken. */
const POLL_MS = 50;

/** `leaving`: the sender stops soon; take your copies of these objects it holds for you. */
export interface LeavingMessage {
  readonly from: string;
  readonly ids: readonly ObjectId[];
}

/** What a hand-off needs of its agent. */
export interface HandOffHost {
  readonly address: string;
  side(): ClusterSide;
  readonly peers: { send(address: string, type: number, message: unknown): void };
  /** The process holding each object for this one (the agent's map: a taken copy leaves it). */
  readonly remote: Map<ObjectId, string>;
  /** Pulls `id` here. */
  need(id: ObjectId): void;
}

/** Both sides of a hand-off: the leaving node's, and the taking process's. */
export class HandOff {
  readonly #host: HandOffHost;
  /** Objects being taken from a leaving process, by id: that process. */
  readonly #taking = new Map<ObjectId, string>();

  constructor(host: HandOffHost) {
    this.#host = host;
  }

  /**
   * Leaving: asks every process holding objects stored here to take them,
   * and waits until none is held for another process, at most until `until`.
   *
   * @returns true when every such object was taken
   */
  async leave(until: number): Promise<boolean> {
    const held = this.#held();
    for (const [holder, ids] of held) {
      const message: LeavingMessage = { from: this.#host.address, ids };
      this.#host.peers.send(holder.slice(PEER.length), MSG.leaving, message);
    }
    while (this.#held().size > 0) {
      if (Date.now() >= until) return false;
      await sleep(POLL_MS);
    }
    return true;
  }

  /** A process is leaving: pull what it holds for this one, then release it there. */
  leaving({ from, ids }: LeavingMessage): void {
    const side = this.#host.side();
    for (const id of ids) {
      if (this.#host.remote.get(id) !== from) continue; // not counted on (any more)
      if (!side.isMissing(id)) {
        this.#released(from, id); // a copy is here already
        continue;
      }
      this.#taking.set(id, from);
      this.#host.need(id);
    }
  }

  /** A copy of `id` arrived here. */
  pulled(id: ObjectId): void {
    const from = this.#taking.get(id);
    if (from === undefined) return;
    this.#taking.delete(id);
    this.#released(from, id);
  }

  #released(from: string, id: ObjectId): void {
    this.#host.remote.delete(id);
    this.#host.peers.send(from, MSG.release, { from: this.#host.address, ids: [id] });
  }

  /** Objects stored here held for other processes, by holder. */
  #held(): Map<string, ObjectId[]> {
    const side = this.#host.side();
    const out = new Map<string, ObjectId[]>();
    for (const [holder, ids] of side.heldBy(PEER)) {
      const stored = ids.filter((id) => side.isLocal(id));
      if (stored.length > 0) out.set(holder, stored);
    }
    return out;
  }
}
