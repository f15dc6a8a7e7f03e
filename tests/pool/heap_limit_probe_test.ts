/**
 * Why rayd's workers have no heap limit of their own (README, known limits):
 * a Web Worker cannot be given one, and node:worker_threads' `resourceLimits`
 * (which Deno has) stops a worker at its limit but says nothing when that
 * happens while the worker handles a message: no "error", no "exit", and
 * later messages are ignored. Workers with a limit would trade the process
 * dying for a worker that hangs unseen. These probes (a 32 MB heap, a few
 * seconds) check that this is still so; when one fails, Deno reports such
 * deaths and workers can be given a heap limit.
 */
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";

/** Where the worker runs out of memory: in a timer callback, or while it handles a message. */
function hogWorker(where: "timer" | "message"): Worker {
  const hog = "const kept = []; for (let i = 0;; i++) kept.push(new Array(100000).fill(i));";
  const code = where === "timer"
    ? `onmessage = () => setTimeout(() => { ${hog} }, 0);`
    : `onmessage = () => { ${hog} };`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`), {
    resourceLimits: { maxOldGenerationSizeMb: 32 },
  });
}

/** What the worker's owner hears within `ms` after asking it to run out of memory. */
async function heard(where: "timer" | "message", ms: number): Promise<string[]> {
  const worker = hogWorker(where);
  const events: string[] = [];
  const { promise, resolve } = Promise.withResolvers<void>();
  worker.on("error", (err: Error & { code?: string }) => events.push(`error ${err.code}`));
  worker.on("exit", (code: number) => {
    events.push(`exit ${code}`);
    resolve();
  });
  worker.postMessage("go");
  const timer = setTimeout(resolve, ms);
  await promise;
  clearTimeout(timer);
  await worker.terminate();
  return events;
}

Deno.test("platform: a node:worker_threads worker past its heap limit in a timer is reported", async () => {
  const events = await heard("timer", 20_000);
  assert.deepEqual(events.slice(0, 2), ["error ERR_WORKER_OUT_OF_MEMORY", "exit 1"]);
});

Deno.test("platform: past its heap limit while handling a message, it is not (rayd keeps Web Workers)", async () => {
  const events = await heard("message", 3_000);
  assert.deepEqual(
    events.filter((e) => e.startsWith("error")),
    [],
    "Deno now reports a worker stopped at its heap limit inside a message handler: rayd's " +
      "workers can get a heap limit (node:worker_threads resourceLimits); see README known limits",
  );
});
