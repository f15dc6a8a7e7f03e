/**
 * Every error rayd raises, and the factories that build them. This is the one
 * file that defines error classes; other modules call the factories.
 *
 * @module
 */

/** Base class of every error rayd raises for conditions a caller may catch. */
export class RayError extends Error {
  /** Creates the error. @param message what went wrong @param options the underlying cause */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A task (or actor method) threw. `cause` is the original error rebuilt with
 * its name, message and stack; the message includes the remote stack.
 */
export class RayTaskError extends RayError {
  /** Name of the remote function or method that threw. */
  readonly taskName: string;
  /** Creates the error. @param taskName the function's name @param cause the rebuilt error */
  constructor(taskName: string, cause: unknown, message?: string) {
    super(message ?? RayTaskError.describe(taskName, cause), { cause });
    this.taskName = taskName;
  }

  /** Builds the message: the task name, the cause's summary and its remote stack. */
  static describe(taskName: string, cause: unknown): string {
    try {
      if (cause instanceof RayTaskError) {
        return `Task ${taskName} failed: an argument's task failed: ${cause.message}`;
      }
      const err = cause instanceof Error ? cause : undefined;
      const summary = err ? `${err.name}: ${err.message}` : String(cause);
      const stack = err?.stack ? `\n\nRemote stack:\n${err.stack}` : "";
      return `Task ${taskName} failed: ${summary}${stack}`;
    } catch {
      // What was thrown cannot be printed (no prototype, a getter or toString that throws).
      return `Task ${taskName} failed: it threw a value that cannot be printed`;
    }
  }
}

/** `get` or `wait` passed its deadline. */
export class GetTimeoutError extends RayError {}
/** The task was cancelled before it produced its result. */
export class TaskCancelledError extends RayError {}
/** The worker running the task died and the retries ran out. */
export class WorkerCrashedError extends RayError {}
/** The actor died or was killed. */
export class RayActorError extends RayError {}
/** The object is gone and cannot be rebuilt from lineage. */
export class ObjectLostError extends RayError {}
/** The object store has no room even after eviction and spilling. */
export class ObjectStoreFullError extends RayError {}
/** A value cannot be stored (function, symbol, class instance, cycle). */
export class SerializationError extends RayError {}

/** The classes above by name, for rebuilding errors that crossed a thread or a socket. */
export const rayErrorClasses: Record<string, new (message: string) => RayError> = {
  RayError,
  GetTimeoutError,
  TaskCancelledError,
  WorkerCrashedError,
  RayActorError,
  ObjectLostError,
  ObjectStoreFullError,
  SerializationError,
};

/** A part of the API that a later piece of work owns. */
export function notImplemented(what: string): RayError {
  return new RayError(`Not implemented yet: ${what} (see README, "Status")`);
}

/** `init` called while already initialized. */
export function alreadyInitialized(): RayError {
  return new RayError(
    "Cannot init: rayd is already initialized (call shutdown() first or pass ignoreReinitError: true)",
  );
}

/** An API call that needs a running runtime, made without one. */
export function notInitialized(call: string): RayError {
  return new RayError(`Cannot ${call}: rayd is not initialized (call await ray.init() first)`);
}

/** A value at `path` cannot be serialized. */
export function notSerializable(what: string, path: string): SerializationError {
  return new SerializationError(`Cannot serialize value: ${what} (at ${path})`);
}

/** A get or wait deadline passed. */
export function getTimedOut(timeoutMs: number, pending: number): GetTimeoutError {
  return new GetTimeoutError(
    `Get timed out: ${pending} object(s) not ready after ${timeoutMs} ms`,
  );
}

/** The remote function could not be found in a worker. */
export function functionNotFound(moduleUrl: string, key: string, cause?: unknown): RayError {
  return new RayError(
    `Cannot run remote function: ${key} is not registered by ${moduleUrl} ` +
      "(declare remote functions at the top level of a module and guard driver code with " +
      "`if (import.meta.main)`)",
    { cause },
  );
}

/** The runtime shut down while a call waited. */
export function runtimeShutDown(): RayError {
  return new RayError("Cannot complete: rayd was shut down");
}

/** The worker running a task died. */
export function workerDied(taskName: string, workerId: string, detail: string): WorkerCrashedError {
  return new WorkerCrashedError(
    `Task ${taskName} failed: worker ${workerId} died while running it: ${detail}`,
  );
}

/** No node could ever give a task what it asks for. */
export function infeasibleTask(
  taskName: string,
  resource: string,
  wanted: number,
  total: number,
): RayError {
  return new RayError(
    `Cannot schedule task ${taskName}: it needs ${resource}: ${wanted} but the cluster has ` +
      `${total} (add it with init({ resources }) or numCpus, or lower the task's demand)`,
  );
}

/** The task was cancelled with `ray.cancel`. */
export function taskCancelled(taskName: string): TaskCancelledError {
  return new TaskCancelledError(`Task ${taskName} was cancelled`);
}

/** An actor is dead: every call on it fails with this (`what` says why). */
export function actorDead(actor: string, what: string, cause?: unknown): RayActorError {
  return new RayActorError(`Actor ${actor} is dead: ${what}`, { cause });
}

/** A call was on an actor whose worker died while it ran (the actor may restart). */
export function actorCallLost(actor: string, method: string, detail: string): RayActorError {
  return new RayActorError(
    `Actor ${actor} failed to run ${method}: its worker died while running it: ${detail}`,
  );
}

/** A call or link names an actor this node has never heard of. */
export function actorUnknown(actorId: string): RayActorError {
  return new RayActorError(`Actor ${actorId} is unknown to this node`);
}

/** The results ring of a caller's link to an actor held bytes rayd never writes. */
export function linkGarbage(actor: string, cause: unknown): RayActorError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new RayActorError(`Actor ${actor}: its call link held garbage (${detail})`, { cause });
}

/** A named actor was created with a name that a live actor of its namespace has. */
export function actorNameTaken(name: string, namespace: string): RayError {
  return new RayError(
    `Cannot create actor: the name "${name}" is already taken in namespace "${namespace}" ` +
      "(pass getIfExists: true to get that actor instead)",
  );
}

/** `getActor` found no live actor of that name. */
export function actorNotFound(name: string, namespace: string | undefined): RayError {
  const where = namespace === undefined ? "the job's namespace" : `namespace "${namespace}"`;
  return new RayError(`Cannot get actor: no live actor named "${name}" in ${where}`);
}

/** A worker thread could not start (its entry module failed, or it timed out). */
export function workerStartFailed(workerId: string, detail: string): RayError {
  return new RayError(`Worker ${workerId} failed to start: ${detail}`);
}

/** What a full store reports: what was asked and what holds the space. */
export interface StoreUsage {
  /** Bytes asked for. */
  readonly asked: number;
  /** Bytes of the store not free. */
  readonly used: number;
  /** Bytes the store may grow to. */
  readonly capacity: number;
  /** Bytes of objects that cannot be spilled now (being read, or handed to an actor). */
  readonly pinned: number;
}

/** The store has no room even after spilling everything that may be spilled. */
export function objectStoreFull(
  usage: StoreUsage,
  detail?: string,
  cause?: unknown,
): ObjectStoreFullError {
  const why = detail === undefined ? "" : `, ${detail}`;
  return new ObjectStoreFullError(
    `Object store is full: asked for ${usage.asked} bytes, ${usage.used} of ${usage.capacity} ` +
      `in use, ${usage.pinned} pinned${why} (raise objectStoreMemory in init() or free references)`,
    cause === undefined ? undefined : { cause },
  );
}

/** A stored object is gone. */
export function objectLost(objectId: string, detail: string): ObjectLostError {
  return new ObjectLostError(`Object ${objectId} is lost: ${detail}`);
}
