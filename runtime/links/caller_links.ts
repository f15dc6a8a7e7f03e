/**
 * The node's side of call links (./call_links.ts is the caller's side):
 * each link a caller opens to one of the node's actors is held while the
 * actor starts or restarts, handed to the actor's worker once it is ALIVE (and the caller
 * told so, with the actor's channel to ring), and unlinked when that worker
 * goes: the caller then re-sends, retries or fails its calls. The node does
 * nothing per call.
 *
 * @module
 */
import type { ActorId } from "../common/mod.ts";
import type { FromWorker, ToWorker } from "../protocol/mod.ts";

/** A calling thread: a worker, or the driver (the node's own thread). */
export interface LinkCaller {
  readonly id: string;
  readonly alive: boolean;
  send(msg: ToWorker): void;
}

/** One caller's link to one actor. */
interface LinkEntry {
  /** Unique on the node: the caller's id and its link number. */
  readonly key: string;
  readonly caller: LinkCaller;
  readonly linkId: number;
  readonly link: SharedArrayBuffer;
  readonly bell: SharedArrayBuffer;
}

/** A thread the node sends to: the actor's worker. */
export interface LinkWorker {
  send(msg: ToWorker): void;
}

/** Where an ALIVE actor's links are opened. */
export interface LinkTarget {
  readonly worker: LinkWorker;
  /** The actor's doorbell, which callers ring. */
  readonly bell: SharedArrayBuffer;
  readonly maxTaskRetries: number;
  readonly label: string;
}

/** Why an actor's links end. */
export interface Unlinking {
  readonly label: string;
  readonly why: string;
  readonly maxTaskRetries: number;
  /** An error frame when the actor is dead for good (else it restarts). */
  readonly death?: Uint8Array;
  /** The actor lives on another node: its calls go through the caller's node. */
  readonly remote?: boolean;
}

/** The links of one actor. */
export class CallerLinks {
  readonly #links = new Map<string, LinkEntry>();
  readonly #actorId: ActorId;

  /** @param actorId the actor (named in what its worker is sent: a worker may host several) */
  constructor(actorId: ActorId) {
    this.#actorId = actorId;
  }

  /** How many callers are linked. */
  get size(): number {
    return this.#links.size;
  }

  /**
   * Keeps a caller's link; opens it at once when `target` is given. Throws
   * TypeError for a malformed message (the caller is then ended).
   */
  add(
    caller: LinkCaller,
    msg: Extract<FromWorker, { type: "actorLink" }>,
    target?: LinkTarget,
  ): void {
    const entry = checkedEntry(caller, msg);
    this.#links.set(entry.key, entry);
    if (target) open(this.#actorId, entry, target);
  }

  /** The actor is ALIVE in `target`: opens every link. */
  openAll(target: LinkTarget): void {
    for (const entry of this.#links.values()) open(this.#actorId, entry, target);
  }

  /** The actor's worker is gone: every caller hears, and the links are dropped. */
  unlinkAll(why: Unlinking): void {
    for (const entry of this.#links.values()) unlink(entry, why);
    this.#links.clear();
  }

  /** The actor dropped link `key` (it held garbage): that caller hears, and re-sends on a new one. */
  unlinkOne(key: string, why: Unlinking): void {
    const entry = this.#links.get(key);
    if (!entry) return;
    this.#links.delete(key);
    unlink(entry, why);
  }

  /**
   * A worker is gone: drops its links, telling the actor's worker (if it is
   * `alive`). Returns true when there were any.
   */
  callerGone(workerId: string, alive: LinkWorker | undefined): boolean {
    let any = false;
    for (const [key, entry] of this.#links) {
      if (entry.caller.id !== workerId) continue;
      this.#links.delete(key);
      alive?.send({ type: "callerGone", actorId: this.#actorId, linkId: key });
      any = true;
    }
    return any;
  }
}

/** Answers a link to an actor that is dead or unknown: the caller fails its calls with `why.death`. */
export function refuseLink(
  caller: LinkCaller,
  msg: Extract<FromWorker, { type: "actorLink" }>,
  why: Unlinking,
): void {
  unlink(checkedEntry(caller, msg), why);
}

function checkedEntry(
  caller: LinkCaller,
  { linkId, link, bell }: Extract<FromWorker, { type: "actorLink" }>,
): LinkEntry {
  if (!Number.isSafeInteger(linkId) || !(link instanceof SharedArrayBuffer)) {
    throw new TypeError("bad link");
  }
  if (!(bell instanceof SharedArrayBuffer)) throw new TypeError("bad bell");
  return { key: `${caller.id}/${linkId}`, caller, linkId, link, bell };
}

function open(actorId: ActorId, entry: LinkEntry, target: LinkTarget): void {
  const { key: linkId, link, bell } = entry;
  target.worker.send({ type: "callerLink", actorId, linkId, link, bell });
  entry.caller.send({
    type: "actorLinked",
    linkId: entry.linkId,
    actorBell: target.bell,
    maxTaskRetries: target.maxTaskRetries,
    label: target.label,
  });
}

function unlink(entry: LinkEntry, why: Unlinking): void {
  if (!entry.caller.alive) return;
  entry.caller.send({ type: "actorUnlinked", linkId: entry.linkId, ...why });
}
