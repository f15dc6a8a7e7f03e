/**
 * The grace period of a cancelled task that still runs: a cancel fails the
 * task's returns at once and frees its CPU, and its worker is signalled. If
 * the task is still on that worker `cancelGraceMs` later (it ignores its
 * signal, or its thread never yields to read the cancel), the worker is
 * replaced with a warning that names the task.
 *
 * @module
 */
import type { TaskId, WorkerId } from "../common/mod.ts";
import { config, longTimeout, type LongTimer, settingEnvName, settings } from "../common/mod.ts";

/** What the grace timers need from the node. */
export interface CancelGraceHost {
  /** Whether the cancelled task still runs on that worker. */
  stillOn(taskId: TaskId, workerId: WorkerId): boolean;
  /** Ends and replaces the worker (as for a forced cancel: its other tasks run again free). */
  replace(workerId: WorkerId, cause: string): void;
}

/** The `cancelGraceMs` setting; throws RangeError naming it when it is not a number >= 0. */
export function cancelGraceMs(): number {
  const ms = config("cancelGraceMs");
  if (!(ms >= 0)) {
    throw new RangeError(
      `Invalid cancelGraceMs (${
        settingEnvName("cancelGraceMs")
      }): expected a number >= 0, got ${ms}`,
    );
  }
  return ms;
}

/** The pending grace periods of a node's cancelled tasks. */
export class CancelGrace {
  readonly #host: CancelGraceHost;
  readonly #timers = new Map<TaskId, LongTimer>();

  /** @param host the node's parts the timers use */
  constructor(host: CancelGraceHost) {
    this.#host = host;
  }

  /**
   * Task `taskId` (named `name`) was cancelled while running on `workerId`;
   * the period is the `cancelGraceMs` setting, read now (checked when the
   * node started; a value made invalid since is warned about, and the
   * default used).
   */
  start(taskId: TaskId, name: string, workerId: WorkerId): void {
    let graceMs: number;
    try {
      graceMs = cancelGraceMs();
    } catch (err) {
      graceMs = settings.cancelGraceMs.default;
      console.warn(`rayd: ${(err as Error).message}; using ${graceMs} ms`);
    }
    this.#timers.get(taskId)?.clear();
    this.#timers.set(
      taskId,
      longTimeout(() => {
        this.#timers.delete(taskId);
        if (!this.#host.stillOn(taskId, workerId)) return;
        console.warn(
          `rayd: cancelled task ${name} (${taskId}) still runs on worker ${workerId} ` +
            `${graceMs} ms after its cancel; replacing that worker`,
        );
        this.#host.replace(
          workerId,
          `ended: cancelled task ${name} still ran ${graceMs} ms after its cancel`,
        );
      }, graceMs),
    );
  }

  /** Ends and replaces a worker now (a forced cancel). */
  replace(workerId: WorkerId, cause: string): void {
    this.#host.replace(workerId, cause);
  }

  /** The cancelled task left its worker (its late result came, or the worker died). */
  ended(taskId: TaskId): void {
    this.#timers.get(taskId)?.clear();
    this.#timers.delete(taskId);
  }

  /** Clears every timer (the node stops). */
  clear(): void {
    for (const timer of this.#timers.values()) timer.clear();
    this.#timers.clear();
  }
}
