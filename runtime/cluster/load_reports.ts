/**
 * A node's load reports to the head: a heartbeat every period, one soon
 * after a task of the node ends (fresh load for placement, at most one per
 * REPORT_AFTER_MS), and draining: every report from then on says the node
 * takes no new work (the head places nothing more there) while what runs
 * finishes.
 *
 * @module
 */
import { longInterval, type LongTimer, sleep } from "../common/mod.ts";
import type { ClusterSide } from "../node/mod.ts";
import type { ReportMessage } from "./messages.ts";

/** A node reports its load this soon after a task of it ends. */
const REPORT_AFTER_MS = 20;
/** How often a draining node looks whether its tasks are done. */
const DRAIN_POLL_MS = 50;

/** The reports of one node. */
export class LoadReports {
  readonly #side: () => Pick<ClusterSide, "load" | "heartbeat">;
  readonly #send: (report: ReportMessage) => void;
  #timer: LongTimer | undefined;
  #queued = false;
  #stopped = false;
  #draining = false;

  /**
   * @param side the node's side (its load)
   * @param send sends one report to the head
   */
  constructor(
    side: () => Pick<ClusterSide, "load" | "heartbeat">,
    send: (report: ReportMessage) => void,
  ) {
    this.#side = side;
    this.#send = send;
  }

  /** Sends one now, then every `ms`. */
  start(ms: number): void {
    this.#report();
    this.#timer = longInterval(() => this.#report(), ms);
  }

  /** Sends one soon (once started): something changed the load. */
  soon(): void {
    if (this.#queued || !this.#timer) return;
    this.#queued = true;
    setTimeout(() => {
      this.#queued = false;
      if (!this.#stopped) this.#report();
    }, REPORT_AFTER_MS);
  }

  /**
   * Takes no new work (the head hears it now), then waits until no task is
   * queued or running here, at most `timeoutMs`.
   *
   * @returns true when the node is idle, false when the time ran out first
   */
  async drain(timeoutMs: number): Promise<boolean> {
    this.#draining = true;
    this.#report();
    const until = Date.now() + timeoutMs;
    // Idle twice in a row: a task the head placed just before it heard has arrived by then.
    for (let idle = 0; idle < 2;) {
      idle = this.#side().load().queueLength === 0 ? idle + 1 : 0;
      if (idle < 2 && Date.now() >= until) return false;
      await sleep(DRAIN_POLL_MS);
    }
    return true;
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.clear();
  }

  #report(): void {
    const report = { ...this.#side().heartbeat(), at: Date.now() };
    this.#send(this.#draining ? { ...report, draining: true } : report);
  }
}
