/**
 * The work channel of a pool worker: tasks (`RunTuple`) one way, their
 * results (`ResultTuple`) the other.
 *
 * @module
 */
import type { JobId, ObjectId, TaskId } from "../common/mod.ts";
import type { Frame, ResultTuple, RunTuple } from "../protocol/mod.ts";
import { WorkChannel, type WorkCodec } from "./work_channel.ts";

/** Shared by tasks without ref arguments (never written to). */
const NO_FRAMES: Frame[] = [];

/** How tasks and results are written. */
const TASK_CODEC: WorkCodec<RunTuple, ResultTuple> = {
  writeWork(w, [taskId, fn, args, deps, depFrames, numReturns, name, jobId]) {
    w.id(taskId);
    w.u32(fn);
    w.frame(args);
    w.ids(deps);
    w.u32(depFrames.length);
    for (const f of depFrames) w.frame(f);
    w.u32(numReturns);
    // Bit 0: a name follows; bit 1: a job id follows.
    w.u8((name === undefined ? 0 : 1) | (jobId === undefined ? 0 : 2));
    if (name !== undefined) w.sym(name);
    if (jobId !== undefined) w.sym(jobId);
  },
  readWork(r) {
    const taskId = r.id() as TaskId;
    const fn = r.u32();
    const args = r.frame() as Frame | ObjectId;
    const deps = r.ids() as ObjectId[];
    const nFrames = r.u32();
    const depFrames: Frame[] = nFrames === 0 ? NO_FRAMES : [];
    for (let k = 0; k < nFrames; k++) depFrames.push(r.frame() as Frame);
    const numReturns = r.u32();
    const flags = r.u8();
    if (flags === 0) return [taskId, fn, args, deps, depFrames, numReturns];
    const name = flags & 1 ? r.sym() : undefined;
    if (!(flags & 2)) return [taskId, fn, args, deps, depFrames, numReturns, name];
    return [taskId, fn, args, deps, depFrames, numReturns, name, r.sym() as JobId];
  },
  writeResult(w, [taskId, returns, failed, ms, contained]) {
    w.id(taskId);
    w.u32(returns.length);
    for (const f of returns) w.frame(f);
    w.u8(failed ? 1 : 0);
    w.f64(ms);
    w.u8(contained ? 1 : 0);
    if (contained) { for (const c of contained) w.ids(c); }
  },
  readResult(r) {
    const taskId = r.id() as TaskId;
    const count = r.u32();
    const returns: Frame[] = [];
    for (let k = 0; k < count; k++) returns.push(r.frame() as Frame);
    const failed = r.u8() === 1;
    const ms = r.f64();
    if (r.u8() !== 1) return [taskId, returns, failed, ms];
    const contained: ObjectId[][] = [];
    for (let k = 0; k < count; k++) contained.push(r.ids() as ObjectId[]);
    return [taskId, returns, failed, ms, contained];
  },
};

/** The channel between the node and a pool worker. */
export class TaskChannel extends WorkChannel<RunTuple, ResultTuple> {
  /** A new channel with rings of `capacity` bytes each (a power of two). */
  static create(capacity: number): TaskChannel {
    return new TaskChannel(WorkChannel.memory(capacity));
  }

  /** @param sab the channel's memory, from `create` on another thread */
  constructor(sab: SharedArrayBuffer) {
    super(sab, TASK_CODEC);
  }
}
