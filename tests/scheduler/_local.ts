/**
 * Helpers of the LocalScheduler tests: task specs, a fake object table, a
 * scheduler with workers, and views of what it emits and holds.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  IdFactory,
  type ObjectId,
  objectIdOf,
  type TaskId,
  type WorkerId,
} from "../../runtime/common/mod.ts";
import type { TaskOptions, TaskSpec } from "../../runtime/protocol/mod.ts";
import {
  type Instruction,
  LocalScheduler,
  type ObjectStatus,
  type SchedulerOptions,
} from "../../runtime/scheduler/mod.ts";

export const ids = new IdFactory();

const defaultOptions: TaskOptions = {
  numReturns: 1,
  numCpus: 1,
  resources: {},
  maxRetries: 3,
  retryExceptions: false,
  schedulingStrategy: "DEFAULT",
};

/** A task spec with a fresh id; `deps` are the objects it waits for. */
export function task(
  deps: ObjectId[] = [],
  options: Partial<TaskOptions> = {},
  extra: { fnName?: string; parentTaskId?: TaskId } = {},
): TaskSpec {
  const name = extra.fnName ?? "f";
  return {
    taskId: ids.nextTaskId(),
    fn: { moduleUrl: "file:///fake.ts", key: `${name}#0`, name },
    args: new Uint8Array(0),
    deps,
    argRefs: deps,
    options: { ...defaultOptions, ...options },
    parentTaskId: extra.parentTaskId,
    attempt: 0,
  };
}

/** A fresh object id, as a task's return would have. */
export function objectId(): ObjectId {
  return objectIdOf(ids.nextTaskId(), 0);
}

/** A fake object table: an object exists once `set`, holding an error or not. */
export class FakeObjects {
  readonly #status = new Map<ObjectId, ObjectStatus>();
  readonly lookup = (id: ObjectId): ObjectStatus => this.#status.get(id) ?? "missing";
  set(id: ObjectId, status: ObjectStatus): void {
    this.#status.set(id, status);
  }
}

/**
 * A scheduler with `cpus` CPUs and workers w1..w`workers`. Batching is off
 * unless `options` turns it on, so each dispatch is one task.
 */
export function setup(
  cpus: number,
  workers: number,
  options: Partial<SchedulerOptions> = {},
) {
  const objects = new FakeObjects();
  const scheduler = new LocalScheduler({
    total: { CPU: cpus },
    objectStatus: objects.lookup,
    batchBelowMs: 0,
    ...options,
  });
  const workerIds = Array.from({ length: workers }, (_, i) => `w${i + 1}` as WorkerId);
  for (const w of workerIds) scheduler.workerAdded(w);
  return { scheduler, objects, workerIds };
}

export type Dispatch = { readonly workerId: WorkerId; readonly spec: TaskSpec };

/** Asserts every instruction is a dispatch and returns them. */
export function dispatches(out: Instruction[]): Dispatch[] {
  return out.map((i) => {
    assert.equal(i.type, "dispatch", `expected only dispatches, got ${Deno.inspect(i)}`);
    return i as Dispatch;
  });
}

/** CPUs in use. */
export function cpus(scheduler: LocalScheduler): number {
  return scheduler.counts().used.CPU ?? 0;
}

/** Task counts without the resources. */
export function tasks(
  scheduler: LocalScheduler,
): { queued: number; running: number; blocked: number } {
  const { queued, running, blocked } = scheduler.counts();
  return { queued, running, blocked };
}

export const none = { queued: 0, running: 0, blocked: 0 };
