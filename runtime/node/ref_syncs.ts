/**
 * Releases that wait for a worker's holds. A worker sends its ref ops by
 * message, but an actor's results reach the node through a call link, which
 * the node may read before those messages arrive. Releasing a call's
 * arguments as its results come could then drop an object to zero that the
 * actor kept (a ref stored in its state): its hold, posted before the
 * results, would arrive after the object was freed. So the release waits for
 * a round trip: the node asks the worker to sync (`refSync`), and the worker
 * answers (`refSynced`) after everything it posted before, holds included.
 *
 * @module
 */
import type { WorkerId } from "../common/mod.ts";
import type { ToWorker } from "../protocol/mod.ts";

/** The worker a release waits for. */
export interface SyncedWorker {
  readonly id: WorkerId;
  send(msg: ToWorker): void;
}

interface Pending {
  readonly worker: SyncedWorker;
  /** The last sync asked of the worker, and the last it answered (equal: none under way). */
  asked: number;
  answered: number;
  /** Releases, each with the sync whose answer lets it run. */
  readonly queue: { readonly need: number; readonly then: () => void }[];
}

/** Releases waiting for workers' syncs, by worker. */
export class RefSyncs {
  readonly #pending = new Map<WorkerId, Pending>();

  /** Releases waiting (for tests and status). */
  get size(): number {
    let n = 0;
    for (const p of this.#pending.values()) n += p.queue.length;
    return n;
  }

  /** Runs `then` once every message `worker` posted before now has arrived. */
  after(worker: SyncedWorker, then: () => void): void {
    let p = this.#pending.get(worker.id);
    if (!p) this.#pending.set(worker.id, p = { worker, asked: 0, answered: 0, queue: [] });
    // A sync under way was asked before now: its answer may come before messages posted since.
    const need = p.asked === p.answered ? this.#ask(p) : p.asked + 1;
    p.queue.push({ need, then });
  }

  /** `workerId` answered sync `seq`: what waited for it runs. */
  synced(workerId: WorkerId, seq: number): void {
    const p = this.#pending.get(workerId);
    if (!p || !Number.isSafeInteger(seq) || seq <= p.answered || seq > p.asked) return;
    p.answered = seq;
    let ran = 0;
    while (ran < p.queue.length && p.queue[ran].need <= seq) ran++;
    const due = p.queue.splice(0, ran);
    if (p.queue.length > 0) this.#ask(p);
    else this.#pending.delete(workerId);
    for (const { then } of due) then();
  }

  /** `workerId` is gone: nothing more comes from it, so everything waiting for it runs. */
  gone(workerId: WorkerId): void {
    const p = this.#pending.get(workerId);
    if (!p) return;
    this.#pending.delete(workerId);
    for (const { then } of p.queue) then();
  }

  #ask(p: Pending): number {
    p.asked++;
    p.worker.send({ type: "refSync", seq: p.asked });
    return p.asked;
  }
}
