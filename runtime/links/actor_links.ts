/**
 * The actor's side of its callers' call links (./call_link.ts):
 * reads calls from each link in order (a call with ref arguments waits
 * while the actor fetches them from the node, and the calls after it on
 * that link wait too), and writes results back to the link the call came
 * from, ringing the caller's bell. Returns that cannot travel inline (in
 * the store, or holding refs) are sealed at the node under the call's
 * return ids, and the link says so. Used by the actor's worker
 * (runtime/worker/actor_executor.ts).
 *
 * @module
 */
import type { ObjectId } from "../common/mod.ts";
import { config, objectIdOf } from "../common/mod.ts";
import type { WaitResult } from "../core/mod.ts";
import { frameBytes, isErrorFrame, refTracker } from "../core/mod.ts";
import type { SharedArena } from "../object_store/mod.ts";
import type { ActorResult, Frame, LinkResult, RunActorCall } from "../protocol/mod.ts";
import { LINK_RESULT, VALUE_RETURNS } from "../protocol/mod.ts";
import { Doorbell } from "../transport/mod.ts";
import { CallLink } from "./call_link.ts";
import { errorTextOf } from "./_call_records.ts";

/** Characters of an error sealed at the node that its result on the link carries for the record. */
const ERROR_TEXT_MAX = 2000;

/** One caller's link, as the actor reads it. */
export interface LinkState {
  readonly channel: CallLink;
  readonly bell: Doorbell;
  /** Calls read, in order, while the first waits for its ref arguments. */
  intake: RunActorCall[];
  fetching: boolean;
  /** Results not written yet (copies: the scratch they came from is reused). */
  unsent: LinkResult[];
  /** Results of this turn. */
  results: LinkResult[];
  closed: boolean;
}

/** What the links need from the actor's worker. */
export interface ActorLinksHost {
  readonly arena: SharedArena;
  /** Fetches objects from the node (every one of `ids`). */
  fetch(ids: readonly ObjectId[]): Promise<WaitResult>;
  /** Seals a return at the node (batched with the worker's puts). */
  put(id: ObjectId, frame: Frame, contained: readonly ObjectId[]): void;
  /** Queues a call to run, in order (after its ref arguments came). */
  enqueue(run: RunActorCall, link: LinkState): void;
  /** A fetch finished: run what may run now. */
  wake(): void;
  /** Link `key` held garbage and was dropped. */
  broken(key: string, why: string): void;
}

/** The links of the actor's callers. */
export class ActorLinks {
  readonly #host: ActorLinksHost;
  /** Return frames bigger than this go through the node, so that any one result fits a link. */
  readonly #frameMax = config("linkBytes") / 8;
  readonly #links = new Map<string, LinkState>();
  /** Pins on fetched ref arguments, given back once the call's arguments are decoded. */
  readonly #pinned = new Map<RunActorCall, readonly ObjectId[]>();
  #retryQueued = false;

  /** @param host the actor's worker */
  constructor(host: ActorLinksHost) {
    this.#host = host;
  }

  /** A caller's link (from the node's "callerLink"); returns its state. */
  add(key: string, link: SharedArrayBuffer, bell: SharedArrayBuffer): LinkState {
    const state: LinkState = {
      channel: new CallLink(link),
      bell: new Doorbell(bell),
      intake: [],
      fetching: false,
      unsent: [],
      results: [],
      closed: false,
    };
    this.#links.set(key, state);
    return state;
  }

  /** Every caller is gone (the actor stopped). */
  dropAll(): void {
    for (const key of [...this.#links.keys()]) this.drop(key);
  }

  /** That caller is gone. */
  drop(key: string): void {
    const link = this.#links.get(key);
    if (!link) return;
    link.closed = true;
    this.#links.delete(key);
  }

  /**
   * Reads the calls that wait in the links; each goes to `enqueue` in its
   * link's order. Returns how many were read. A link that holds garbage
   * (not written by rayd's code) is dropped, and the node told: the caller
   * sends its calls again on a new link.
   */
  collect(): number {
    let came = 0;
    for (const [key, link] of this.#links) {
      for (;;) {
        let batch;
        try {
          batch = link.channel.takeWork();
        } catch (err) {
          this.drop(key);
          this.#host.broken(key, `its call link held garbage (${(err as Error).message})`);
          break;
        }
        if (!batch) break;
        came += batch.items.length;
        for (const run of batch.items) {
          if (link.intake.length > 0 || run[4].length > 0) link.intake.push(run);
          else this.#host.enqueue(run, link);
        }
      }
      if (link.intake.length > 0) this.#intake(link);
    }
    return came;
  }

  /** True when calls wait in a link (for the actor's spin and sleep). */
  waiting(): boolean {
    for (const link of this.#links.values()) if (link.channel.workPending) return true;
    return false;
  }

  /** True when no link holds calls or results not yet handled. */
  idle(): boolean {
    for (const link of this.#links.values()) {
      if (link.channel.workPending || link.intake.length > 0) return false;
      if (link.unsent.length > 0 || link.results.length > 0) return false;
    }
    return true;
  }

  /** Gives back the pins of a call's fetched arguments (they are decoded). */
  decoded(run: RunActorCall): void {
    const pinned = this.#pinned.get(run);
    if (!pinned) return;
    this.#pinned.delete(run);
    refTracker.unpin(pinned);
  }

  /**
   * Keeps a call's result for `pump`: inline returns as they are, others
   * sealed at the node under the call's return ids.
   */
  report(
    link: LinkState,
    run: RunActorCall,
    result: ActorResult,
  ): void {
    if (link.closed) return;
    const [slot, returns, failed, contained] = result;
    const big = (f: Frame) => !(f instanceof Uint8Array) || f.byteLength > this.#frameMax;
    if (failed && !returns.some(big)) {
      link.results.push([slot, LINK_RESULT.failed, returns]);
    } else if (failed) {
      // An error too big for the link (a long message or stack) goes through the node too.
      returns.forEach((f, i) => this.#host.put(objectIdOf(run[0], i), f, []));
      const text = errorTextOf(returns[0]) ?? "";
      const short = text.length > ERROR_TEXT_MAX ? `${text.slice(0, ERROR_TEXT_MAX)}...` : text;
      link.results.push([slot, LINK_RESULT.failedAtNode, returns, short]);
    } else if (returns === VALUE_RETURNS) {
      link.results.push([slot, LINK_RESULT.value, returns, result[4]]);
    } else if (
      contained || returns.some(big)
    ) {
      returns.forEach((f, i) => this.#host.put(objectIdOf(run[0], i), f, contained?.[i] ?? []));
      link.results.push([slot, LINK_RESULT.atNode, returns]);
    } else {
      link.results.push([slot, LINK_RESULT.ok, returns]);
    }
  }

  /**
   * Writes the results kept so far to their links and rings each caller
   * (after the worker sent its puts): as one batch, or in halves when it
   * does not fit. What does not fit now is copied and tried again soon, in
   * order.
   */
  pump(): void {
    for (const link of this.#links.values()) {
      if (link.results.length === 0 && link.unsent.length === 0) continue;
      let out = link.results;
      link.results = [];
      if (link.unsent.length > 0) out = link.unsent.concat(out);
      link.unsent = [];
      const written = writeSome(link.channel, out, 0, out.length);
      if (written > 0) link.bell.ring();
      if (written === out.length) continue;
      link.unsent = out.slice(written).map(([slot, kind, returns, value]): LinkResult => [
        slot,
        kind,
        returns.map((f) => f instanceof Uint8Array ? f.slice() : f),
        value,
      ]);
      this.#retrySoon();
    }
  }

  /** The first call of the link has ref arguments: fetches them, then queues it and what follows. */
  #intake(link: LinkState): void {
    while (link.intake.length > 0 && !link.fetching) {
      const run = link.intake[0];
      if (run[4].length === 0) {
        link.intake.shift();
        this.#host.enqueue(run, link);
        continue;
      }
      link.fetching = true;
      this.#host.fetch(run[4]).then(({ frames, pinned }) => {
        link.fetching = false;
        link.intake.shift();
        if (link.closed) return;
        const full: RunActorCall = [
          run[0],
          run[1],
          run[2],
          run[3],
          run[4],
          frames as Frame[],
          run[6],
        ];
        if (pinned && pinned.length > 0) this.#pinned.set(full, pinned);
        const failed = (frames as Frame[]).find((f) => isErrorFrame(f, this.#host.arena));
        if (failed === undefined) {
          this.#host.enqueue(full, link);
        } else {
          // An argument is an error: the call fails with that same error, as for tasks.
          const bytes = frameBytes(failed, this.#host.arena).slice();
          link.results.push([run[6], LINK_RESULT.failed, new Array<Frame>(run[3]).fill(bytes)]);
          this.decoded(full);
        }
        this.#intake(link);
        this.#host.wake();
      }, () => {
        link.fetching = false;
      });
    }
  }

  #retrySoon(): void {
    if (this.#retryQueued) return;
    this.#retryQueued = true;
    setTimeout(() => {
      this.#retryQueued = false;
      this.pump();
    }, 1);
  }
}

/**
 * Writes results[from..to) as one batch, or in halves of it, in order;
 * returns how many were written. A batch bigger than half the ring never
 * fits at once, while any one result fits an empty ring (frames over an
 * eighth of it go through the node).
 */
function writeSome(channel: CallLink, results: LinkResult[], from: number, to: number): number {
  const batch = from === 0 && to === results.length ? results : results.slice(from, to);
  if (channel.sendResults(0, batch)) return to - from;
  if (to - from === 1) return 0;
  const mid = (from + to) >>> 1;
  const first = writeSome(channel, results, from, mid);
  return first < mid - from ? first : first + writeSome(channel, results, mid, to);
}
