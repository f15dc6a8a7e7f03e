/**
 * How a worker waits for work (on its work channel, or an actor on its
 * doorbell): it runs what waits, then spins for more for a few microseconds
 * while work comes that often (waking a sleeping thread costs more than a
 * round trip), then sleeps on the doorbell without blocking its thread.
 *
 * It spins only after small batches (at most SPIN_BATCH items): that is a
 * caller waiting for each result in turn, where a spin saves a wake-up per
 * item. After big batches the caller has more in flight and is busy; a
 * spinning worker would only take a core from it. Private to runtime/worker.
 *
 * @module
 */
import { config } from "../common/mod.ts";

const SPIN_MAX = config("idleSpinMicros");
/** Most items in the batches of a turn after which the worker spins. */
const SPIN_BATCH = 2;

/** Where a worker's work comes (a WorkChannel has these, and an actor makes them from its Doorbell). */
export interface WorkSource {
  /** Spins until work waits or `micros` pass; true when work waits. */
  spinForWork(micros: number): boolean;
  /** Sleeps until rung: undefined when work already waits. */
  sleep(): Promise<unknown> | undefined;
}

/** The wait loop of one worker. */
export class Idler {
  readonly #channel: WorkSource;
  readonly #runQueued: () => number;
  /** Microseconds to spin for the next batch (halved after each spin in vain). */
  #spin = SPIN_MAX;
  #asleep = false;
  #sleptAt = 0;

  /**
   * @param channel where the worker's work comes
   * @param runQueued runs what waits and sends the results so far; returns how
   *   many items it started, or -1 while work is still running (the thread
   *   must stay free instead of spinning)
   */
  constructor(channel: WorkSource, runQueued: () => number) {
    this.#channel = channel;
    this.#runQueued = runQueued;
  }

  /** Runs what waits, spins while more comes soon, then sleeps until the doorbell. */
  listen(): void {
    for (;;) {
      const items = this.#runQueued();
      if (items < 0 || items > SPIN_BATCH) break;
      if (this.#channel.spinForWork(items === 0 ? 0 : this.#spin)) {
        this.#spin = SPIN_MAX;
        continue;
      }
      this.#spin = this.#spin >= 2 ? this.#spin / 2 : 0;
      break;
    }
    this.#sleep();
  }

  #sleep(): void {
    if (this.#asleep) return;
    const woken = this.#channel.sleep();
    if (!woken) {
      queueMicrotask(() => this.listen());
      return;
    }
    this.#asleep = true;
    this.#sleptAt = performance.now();
    woken.then(() => {
      this.#asleep = false;
      // Woken soon after falling asleep: work comes often, spin for the next.
      if ((performance.now() - this.#sleptAt) * 1000 < 4 * SPIN_MAX) this.#spin = SPIN_MAX;
      this.listen();
    });
  }
}
