/**
 * Fakes for the link layer's unit tests: a node that records what a caller
 * posts, and an actor that reads a caller's link and writes results back,
 * both on this thread.
 *
 * @module
 */
import type { ActorId } from "../../runtime/common/mod.ts";
import { IdFactory, type ObjectId, type TaskId } from "../../runtime/common/mod.ts";
import type { WaitResult } from "../../runtime/core/mod.ts";
import {
  type ActorCall,
  type Frame,
  type FromWorker,
  LINK_RESULT,
  type LinkResult,
  NO_ARGS,
  type RunActorCall,
} from "../../runtime/protocol/mod.ts";
import { decodeFrame, encodeFrame, heapAllocator } from "../../runtime/serialization/mod.ts";
import { Doorbell } from "../../runtime/transport/mod.ts";
import { CallLink, type CallLinksHost } from "../../runtime/links/mod.ts";

export type LinkRequest = Extract<FromWorker, { type: "actorLink" }>;

/** A node that records what the caller posts and puts, and answers node waits from `stored`. */
export class FakeNode implements CallLinksHost {
  readonly ids = new IdFactory();
  readonly posted: FromWorker[] = [];
  readonly puts: [ObjectId, Frame, readonly ObjectId[]][] = [];
  readonly stored = new Map<ObjectId, Frame>();
  readonly post = (msg: FromWorker): void => void this.posted.push(msg);
  readonly put = (id: ObjectId, frame: Frame, contained: readonly ObjectId[]): void => {
    this.puts.push([id, frame, contained]);
  };
  readonly nodeWait = (ids: readonly ObjectId[]): Promise<WaitResult> =>
    Promise.resolve({
      ready: ids.map(() => true),
      frames: ids.map((id) => this.stored.get(id)!),
    });

  /** The link requests posted so far, in order. */
  links(): LinkRequest[] {
    return this.posted.filter((m): m is LinkRequest => m.type === "actorLink");
  }

  /** The messages of `type` posted so far. */
  of<T extends FromWorker["type"]>(type: T): Extract<FromWorker, { type: T }>[] {
    return this.posted.filter((m): m is Extract<FromWorker, { type: T }> => m.type === type);
  }
}

/** The actor's worker at the far end of one link, on this thread. */
export class FakeActor {
  readonly link: CallLink;
  readonly #callerBell: Doorbell;
  /** The actor's own bell, which the caller rings once linked. */
  readonly bell = new Doorbell();

  constructor(req: LinkRequest) {
    this.link = new CallLink(req.link);
    this.#callerBell = new Doorbell(req.bell);
  }

  /** Takes every call written so far. */
  take(): RunActorCall[] {
    const out: RunActorCall[] = [];
    for (let b; (b = this.link.takeWork());) out.push(...b.items);
    return out;
  }

  /** Writes results and rings the caller. */
  reply(results: LinkResult[]): void {
    if (!this.link.sendResults(0, results)) throw new Error("results do not fit the link");
    this.#callerBell.ring();
  }

  /** Answers each call with its method name as a one-frame ok result. */
  echo(runs: readonly RunActorCall[]): void {
    this.reply(runs.map((r): LinkResult => [r[6], LINK_RESULT.ok, [valueFrame(r[1])]]));
  }
}

const ids = new IdFactory();

/** A call with no arguments to `actorId`. */
export function actorCall(actorId: string, method = "m", numReturns = 1): ActorCall {
  return {
    taskId: ids.nextTaskId() as TaskId,
    actorId: actorId as ActorId,
    method,
    args: NO_ARGS,
    deps: [],
    argRefs: [],
    numReturns,
  };
}

/** A frame holding `value`. */
export function valueFrame(value: unknown): Uint8Array {
  return encodeFrame(value, "value", heapAllocator);
}

/** The value (or error) a frame holds. */
export function valueOf(frame: Frame | undefined): unknown {
  if (!(frame instanceof Uint8Array)) throw new TypeError("expected an inline frame");
  return decodeFrame(frame);
}

/** Runs pending microtasks and timers of up to `ms`. */
export function settle(ms = 0): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
