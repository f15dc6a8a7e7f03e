/**
 * Entry module of every worker thread: waits for "init", installs the
 * worker's Backend, then runs the tasks the node hands it.
 *
 * @module
 */
import { setBackend } from "../core/mod.ts";
import type { FromWorker, ToWorker } from "../protocol/mod.ts";
import { execute } from "./executor.ts";
import { WorkerBackend } from "./worker_backend.ts";

const scope = self as unknown as {
  postMessage(msg: FromWorker): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  close(): void;
};

let be: WorkerBackend | undefined;

scope.onmessage = (e: MessageEvent<ToWorker>) => {
  const msg = e.data;
  switch (msg.type) {
    case "init":
      be = new WorkerBackend(
        msg.jobId,
        msg.nodeId,
        msg.workerId,
        msg.sab,
        (m) => scope.postMessage(m),
      );
      setBackend(be);
      scope.postMessage({ type: "started" });
      break;
    case "run":
      for (const task of msg.tasks) {
        const backend = be!;
        execute(task, backend.arena).then((result) => backend.finished(result));
      }
      break;
    case "ready":
      be?.answered(msg.reqId, { ready: msg.ready, frames: msg.frames });
      break;
    case "stop":
      be?.shutdown();
      setBackend(undefined);
      scope.close();
      break;
  }
};
