/**
 * A node's load reports to the head: a heartbeat every period, and one soon
 * after a task of the node ends (fresh load for placement, at most one per
 * REPORT_AFTER_MS).
 *
 * @module
 */
import { longInterval, type LongTimer } from "../common/mod.ts";

/** A node reports its load this soon after a task of it ends. */
const REPORT_AFTER_MS = 20;

/** The reports of one node. */
export class LoadReports {
  readonly #send: () => void;
  #timer: LongTimer | undefined;
  #queued = false;
  #stopped = false;

  /** @param send sends one report now */
  constructor(send: () => void) {
    this.#send = send;
  }

  /** Sends one now, then every `ms`. */
  start(ms: number): void {
    this.#send();
    this.#timer = longInterval(() => this.#send(), ms);
  }

  /** Sends one soon (once started): something changed the load. */
  soon(): void {
    if (this.#queued || !this.#timer) return;
    this.#queued = true;
    setTimeout(() => {
      this.#queued = false;
      if (!this.#stopped) this.#send();
    }, REPORT_AFTER_MS);
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.clear();
  }
}
