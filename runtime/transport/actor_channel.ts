/**
 * The work channel of an actor's worker: method calls
 * (`RunActorCall`) one way, their results (`ActorResult`) the other.
 *
 * @module
 */
import type { ObjectId, TaskId } from "../common/mod.ts";
import type { ActorResult, Frame, RunActorCall } from "../protocol/mod.ts";
import { WorkChannel, type WorkCodec } from "./work_channel.ts";

/** Shared by calls without ref arguments (never written to). */
const NO_FRAMES: Frame[] = [];

/** How calls and results are written: results name their call by slot. */
const ACTOR_CODEC: WorkCodec<RunActorCall, ActorResult> = {
  writeWork(w, [taskId, method, args, numReturns, deps, depFrames, slot]) {
    w.u32(slot);
    w.id(taskId);
    w.sym(method);
    w.frame(args);
    w.u32(numReturns);
    w.ids(deps);
    w.u32(depFrames.length);
    for (const f of depFrames) w.frame(f);
  },
  readWork(r) {
    const slot = r.u32();
    const taskId = r.id() as TaskId;
    const method = r.sym();
    const args = r.frame() as Frame | ObjectId;
    const numReturns = r.u32();
    const deps = r.ids() as ObjectId[];
    const nFrames = r.u32();
    const depFrames: Frame[] = nFrames === 0 ? NO_FRAMES : [];
    for (let k = 0; k < nFrames; k++) depFrames.push(r.frame() as Frame);
    return [taskId, method, args, numReturns, deps, depFrames, slot];
  },
  writeResult(w, [slot, returns, failed, contained]) {
    w.u32(slot);
    w.u32(returns.length);
    for (const f of returns) w.frame(f);
    w.u8(failed ? 1 : 0);
    w.u8(contained ? 1 : 0);
    if (contained) { for (const c of contained) w.ids(c); }
  },
  readResult(r) {
    const slot = r.u32();
    const count = r.u32();
    const returns: Frame[] = [];
    for (let k = 0; k < count; k++) returns.push(r.frame() as Frame);
    const failed = r.u8() === 1;
    if (r.u8() !== 1) return [slot, returns, failed];
    const contained: ObjectId[][] = [];
    for (let k = 0; k < count; k++) contained.push(r.ids() as ObjectId[]);
    return [slot, returns, failed, contained];
  },
};

/** The channel between the node and an actor's worker. */
export class ActorChannel extends WorkChannel<RunActorCall, ActorResult> {
  /** A new channel with rings of `capacity` bytes each (a power of two). */
  static create(capacity: number): ActorChannel {
    return new ActorChannel(WorkChannel.memory(capacity));
  }

  /** @param sab the channel's memory, from `create` on another thread */
  constructor(sab: SharedArrayBuffer) {
    super(sab, ACTOR_CODEC);
  }
}
