import assert from "node:assert/strict";
import {
  alreadyInitialized,
  functionNotFound,
  getTimedOut,
  GetTimeoutError,
  notImplemented,
  notInitialized,
  notSerializable,
  ObjectLostError,
  ObjectStoreFullError,
  RayActorError,
  RayError,
  rayErrorClasses,
  RayTaskError,
  runtimeShutDown,
  SerializationError,
  TaskCancelledError,
  WorkerCrashedError,
  workerDied,
} from "../../runtime/common/mod.ts";

const subclasses = [
  GetTimeoutError,
  TaskCancelledError,
  WorkerCrashedError,
  RayActorError,
  ObjectLostError,
  ObjectStoreFullError,
  SerializationError,
];

Deno.test("RayError subclasses take their class name as name", () => {
  assert.equal(new RayError("x").name, "RayError");
  for (const cls of subclasses) {
    const err = new cls("boom");
    assert.equal(err.name, cls.name);
    assert.ok(err instanceof RayError);
    assert.ok(err instanceof Error);
    assert.equal(err.message, "boom");
    assert.ok(err.stack?.startsWith(`${cls.name}: boom`), err.stack);
  }
});

Deno.test("RayError keeps the cause it is given", () => {
  const cause = new Error("root");
  const err = new ObjectStoreFullError("full", { cause });
  assert.equal(err.cause, cause);
  assert.equal(Object.hasOwn(new RayError("no cause"), "cause"), false);
});

Deno.test("rayErrorClasses maps each class name to its class", () => {
  for (const cls of [RayError, ...subclasses]) assert.equal(rayErrorClasses[cls.name], cls);
  for (const [name, cls] of Object.entries(rayErrorClasses)) {
    assert.equal(new cls("m").name, name);
  }
});

Deno.test("RayTaskError message includes the task name, the cause's summary and its stack", () => {
  const cause = new TypeError("bad input");
  const err = new RayTaskError("train", cause);
  assert.equal(err.name, "RayTaskError");
  assert.equal(err.taskName, "train");
  assert.equal(err.cause, cause);
  assert.ok(err instanceof RayError);
  assert.ok(err.message.startsWith("Task train failed: TypeError: bad input"), err.message);
  assert.ok(err.message.includes(cause.stack!), err.message);
  assert.ok(err.message.includes("Remote stack:"), err.message);
});

Deno.test("RayTaskError with a non-Error cause describes it with String()", () => {
  const err = new RayTaskError("f", 42);
  assert.equal(err.message, "Task f failed: 42");
  assert.equal(err.cause, 42);
});

Deno.test("RayTaskError with a cause without a stack has no stack section", () => {
  const cause = new Error("no stack");
  Object.defineProperty(cause, "stack", { value: undefined });
  const err = new RayTaskError("f", cause);
  assert.equal(err.message, "Task f failed: Error: no stack");
});

Deno.test("RayTaskError caused by another RayTaskError says an argument's task failed", () => {
  const inner = new RayTaskError("producer", new Error("oops"));
  const outer = new RayTaskError("consumer", inner);
  assert.ok(
    outer.message.startsWith(
      `Task consumer failed: an argument's task failed: ${inner.message}`,
    ),
    outer.message,
  );
  assert.equal(outer.cause, inner);
});

Deno.test("RayTaskError uses an explicit message when given one", () => {
  const cause = new Error("c");
  const err = new RayTaskError("f", cause, "exact message");
  assert.equal(err.message, "exact message");
  assert.equal(err.cause, cause);
  assert.equal(err.taskName, "f");
});

Deno.test("error factories build the documented classes with sentence-case messages", () => {
  const cases: [Error, new (...a: any[]) => Error][] = [
    [notImplemented("actors"), RayError],
    [alreadyInitialized(), RayError],
    [notInitialized("get"), RayError],
    [notSerializable("functions are not serializable", "args[0].cb"), SerializationError],
    [getTimedOut(100, 2), GetTimeoutError],
    [functionNotFound("file:///m.ts", "f#0"), RayError],
    [runtimeShutDown(), RayError],
    [workerDied("f", "w1", "exit"), WorkerCrashedError],
  ];
  for (const [err, cls] of cases) {
    assert.ok(err instanceof cls, `${err.name} is not a ${cls.name}`);
    assert.match(err.message, /^[A-Z]/);
    assert.doesNotMatch(err.message, /\.$/);
  }
});

Deno.test("notSerializable() names what and where", () => {
  const err = notSerializable("symbols are not serializable", "args[1].s");
  assert.equal(err.message, "Cannot serialize value: symbols are not serializable (at args[1].s)");
});

Deno.test("getTimedOut() names the pending count and the deadline", () => {
  assert.equal(
    getTimedOut(250, 3).message,
    "Get timed out: 3 object(s) not ready after 250 ms",
  );
});

Deno.test("functionNotFound() sets cause", () => {
  const importErr = new Error("module not found");
  const err = functionNotFound("file:///m.ts", "f#0", importErr);
  assert.equal(err.cause, importErr);
  assert.ok(err.message.includes("f#0") && err.message.includes("file:///m.ts"), err.message);
});

Deno.test("workerDied() names the task, the worker and the detail", () => {
  assert.equal(
    workerDied("sum", "w3", "exited").message,
    "Task sum failed: worker w3 died while running it: exited",
  );
});
