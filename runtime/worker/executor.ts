/**
 * Runs tasks in a worker: finds the function, rebuilds its arguments, calls it
 * inside the task's context, and turns what it returns or throws into frames.
 * A synchronous function whose module is loaded runs without a single await,
 * so a batch of short tasks finishes in one turn and reports in one message.
 *
 * @module
 */
import type { ObjectId, TaskId } from "../common/mod.ts";
import { RayTaskError, RecentSet, taskCancelled } from "../common/mod.ts";
import {
  errorFrame,
  fromFrame,
  lookupFunction,
  ObjectRef,
  refTracker,
  resolveFunction,
  runTask,
  toFrame,
} from "../core/mod.ts";
import type { SharedArena } from "../object_store/mod.ts";
import type { Frame, RunTask, TaskResult } from "../protocol/mod.ts";
import type { ScratchFrames } from "../serialization/mod.ts";

/** Cancels of tasks not (or no longer) running in this worker that are remembered. */
const EARLY_CANCELS_KEPT = 1024;

// deno-lint-ignore ban-types
type AnyFn = Function;

/** Runs tasks and keeps the abort controllers of those in flight. */
export class Executor {
  readonly #arena: SharedArena;
  readonly #small?: ScratchFrames;
  readonly #running = new Map<TaskId, AbortController>();
  /** Tasks cancelled before they came (oldest first). */
  readonly #cancelledEarly = new RecentSet<TaskId>(EARLY_CANCELS_KEPT);

  /**
   * @param arena the node's store
   * @param small where small return frames of synchronous tasks go (their
   *   results reach the backend at once; it resets it once it sent them);
   *   other frames get a buffer each
   */
  constructor(arena: SharedArena, small?: ScratchFrames) {
    this.#arena = arena;
    this.#small = small;
  }

  /** Runs `task`; returns its result at once when it was synchronous, else a promise of it. */
  run(task: RunTask): TaskResult | Promise<TaskResult> {
    if (this.#cancelledEarly.delete(task.taskId)) {
      refTracker.unpin(task.deps);
      return this.#failed(task, taskCancelled(task.taskId), performance.now());
    }
    const fn = lookupFunction(task.fn);
    if (fn) return this.#call(task, fn, performance.now(), this.#small);
    const start = performance.now();
    return resolveFunction(task.fn).then(
      // Not from the scratch: this result reaches the backend some microtasks later.
      (found) => this.#call(task, found, start, undefined),
      (err) => {
        refTracker.unpin(task.deps);
        return this.#failed(task, err, start);
      },
    );
  }

  /**
   * Signals the AbortSignal of a running task. A cancel may come before its
   * task (by message, while the task waits in the channel): the task then
   * fails without running.
   */
  cancel(taskId: TaskId): void {
    const running = this.#running.get(taskId);
    if (running) return running.abort(taskCancelled(taskId));
    // Most often the task had finished already: keep only the latest few.
    this.#cancelledEarly.add(taskId);
  }

  /** Calls `fn`; small frames of a synchronous result come from `small` when given. */
  #call(
    task: RunTask,
    fn: AnyFn,
    start: number,
    small: ScratchFrames | undefined,
  ): TaskResult | Promise<TaskResult> {
    const spec = task;
    const controller = new AbortController();
    this.#running.set(spec.taskId, controller);
    let value: unknown;
    try {
      const args = this.#args(task);
      value = runTask(
        { taskId: spec.taskId, signal: controller.signal, name: spec.name, jobId: spec.jobId },
        () => fn(...args),
        fn,
      );
    } catch (err) {
      this.#running.delete(spec.taskId);
      return this.#failed(task, err, start);
    } finally {
      // The node pinned the dependency frames until they are decoded.
      refTracker.unpin(task.deps);
    }
    if (value instanceof Promise) {
      const { signal } = controller;
      // A cancelled task's result is dropped by the node: its value is not even encoded.
      return value.then(
        (v) =>
          signal.aborted
            ? this.#failed(task, signal.reason, start)
            : this.#succeeded(task, v, start, undefined),
        (err) => this.#failed(task, signal.aborted ? signal.reason : err, start),
      ).finally(() => this.#running.delete(spec.taskId));
    }
    this.#running.delete(spec.taskId);
    return this.#succeeded(task, value, start, small);
  }

  #args(task: RunTask): unknown[] {
    const { deps, args } = task;
    const argsFrame = typeof args === "string" ? task.depFrames[deps.indexOf(args)] : args;
    const values = fromFrame(argsFrame, this.#arena, typeof args === "string" ? args : undefined);
    if (deps.length === 0) return values as unknown[];
    const byId = new Map<string, unknown>();
    deps.forEach((id, i) => {
      if (id !== args && !byId.has(id)) {
        byId.set(id, fromFrame(task.depFrames[i], this.#arena, id));
      }
    });
    return (values as unknown[]).map((a) =>
      a instanceof ObjectRef && byId.has(a.id) ? byId.get(a.id) : a
    );
  }

  /** The result of a task that returned `value`; small frames from `small` when given. */
  #succeeded(
    task: RunTask,
    value: unknown,
    start: number,
    small: ScratchFrames | undefined,
  ): TaskResult {
    const contained: ObjectId[][] = [];
    let returns: Frame[];
    try {
      returns = this.#returnFrames(value, task, contained, small);
    } catch (err) {
      return this.#failed(task, err, start);
    }
    const ms = performance.now() - start;
    const result: TaskResult = { taskId: task.taskId, returns, failed: false, ms };
    return contained.some((c) => c.length > 0) ? { ...result, contained } : result;
  }

  #failed(task: RunTask, err: unknown, start: number): TaskResult {
    const frame = errorFrame(new RayTaskError(task.name, err));
    const returns = new Array<Frame>(task.numReturns).fill(frame);
    return { taskId: task.taskId, returns, failed: true, ms: performance.now() - start };
  }

  #returnFrames(
    value: unknown,
    task: RunTask,
    contained: ObjectId[][],
    small: ScratchFrames | undefined,
  ): Frame[] {
    const n = task.numReturns;
    const values = n === 1 ? [value] : value;
    if (!Array.isArray(values) || values.length !== n) {
      const got = Array.isArray(values) ? `${values.length} values` : "a non-array value";
      throw new TypeError(`Task returned ${got} but numReturns is ${n}`);
    }
    const frames: Frame[] = [];
    try {
      // A full store may flush the backend while these are made: the scratch must not reset then.
      const encode = () => {
        for (let i = 0; i < n; i++) {
          const refs: ObjectId[] = [];
          const path = n === 1 ? "return value" : `return value[${i}]`;
          frames.push(toFrame(values[i], path, this.#arena, 0, refs, small?.alloc));
          contained.push(refs);
        }
      };
      if (small) small.using(encode);
      else encode();
    } catch (err) {
      for (const f of frames) if (!(f instanceof Uint8Array)) this.#arena.free(f);
      throw err;
    }
    return frames;
  }
}
