/**
 * A driver's get that waits for results of running tasks spins on their
 * workers' channels for up to `getSpinMicros` first (a get of actor calls
 * spins on its call links, runtime/links/call_links.ts): the worker
 * usually answers sooner than a sleeping thread wakes (docs/ARCHITECTURE.md,
 * "Work channels"). The budget halves after each spin in vain and comes
 * back after a spin that paid.
 *
 * @module
 */
import { config, type ObjectId, type TaskId, taskIdOf } from "../common/mod.ts";
import type { WorkChannel } from "../transport/mod.ts";

const GET_SPIN = config("getSpinMicros");
/** Gets of more refs than this do not spin (they wait for many results anyway). */
export const SPIN_MAX_IDS = 8;

/** A channel to spin on, and how to read its results. */
export interface Pollable {
  readonly channel: WorkChannel<unknown, unknown>;
  read(): void;
}

/** Spins a driver's gets. */
export class Spinner {
  #budget = GET_SPIN;

  /**
   * Whether a get of `ids` should spin: some are missing, and none of those
   * is made by a task whose function is known to take longer than a spin.
   *
   * @param missing whether an object is not there yet
   * @param averageMs how long the task's function takes, when known
   */
  worth(
    ids: readonly ObjectId[],
    missing: (id: ObjectId) => boolean,
    averageMs: (taskId: TaskId) => number | undefined,
  ): boolean {
    let some = false;
    for (const id of ids) {
      if (!missing(id)) continue;
      some = true;
      const ms = averageMs(taskIdOf(id));
      if (ms !== undefined && ms * 1000 > GET_SPIN) return false;
    }
    return some;
  }

  /** Spins on `pollables` until `ready()` or the budget is spent. */
  spin(pollables: readonly Pollable[], ready: () => boolean): void {
    const micros = this.#budget;
    if (micros < 1) {
      this.#budget = GET_SPIN; // skip this one; try again next time
      return;
    }
    if (pollables.length === 0) return;
    for (const p of pollables) p.channel.setPolling(true);
    const until = performance.now() + micros / 1000;
    let done = false;
    try {
      while (!done && performance.now() < until) {
        for (const p of pollables) if (p.channel.resultsReady) p.read();
        done = ready();
      }
    } finally {
      // Stop polling first: results written from now on send a nudge.
      for (const p of pollables) p.channel.setPolling(false);
      for (const p of pollables) p.read();
    }
    this.#budget = done || ready() ? GET_SPIN : micros / 2;
  }
}
