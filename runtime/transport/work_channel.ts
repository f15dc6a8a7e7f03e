/**
 * The shared-memory channel between the node's main thread and one worker:
 * batches of work (tasks, or an actor's method calls) one way, batches of
 * results the other, through two byte rings in a SharedArrayBuffer of its
 * own, with no message passing on the fast path. Layout
 * (docs/ARCHITECTURE.md, "Work channels"):
 *
 * ```
 * 0   i32 x 16 control words (below)
 * 64  work ring data     (capacity bytes)
 * ..  results ring data  (capacity bytes)
 * ```
 *
 * A sleeping worker waits on DOORBELL, which the main thread bumps after
 * each batch and notifies only when SLEEPING says the worker sleeps (waking
 * a thread costs the waker 13-30 us on a VM; spinning costs none). The
 * worker tells the main thread of results with one small message unless
 * POLLING says the main thread is spinning on the ring anyway, and sends at
 * most one such message until the main thread reads (NUDGED).
 *
 * What a batch holds is the codec's business (see call_link.ts and
 * task_channel.ts).
 *
 * @module
 */
import { ByteRing } from "./byte_ring.ts";
import { Doorbell } from "./doorbell.ts";
import { WireReader, WireWriter } from "./wire.ts";

const WORK_WRITE = 0; // and WORK_READ = 1
const RESULTS_WRITE = 2; // and RESULTS_READ = 3
/** DOORBELL and SLEEPING, a Doorbell's two words. */
const DOORBELL = 4;
/** Where the worker's doorbell is in a channel's memory (callers of its leases ring it). */
export const BELL_OFFSET = DOORBELL * 4;
const POLLING = 6;
const NUDGED = 7;
const HEADER_BYTES = 64;

/** How the items of each direction are written and read. */
export interface WorkCodec<W, R> {
  writeWork(w: WireWriter, item: W): void;
  readWork(r: WireReader): W;
  writeResult(w: WireWriter, item: R): void;
  readResult(r: WireReader): R;
}

/** A batch of work as the worker reads it: its sequence number and the items. */
export interface WorkBatch<W> {
  readonly seq: number;
  readonly items: W[];
}

/** A batch of results as the main thread reads it. */
export interface ResultBatch<R> {
  /** Messages the worker had posted before it wrote this batch. */
  readonly stamp: number;
  readonly results: R[];
}

const writer = new WireWriter();

/**
 * Reads a batch: its header number (a work batch's seq, a result batch's
 * stamp), then its count of items, each handed to `readItem` at the
 * reader. RangeError when the bytes do not end with the last item.
 */
function eachItem(bytes: Uint8Array, readItem: (r: WireReader) => void): number {
  const r = new WireReader(bytes);
  const head = r.u32();
  const n = r.u32();
  for (let i = 0; i < n; i++) readItem(r);
  if (!r.done) throw new RangeError("Wire message has bytes after its last item");
  return head;
}

/** Both rings and the control words of one worker. */
export class WorkChannel<W, R> {
  /** The shared memory, to hand to the worker. */
  readonly sab: SharedArrayBuffer;
  readonly #words: Int32Array;
  readonly #bell: Doorbell;
  readonly #workReadable = () => this.#work.readable;
  readonly #work: ByteRing;
  readonly #results: ByteRing;
  readonly #codec: WorkCodec<W, R>;
  readonly #readWork: (bytes: Uint8Array) => WorkBatch<W>;
  readonly #readResults: (bytes: Uint8Array) => ResultBatch<R>;
  /** A batch read before the messages posted ahead of it arrived. */
  #held?: ResultBatch<R>;
  /** The results ring held garbage: it is not read again. */
  #broken = false;

  /**
   * @param sab a channel's memory (made by the main thread, `HEADER_BYTES`
   *   plus two rings of a power-of-two size)
   * @param codec how items are written and read
   */
  constructor(sab: SharedArrayBuffer, codec: WorkCodec<W, R>) {
    const capacity = (sab.byteLength - HEADER_BYTES) / 2;
    this.sab = sab;
    this.#codec = codec;
    this.#words = new Int32Array(sab, 0, HEADER_BYTES / 4);
    this.#bell = new Doorbell(sab, DOORBELL * 4);
    this.#work = new ByteRing(this.#words, WORK_WRITE, sab, HEADER_BYTES, capacity);
    this.#results = new ByteRing(
      this.#words,
      RESULTS_WRITE,
      sab,
      HEADER_BYTES + capacity,
      capacity,
    );
    this.#readWork = (bytes) => {
      const items: W[] = [];
      const seq = eachItem(bytes, (r) => items.push(codec.readWork(r)));
      return { seq, items };
    };
    this.#readResults = (bytes) => {
      const results: R[] = [];
      const stamp = eachItem(bytes, (r) => results.push(codec.readResult(r)));
      return { stamp, results };
    };
  }

  /** Memory for a channel with rings of `capacity` bytes each (a power of two). */
  static memory(capacity: number): SharedArrayBuffer {
    return new SharedArrayBuffer(HEADER_BYTES + 2 * capacity);
  }

  // --- main thread side ---

  /**
   * Writes a batch of work and rings the doorbell.
   *
   * @returns false when it does not fit now (send it another way, in order)
   */
  sendWork(seq: number, items: readonly W[]): boolean {
    return this.sendWorkWith(seq, items, this.#codec.writeWork);
  }

  /**
   * `sendWork` for items of another shape that `write` puts on the wire as
   * the codec's `readWork` reads them back (a caller writes its own call
   * records, without making a work item of each).
   */
  protected sendWorkWith<T>(
    seq: number,
    items: readonly T[],
    write: (w: WireWriter, item: T) => void,
  ): boolean {
    const w = writer.reset();
    w.u32(seq);
    w.u32(items.length);
    for (const item of items) write(w, item);
    if (!this.#work.tryWrite(w.bytes())) return false;
    this.#bell.ring();
    return true;
  }

  /** The worker's doorbell (its two words in this channel's header, at byte BELL_OFFSET). */
  get bell(): Doorbell {
    return this.#bell;
  }

  /** True when work was written that the worker has not read yet. */
  get workPending(): boolean {
    return this.#work.readable;
  }

  /** The next batch of results, if one waits. RangeError if the bytes are not a batch. */
  takeResults(): ResultBatch<R> | undefined {
    return this.#results.read(this.#readResults);
  }

  /**
   * Reads the next batch of results, if one waits, handing `visit` a reader
   * at each result (it reads the fields the codec's `writeResult` wrote)
   * instead of making a result item of each. Returns false when none
   * waits; RangeError if the bytes are not a batch.
   */
  protected takeResultsWith(visit: (r: WireReader) => void): boolean {
    return this.#results.read((bytes) => (eachItem(bytes, visit), true)) ?? false;
  }

  /**
   * The next batch of results written after at most `upTo` of the worker's
   * messages (see `sendResults`' stamp). A later batch is kept until a call
   * with a bigger `upTo`, or, when `final` (the worker is gone and those
   * messages never come), dropped. Throws RangeError once for garbage; the
   * ring is not read again after that.
   */
  nextResults(upTo: number, final: boolean): ResultBatch<R> | undefined {
    if (this.#broken) return undefined;
    for (;;) {
      let batch = this.#held;
      this.#held = undefined;
      if (!batch) {
        try {
          batch = this.takeResults();
        } catch (err) {
          this.#broken = true;
          throw err;
        }
      }
      if (!batch || batch.stamp <= upTo) return batch;
      if (!final) {
        this.#held = batch;
        return undefined;
      }
    }
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

  // --- worker side ---

  /** The next batch of work, if one waits. RangeError if the bytes are not a batch. */
  takeWork(): WorkBatch<W> | undefined {
    return this.#work.read(this.#readWork);
  }

  /**
   * Writes a batch of results.
   *
   * @param stamp messages this worker posted so far (the main thread reads
   *   the batch only after it received them all, so a put made by a task is
   *   known before the ref it returns)
   * @returns false when it does not fit now
   */
  sendResults(stamp: number, results: readonly R[]): boolean {
    const w = writer.reset();
    w.u32(stamp);
    w.u32(results.length);
    for (const item of results) this.#codec.writeResult(w, item);
    return this.#results.tryWrite(w.bytes());
  }

  /** True (once, until the main thread reads) when the main thread should be told of results. */
  shouldNudge(): boolean {
    if (Atomics.load(this.#words, POLLING) === 1) return false;
    return Atomics.compareExchange(this.#words, NUDGED, 0, 1) === 0;
  }

  /**
   * Spins until work arrives or `micros` pass (blocks the thread).
   *
   * @returns true when work waits
   */
  spinForWork(micros: number): boolean {
    return this.#bell.spinForWork(micros, this.#workReadable);
  }

  /**
   * Sleeps without blocking the thread until the doorbell rings.
   *
   * @returns undefined when work already waits, else a promise that
   *   resolves when work may have arrived
   */
  sleep(): Promise<unknown> | undefined {
    return this.#bell.sleep(this.#workReadable);
  }
}
