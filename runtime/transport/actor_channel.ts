/**
 * The shared-memory channel between the node's main thread and one actor's
 * worker: method calls one way, their results the other, through two byte
 * rings in a SharedArrayBuffer of its own, with no message passing on the
 * fast path. Layout (docs/ARCHITECTURE.md, "Actor channel"):
 *
 * ```
 * 0   i32 x 16 control words (below)
 * 64  calls ring data    (capacity bytes)
 * ..  results ring data  (capacity bytes)
 * ```
 *
 * A sleeping actor waits on DOORBELL, which the main thread bumps after each
 * batch and notifies only when SLEEPING says the actor sleeps (a futex wake
 * costs 15-35 us on a VM; spinning costs none). The actor tells the main
 * thread of results with one small message ("actorRing") unless POLLING says
 * the main thread is spinning on the ring anyway, and sends at most one such
 * message until the main thread reads (NUDGED).
 *
 * @module
 */
import type { ObjectId, TaskId } from "../common/mod.ts";
import type { ActorResult, Frame, RunActorCall } from "../protocol/mod.ts";
import { ByteRing } from "./byte_ring.ts";
import { WireReader, WireWriter } from "./wire.ts";

const CALLS_WRITE = 0; // and CALLS_READ = 1
const RESULTS_WRITE = 2; // and RESULTS_READ = 3
const DOORBELL = 4;
const SLEEPING = 5;
const POLLING = 6;
const NUDGED = 7;
const HEADER_BYTES = 64;

/** A batch of calls as the actor reads it: its sequence number and the calls. */
export interface CallBatch {
  readonly seq: number;
  readonly calls: RunActorCall[];
}

/** A batch of results as the main thread reads it. */
export interface ResultBatch {
  /** Messages the worker had posted before it wrote this batch. */
  readonly stamp: number;
  readonly results: ActorResult[];
}

const writer = new WireWriter();
/** Shared by calls without ref arguments (never written to). */
const NO_FRAMES: Frame[] = [];

/** Both rings and the control words of one actor. */
export class ActorChannel {
  /** The shared memory, to hand to the actor's worker. */
  readonly sab: SharedArrayBuffer;
  readonly #words: Int32Array;
  readonly #calls: ByteRing;
  readonly #results: ByteRing;

  /** A new channel with rings of `capacity` bytes each (a power of two). */
  static create(capacity: number): ActorChannel {
    return new ActorChannel(new SharedArrayBuffer(HEADER_BYTES + 2 * capacity));
  }

  /** @param sab a channel's memory, from `create` on another thread */
  constructor(sab: SharedArrayBuffer) {
    const capacity = (sab.byteLength - HEADER_BYTES) / 2;
    this.sab = sab;
    this.#words = new Int32Array(sab, 0, HEADER_BYTES / 4);
    this.#calls = new ByteRing(this.#words, CALLS_WRITE, sab, HEADER_BYTES, capacity);
    this.#results = new ByteRing(
      this.#words,
      RESULTS_WRITE,
      sab,
      HEADER_BYTES + capacity,
      capacity,
    );
  }

  // --- main thread side ---

  /**
   * Writes a batch of calls and rings the doorbell.
   *
   * @returns false when it does not fit now (send it another way, in order)
   */
  sendCalls(seq: number, calls: readonly RunActorCall[]): boolean {
    const w = writer.reset();
    w.u32(seq);
    w.u32(calls.length);
    for (const [taskId, method, args, numReturns, deps, depFrames, slot] of calls) {
      w.u32(slot);
      w.id(taskId);
      w.sym(method);
      w.frame(args);
      w.u32(numReturns);
      w.ids(deps);
      w.u32(depFrames.length);
      for (const f of depFrames) w.frame(f);
    }
    if (!this.#calls.tryWrite(w.bytes())) return false;
    Atomics.add(this.#words, DOORBELL, 1);
    if (Atomics.load(this.#words, SLEEPING) === 1) Atomics.notify(this.#words, DOORBELL);
    return true;
  }

  /** True when calls were written that the actor has not read yet. */
  get callsPending(): boolean {
    return this.#calls.readable;
  }

  /** The next batch of results, if one waits. RangeError if the bytes are not a batch. */
  takeResults(): ResultBatch | undefined {
    return this.#results.read(decodeResults);
  }

  /** True when a batch of results waits. */
  get resultsReady(): boolean {
    return this.#results.readable;
  }

  /** The main thread spins on the results ring (true) or stopped (false). */
  setPolling(on: boolean): void {
    Atomics.store(this.#words, POLLING, on ? 1 : 0);
  }

  /** The main thread is about to read results: the next batch may send a nudge again. */
  clearNudge(): void {
    Atomics.store(this.#words, NUDGED, 0);
  }

  // --- actor side ---

  /** The next batch of calls, if one waits. RangeError if the bytes are not a batch. */
  takeCalls(): CallBatch | undefined {
    return this.#calls.read(decodeCalls);
  }

  /**
   * Writes a batch of results.
   *
   * @param stamp messages this worker posted so far (the main thread reads
   *   the batch only after it received them all, so a put made by a method
   *   is known before the ref it returns)
   * @returns false when it does not fit now
   */
  sendResults(stamp: number, results: readonly ActorResult[]): boolean {
    const w = writer.reset();
    w.u32(stamp);
    w.u32(results.length);
    for (const [slot, returns, failed, contained] of results) {
      w.u32(slot);
      w.u32(returns.length);
      for (const f of returns) w.frame(f);
      w.u8(failed ? 1 : 0);
      w.u8(contained ? 1 : 0);
      if (contained) { for (const c of contained) w.ids(c); }
    }
    return this.#results.tryWrite(w.bytes());
  }

  /** True (once, until the main thread reads) when the main thread should be told of results. */
  shouldNudge(): boolean {
    if (Atomics.load(this.#words, POLLING) === 1) return false;
    return Atomics.compareExchange(this.#words, NUDGED, 0, 1) === 0;
  }

  /**
   * Spins until calls arrive or `micros` pass (blocks the thread).
   *
   * @returns true when calls wait
   */
  spinForCalls(micros: number): boolean {
    if (this.#calls.readable) return true;
    if (micros <= 0) return false;
    const until = performance.now() + micros / 1000;
    for (;;) {
      for (let i = 0; i < 64; i++) if (this.#calls.readable) return true;
      if (performance.now() >= until) return false;
    }
  }

  /**
   * Sleeps without blocking the thread until the doorbell rings.
   *
   * @returns undefined when calls already wait, else a promise that
   *   resolves when calls may have arrived
   */
  sleep(): Promise<unknown> | undefined {
    Atomics.store(this.#words, SLEEPING, 1);
    const seen = Atomics.load(this.#words, DOORBELL);
    if (this.#calls.readable) {
      Atomics.store(this.#words, SLEEPING, 0);
      return undefined;
    }
    const waited = Atomics.waitAsync(this.#words, DOORBELL, seen);
    const woke = () => Atomics.store(this.#words, SLEEPING, 0);
    if (!waited.async) {
      woke();
      return undefined;
    }
    return waited.value.then(woke);
  }
}

function decodeCalls(bytes: Uint8Array): CallBatch {
  const r = new WireReader(bytes);
  const seq = r.u32();
  const n = r.u32();
  const calls: RunActorCall[] = [];
  for (let i = 0; i < n; i++) {
    const slot = r.u32();
    const taskId = r.id() as TaskId;
    const method = r.sym();
    const args = r.frame() as Frame | ObjectId;
    const numReturns = r.u32();
    const deps = r.ids() as ObjectId[];
    const nFrames = r.u32();
    const depFrames: Frame[] = nFrames === 0 ? NO_FRAMES : [];
    for (let k = 0; k < nFrames; k++) depFrames.push(r.frame() as Frame);
    calls.push([taskId, method, args, numReturns, deps, depFrames, slot]);
  }
  if (!r.done) throw new RangeError("Wire message has bytes after its last call");
  return { seq, calls };
}

function decodeResults(bytes: Uint8Array): ResultBatch {
  const r = new WireReader(bytes);
  const stamp = r.u32();
  const n = r.u32();
  const results: ActorResult[] = [];
  for (let i = 0; i < n; i++) {
    const slot = r.u32();
    const count = r.u32();
    const returns: Frame[] = [];
    for (let k = 0; k < count; k++) returns.push(r.frame() as Frame);
    const failed = r.u8() === 1;
    if (r.u8() === 1) {
      const contained: ObjectId[][] = [];
      for (let k = 0; k < count; k++) contained.push(r.ids() as ObjectId[]);
      results.push([slot, returns, failed, contained]);
    } else {
      results.push([slot, returns, failed]);
    }
  }
  if (!r.done) throw new RangeError("Wire message has bytes after its last result");
  return { stamp, results };
}
