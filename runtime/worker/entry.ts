/**
 * Entry module of every worker thread: waits for "init", installs the
 * worker's Backend, then runs the tasks the node hands it.
 *
 * @module
 */
import { reclaimDropped, setBackend } from "../core/mod.ts";
import type { ActorId } from "../common/mod.ts";
import type { FromWorker, ToWorker } from "../protocol/mod.ts";
import { ordersResults } from "../protocol/mod.ts";
import { ActorExecutor } from "./actor_executor.ts";
import { installWorkerConsole } from "./_console.ts";
import { Executor } from "./executor.ts";
import { TaskLoop } from "./task_loop.ts";
import { LeaseRunner } from "./lease_runner.ts";
import { useStopWords } from "../object_store/mod.ts";
import { WorkerBackend } from "./worker_backend.ts";

const scope = self as unknown as {
  postMessage(msg: FromWorker): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  close(): void;
};

// Messages this worker posts are counted (but ref ops and nudges): results
// written to its channel carry the count, so the node reads them only after
// what was posted before them (a put made by a task arrives before the ref
// it returns).
let posted = 0;
const postMessage = scope.postMessage.bind(scope);
scope.postMessage = (msg: FromWorker) => {
  if (ordersResults(msg)) posted++;
  if (leases?.size && (msg.type === "blocked" || msg.type === "wait") && msg.taskId) {
    // A leased task holds its CPU by its lease: the node knows the lease's task, not this one.
    const leaseTaskId = leases.leaseTaskOf(msg.taskId);
    if (leaseTaskId !== undefined) {
      leases.blocked(msg.taskId, msg.type === "wait" || msg.on);
      msg = { ...msg, taskId: leaseTaskId };
    }
  }
  postMessage(msg);
};

// The parent gets no event when a worker closes itself: say so first.
const close = scope.close.bind(scope);
scope.close = () => {
  postMessage({ type: "closing" });
  close();
};
// Nor when it exits: Deno.exit() and process.exit() in a worker end only the
// worker, silently, after the "unload" event (with the exit code set).
addEventListener("unload", () => postMessage({ type: "closing", exitCode: Deno.exitCode }));

let be: WorkerBackend | undefined;
let executor: Executor | undefined;
let tasks: TaskLoop | undefined;
/** The actors this worker runs: one, or several that share it (ActorSettings.shareWorker). */
const actors = new Map<ActorId, ActorExecutor>();
let leases: LeaseRunner | undefined;

scope.onmessage = (e: MessageEvent<ToWorker>) => {
  const msg = e.data;
  switch (msg.type) {
    case "init":
      useStopWords(msg.stopWords);
      installWorkerConsole(msg.workerId, msg.logToDriver ?? true);
      be = new WorkerBackend(
        msg.jobId,
        msg.nodeId,
        msg.workerId,
        msg.sab,
        (m) => scope.postMessage(m),
        msg.ownerTag,
        msg.leases,
      );
      executor = new Executor(be.arena, be.scratch);
      setBackend(be);
      scope.postMessage({ type: "started" });
      tasks = new TaskLoop(executor, be, msg.channel, () => posted);
      break;
    case "leaseOpen":
      if (!leases) {
        const worker = be!;
        tasks!.leases = leases = new LeaseRunner({
          arena: worker.arena,
          fetch: (ids) => worker.wait(ids, ids.length, { fetch: true }),
          put: (id, frame, contained) => worker.put(id, frame, contained),
          flushBackend: () => worker.flush(),
          broken: (linkId, why) => scope.postMessage({ type: "actorLinkBroken", linkId, why }),
          wake: () => tasks!.listen(),
          cancelDone: (taskId) => scope.postMessage({ type: "leaseCancelDone", taskId }),
        });
      }
      leases.open(msg.linkId, msg.leaseTaskId, msg.link, msg.bell);
      break;
    case "leaseClose":
      leases?.close(msg.linkId);
      break;
    case "run":
      tasks!.run(msg.seq, msg.fns, msg.tasks);
      break;
    case "ready":
      be?.answered(msg.reqId, { ready: msg.ready, frames: msg.frames });
      break;
    case "cancel":
      executor?.cancel(msg.taskId);
      leases?.cancel(msg.taskId);
      if (msg.recursive) be?.leases?.cancelChildren(msg.taskId, false);
      break;
    case "actorStart": {
      const actor = new ActorExecutor(be!.arena, {
        post: (m) => scope.postMessage(m),
        flushBackend: () => be!.flush(),
        fetch: (ids) => be!.wait(ids, ids.length, { fetch: true }),
        put: (id, frame, contained) => be!.put(id, frame, contained),
        bell: msg.bell,
        shared: msg.spec.settings.shareWorker,
      });
      actors.set(msg.spec.actorId, actor);
      actor.start(msg.spec, msg.depFrames);
      break;
    }
    case "actorStop":
      actors.get(msg.actorId)?.stop();
      actors.delete(msg.actorId);
      break;
    case "actorAnswer":
      be?.actors.answered(msg.reqId, msg.entry);
      break;
    case "callerLink":
      actors.get(msg.actorId)?.addLink(msg.linkId, msg.link, msg.bell);
      break;
    case "callerGone":
      actors.get(msg.actorId)?.dropLink(msg.linkId);
      break;
    case "actorRetire":
      actors.get(msg.actorId)?.retire();
      break;
    case "actorLinked":
      be?.links.linked(msg);
      break;
    case "actorUnlinked":
      be?.links.unlinked(msg);
      break;
    case "leaseRevoke":
      be?.leases?.revoked(msg.linkId);
      break;
    case "clusterState":
      be?.clusterAnswered(msg.reqId, msg.state);
      break;
    case "gc":
      reclaimDropped();
      break;
    case "refSync":
      be?.flush();
      scope.postMessage({ type: "refSynced", seq: msg.seq });
      break;
    case "stop":
      be?.shutdown();
      setBackend(undefined);
      close();
      break;
  }
};
