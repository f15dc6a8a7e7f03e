/**
 * A call link: the shared-memory path from one calling worker straight to
 * one actor's worker, so that method calls and their results skip the
 * node's thread (docs/ARCHITECTURE.md, "Call links"). The caller writes
 * calls (`RunActorCall`, no dependency frames: the actor fetches ref
 * arguments itself) and rings the actor's doorbell; the actor
 * writes results (`LinkResult`) and rings the caller's doorbell, one per
 * calling thread for all its links.
 *
 * @module
 */
import type { ObjectId, TaskId } from "../common/mod.ts";
import type { Frame, LinkResult, RunActorCall } from "../protocol/mod.ts";
import { LINK_RESULT, NO_ARGS } from "../protocol/mod.ts";
import type { WireReader, WireWriter, WorkCodec } from "../transport/mod.ts";
import { WorkChannel } from "../transport/mod.ts";

/** Shared by calls read from a link (the actor fetches their ref arguments). */
const NO_FRAMES: Frame[] = [];
const NO_RETURNS: Frame[] = [];

/** A call as its caller keeps it: written from these fields, read back as a RunActorCall. */
export interface OutgoingCall {
  readonly taskId: TaskId;
  readonly method: string;
  readonly args: Frame | ObjectId;
  readonly numReturns: number;
  readonly deps: readonly ObjectId[];
  /** Its number on the link. */
  readonly slot: number;
}

/** Gets one result's fields (`value` for LINK_RESULT.value, `returns` for ok and failed). */
export type ResultVisitor = (slot: number, kind: number, returns: Frame[], value: unknown) => void;

function writeCall(w: WireWriter, c: OutgoingCall): void {
  w.u32(c.slot);
  w.id(c.taskId);
  w.sym(c.method);
  w.u32(c.numReturns);
  if (c.args === NO_ARGS) {
    w.u8(0);
  } else {
    w.u8(1);
    w.frame(c.args);
  }
  w.ids(c.deps);
}

function readResult(r: WireReader, visit: ResultVisitor): void {
  const slot = r.u32();
  const kind = r.u8();
  if (kind === LINK_RESULT.value || kind === LINK_RESULT.failedAtNode) {
    return visit(slot, kind, NO_RETURNS, readValue(r));
  }
  if (kind === LINK_RESULT.atNode || kind === LINK_RESULT.unrun) {
    return visit(slot, kind, NO_RETURNS, undefined);
  }
  if (kind !== LINK_RESULT.ok && kind !== LINK_RESULT.failed) {
    throw new RangeError(`Link result has a bad kind ${kind}`);
  }
  const n = r.u32();
  const returns: Frame[] = [];
  for (let k = 0; k < n; k++) returns.push(r.frame() as Frame);
  visit(slot, kind, returns, undefined);
}

const LINK_CODEC: WorkCodec<RunActorCall, LinkResult> = {
  writeWork(w, [taskId, method, args, numReturns, deps, , slot]) {
    writeCall(w, { taskId, method, args, numReturns, deps, slot });
  },
  readWork(r) {
    const slot = r.u32();
    const taskId = r.id() as TaskId;
    const method = r.sym();
    const numReturns = r.u32();
    const args = r.u8() === 0 ? NO_ARGS : r.frame() as Frame | ObjectId;
    const deps = r.ids() as ObjectId[];
    return [taskId, method, args, numReturns, deps, NO_FRAMES, slot];
  },
  writeResult(w, [slot, kind, returns, value]) {
    w.u32(slot);
    w.u8(kind);
    if (kind === LINK_RESULT.value || kind === LINK_RESULT.failedAtNode) {
      return writeValue(w, value);
    }
    if (kind === LINK_RESULT.atNode || kind === LINK_RESULT.unrun) return;
    w.u32(returns.length);
    for (const f of returns) w.frame(f);
  },
  readResult(r) {
    let out: LinkResult | undefined;
    readResult(r, (slot, kind, returns, value) => {
      const valued = kind === LINK_RESULT.value || kind === LINK_RESULT.failedAtNode;
      out = valued ? [slot, kind, returns, value] : [slot, kind, returns];
    });
    return out!;
  },
};

const VALUE_UNDEFINED = 0;
const VALUE_NULL = 1;
const VALUE_FALSE = 2;
const VALUE_TRUE = 3;
const VALUE_NUMBER = 4;
const VALUE_STRING = 5;

/** A value `isLinkValue` accepts, tagged. */
function writeValue(w: WireWriter, v: unknown): void {
  if (v === undefined) return w.u8(VALUE_UNDEFINED);
  if (v === null) return w.u8(VALUE_NULL);
  if (v === false) return w.u8(VALUE_FALSE);
  if (v === true) return w.u8(VALUE_TRUE);
  if (typeof v === "number") {
    w.u8(VALUE_NUMBER);
    return w.f64(v);
  }
  if (typeof v === "string") {
    w.u8(VALUE_STRING);
    return w.str(v);
  }
  throw new TypeError(`A link result cannot carry a ${typeof v} as a value`);
}

function readValue(r: WireReader): unknown {
  const tag = r.u8();
  switch (tag) {
    case VALUE_UNDEFINED:
      return undefined;
    case VALUE_NULL:
      return null;
    case VALUE_FALSE:
      return false;
    case VALUE_TRUE:
      return true;
    case VALUE_NUMBER:
      return r.f64();
    case VALUE_STRING:
      return r.str();
  }
  throw new RangeError(`Link result has a bad value tag ${tag}`);
}

/** The link between one caller and one actor. */
export class CallLink extends WorkChannel<RunActorCall, LinkResult> {
  /** A new link with rings of `capacity` bytes each (a power of two). */
  static create(capacity: number): CallLink {
    return new CallLink(WorkChannel.memory(capacity));
  }

  /** @param sab the link's memory, from `create` on another thread */
  constructor(sab: SharedArrayBuffer) {
    super(sab, LINK_CODEC);
  }

  /** Caller side: `sendWork` from the caller's own call records. */
  sendCalls(seq: number, calls: readonly OutgoingCall[]): boolean {
    return this.sendWorkWith(seq, calls, writeCall);
  }

  /** Caller side: reads the next batch of results, if one waits, one `visit` per result. */
  takeResultsInto(visit: ResultVisitor): boolean {
    return this.takeResultsWith((r) => readResult(r, visit));
  }
}
