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
import { config } from "../common/mod.ts";
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
