/**
 * The pulls of one process: each object its node waits for is pulled from
 * a holder over a link of its own (borrowed from `Peers`), chunk by chunk
 * into a block of the store that admission (admission.ts) gave it. A holder
 * that fails, stops answering (no chunk within `pullRequestTimeoutMs`) or
 * no longer has the object is left for another copy (refs it held for this
 * process on that try are released); a pull that found no copy within
 * `pullDeadlineMs` seals the object as lost, and so does, at once, one
 * whose owner is dead or gone (owners.ts).
 *
 * @module
 */
import { config, type ObjectId, objectLost } from "../common/mod.ts";
import { errorFrame } from "../core/mod.ts";
import type { ClusterSide } from "../node/mod.ts";
import { Admission, PullPriority, type Ticket } from "./admission.ts";
import { fetchObject, PullFailed, type PullMemory } from "./fetch.ts";
import { MSG } from "./messages.ts";
import { isOwnerGone, type Owners } from "./owners.ts";
import type { Peers } from "./peers.ts";

/** What the pulls need of their process's agent. */
export interface PullHost {
  readonly peers: Peers;
  /** This process's address (holders hold refs inside pulled objects for it). */
  readonly address: string;
  side(): ClusterSide;
  /** True once the process is shutting down. */
  closed(): boolean;
  /** A holder this process already knows of (where a result was made), if any. */
  known(id: ObjectId): string | undefined;
  /** `address` turned out not to hold `id`. */
  notAt(id: ObjectId, address: string): void;
  /**
   * The address of a holder of `id`, one not in `tried` when there is one.
   * Rejects with ObjectLostError when its owner is gone (no try can help).
   */
  locate(id: ObjectId, tried: readonly string[]): Promise<string>;
  /** `address` holds these refs (inside a pulled object) for this process. */
  heldAt(address: string, ids: readonly ObjectId[]): void;
  /** A copy was pulled here (peers may pull it from here too). */
  pulled(id: ObjectId): void;
}

/** A PullHost from an agent's parts and the few things only the agent knows. */
export function pullHost(
  agent: { readonly address: string },
  peers: Peers,
  owners: Pick<Owners, "locate">,
  side: () => ClusterSide,
  own: Pick<PullHost, "known" | "notAt" | "heldAt" | "pulled" | "closed">,
): PullHost {
  return {
    ...own,
    peers,
    address: agent.address,
    side,
    locate: (id, tried) => owners.locate(id, tried),
  };
}

/** Pulls objects for one process. */
export class Puller {
  readonly #host: PullHost;
  /** Pulls under way, with their priority (raised when a more urgent reader comes). */
  readonly #active = new Map<ObjectId, Ticket>();
  #admission: Admission | undefined;

  constructor(host: PullHost) {
    this.#host = host;
  }

  /** Pulls under way. */
  get size(): number {
    return this.#active.size;
  }

  /** Pulls `id` unless it is being pulled (then it is raised to `priority` if more urgent). */
  need(id: ObjectId, priority: PullPriority = PullPriority.get): void {
    const ticket = this.#active.get(id);
    if (ticket) {
      if (priority < ticket.priority) {
        ticket.priority = priority;
        this.#admission?.pump();
      }
      return;
    }
    const mine: Ticket = { priority };
    this.#active.set(id, mine);
    this.#pull(id, mine).finally(() => {
      this.#active.delete(id);
      this.#admission?.pump();
    });
  }

  /** Fails the pulls waiting for room (the process is shutting down). */
  close(): void {
    this.#admission?.close();
  }

  async #pull(id: ObjectId, ticket: Ticket): Promise<void> {
    const host = this.#host;
    /** Set at the first failed try: the object exists (or existed) by then. */
    let deadline = Infinity;
    const tried: string[] = [];
    let lastError = "no copy answered";
    for (let attempt = 0; !host.closed(); attempt++) {
      if (!host.side().isMissing(id)) return;
      if (Date.now() >= deadline) break;
      const known = attempt === 0 ? host.known(id) : undefined;
      let address: string | undefined;
      try {
        address = known ?? await before(host.locate(id, tried), deadline);
      } catch (err) {
        if (isOwnerGone(err)) {
          if (host.closed() || !host.side().isMissing(id)) return;
          return host.side().sealFetched(id, errorFrame(err), true, []);
        }
        lastError = `its owner could not be asked: ${(err as Error).message}`;
      }
      if (address === undefined) {
        if (Date.now() >= deadline) lastError = `no other copy was found (${lastError})`;
      } else {
        try {
          const got = await this.#pullFrom(id, address, ticket);
          if (got) return;
          lastError = `${address} no longer holds it`;
          host.notAt(id, address);
        } catch (err) {
          lastError = `${address}: ${(err as Error).message}`;
          // Refs inside it that the holder held for this try: not needed now.
          const held = err instanceof PullFailed ? err.held : [];
          if (held.length > 0) {
            host.peers.send(address, MSG.release, { from: host.address, ids: held });
          }
        }
        if (!tried.includes(address)) tried.push(address);
      }
      if (deadline === Infinity) deadline = Date.now() + config("pullDeadlineMs");
      await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
    }
    if (host.closed() || !host.side().isMissing(id)) return;
    const lost = objectLost(id, `could not be fetched (${lastError})`);
    host.side().sealFetched(id, errorFrame(lost), true, []);
  }

  /** One try at `address`: true when the object is here now, false when it was not there. */
  async #pullFrom(id: ObjectId, address: string, ticket: Ticket): Promise<boolean> {
    const host = this.#host;
    const link = await host.peers.borrow(address);
    let ok = false;
    try {
      const got = await fetchObject(link, id, host.address, this.#memory(ticket), {
        requestTimeoutMs: config("pullRequestTimeoutMs"),
      });
      ok = true;
      if (!got) return false;
      const arena = host.side().arena;
      const frame = got.placed ? arena.locate(got.bytes) ?? got.bytes : got.bytes;
      host.heldAt(address, got.held);
      host.side().sealFetched(id, frame, got.error, got.contained);
      if (got.placed && !got.error) host.pulled(id);
      return true;
    } finally {
      if (ok) host.peers.giveBack(address, link);
      else link.conn.close("pull failed"); // requests may hang on it: not reused
    }
  }

  #memory(ticket: Ticket): PullMemory {
    const arena = this.#host.side().arena;
    const side = this.#host.side();
    const admission = this.#admission ??= new Admission(
      arena,
      config("pullAdmitFallbackMs"),
      () => side.collectGarbage(),
    );
    return {
      now: (size) => admission.now(size, ticket),
      later: (size) => admission.later(size, ticket),
      free(bytes) {
        const loc = arena.locate(bytes);
        if (loc) arena.free(loc);
        admission.pump();
      },
    };
  }
}

/** What `promise` gives, or undefined once `deadline` (a time) passed first. */
function before<T>(promise: Promise<T>, deadline: number): Promise<T | undefined> {
  if (deadline === Infinity) return promise;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now()));
  });
  promise.catch(() => {}); // a late failure of a lookup given up
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
