/**
 * What a caller records of its actor calls for the control store (as Ray
 * lists actor tasks): each call once its result came, and as `running`
 * first when it was still out a while after it was written. Per call the
 * caller stamps the time its batch was written (one clock read per batch)
 * and, when the result is read, appends a record, or adds one to the count
 * of the last record when the call continues its run (ACTOR_CALL,
 * runtime/protocol/call_records.ts; one clock read per turn). Records go to
 * the sink in batches, FLUSH_MS after the first (or at once before a read:
 * `flush`). Leased tasks are not here: their owner records them as tasks
 * (./owner_leases.ts). A failure whose error went through the node (an
 * error over an eighth of a link) comes as `failedAtNode` with the error's
 * text (cut at 2,000 characters), so it reads as failed too. Private to
 * links/ (./call_links.ts owns one per thread).
 *
 * @module
 */
import type { ActorCallValue, Frame } from "../protocol/mod.ts";
import { ACTOR_CALL as F, ACTOR_CALL_STRIDE, LINK_RESULT, taskCounterOf } from "../protocol/mod.ts";
import { fromFrame } from "../core/mod.ts";
import type { Call, Link } from "./_call_types.ts";
import { callErrorText, callFailed, PENDING } from "./_call_types.ts";

/** Where a thread's actor-call records go (the control store, through the node). */
export type CallRecordSink = (calls: ActorCallValue[]) => void;

/** A call still out this long after it was written is recorded as running. */
const RUNNING_AFTER_MS = 100;
/** Records go to the sink this long after the first of them, or at FLUSH_VALUES. */
const FLUSH_MS = 10;
const FLUSH_VALUES = 4096 * ACTOR_CALL_STRIDE;
const NO_DEPS: readonly never[] = [];

/** A caller thread's records of its actor calls. */
export class CallRecords {
  readonly #sink: CallRecordSink;
  /** Records of the calls that ended this turn (flat, ACTOR_CALL). */
  #rows: ActorCallValue[] = [];
  /** Where the last of `#rows` starts (-1: none), and the task counter of its run's last call. */
  #last = -1;
  #lastSeq = 0;
  /** The thread's links, looked through for long calls. */
  readonly #links: () => Iterable<Link>;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  /** Calls written before this (ms since the epoch) and still out are long. */
  #cutoff = 0;
  /** When the results read in this turn came (one clock read per turn that reads any: turns are short). */
  #now = 0;

  /**
   * @param sink where each turn's records go
   * @param links the thread's links (their calls written and not answered are in `pending`)
   */
  constructor(sink: CallRecordSink, links: () => Iterable<Link>) {
    this.#sink = sink;
    this.#links = links;
  }

  /** `calls` (the first `n`) were written to their link now. */
  written(calls: readonly Call[], n: number): void {
    const now = Date.now();
    for (let i = 0; i < n; i++) calls[i].writtenAt = now;
    if (this.#timer === undefined) this.#lookSoon(now);
  }

  /** `c` ended (`c.kind` says how); `link`: the link its result came from. */
  ended(c: Call, link: Link | undefined): void {
    if (c.spec !== undefined || c.recorded === 2) return;
    if (this.#now === 0) {
      this.#now = Date.now();
      queueMicrotask(() => this.#turnEnded());
    }
    const now = this.#now;
    const written = c.writtenAt === 0 ? now : c.writtenAt;
    let start = written;
    if (link !== undefined) {
      if (link.lastEnd > start) start = link.lastEnd;
      link.lastEnd = now;
    }
    c.recorded = 2;
    const seq = taskCounterOf(c.taskId);
    const failed = callFailed(c);
    if (!failed && this.#joins(c, seq, written)) return;
    const error = failed ? callErrorText(c, errorTextOf) : "";
    this.#last = this.#rows.length;
    this.#lastSeq = seq;
    row(this.#rows, c, failed ? stateOf(error) : "finished", written, start, now, error);
  }

  /** Adds `c` to the run of the last record when it continues it (see ACTOR_CALL). */
  #joins(c: Call, seq: number, written: number): boolean {
    const r = this.#rows;
    const l = this.#last;
    if (
      l < 0 || r[l + F.state] !== "finished" || r[l + F.actorId] !== c.actorId ||
      r[l + F.method] !== c.method || r[l + F.submittedAt] !== written ||
      r[l + F.attempt] !== c.attempt || r[l + F.numReturns] !== c.numReturns ||
      r[l + F.parentTaskId] !== c.parent || c.deps.length > 0 || r[l + F.deps] !== NO_DEPS
    ) return false;
    const count = r[l + F.count] as number;
    const step = count === 1 ? seq - this.#lastSeq : r[l + F.step] as number;
    if (step <= 0 || seq !== this.#lastSeq + step) return false;
    r[l + F.count] = count + 1;
    r[l + F.step] = step;
    this.#lastSeq = seq;
    return true;
  }

  /** The turn's calls are recorded: they go to the sink soon, in one batch with later turns'. */
  #turnEnded(): void {
    this.#now = 0;
    this.#last = -1;
    if (this.#rows.length >= FLUSH_VALUES) return this.flush();
    if (this.#flushTimer !== undefined) return;
    this.#flushTimer = setTimeout(() => this.flush(), FLUSH_MS);
    Deno.unrefTimer(this.#flushTimer as unknown as number);
  }

  /** Gives the records kept so far to the sink (before reads that must see them). */
  flush(): void {
    const rows = this.#rows;
    if (rows.length === 0) return; // nothing kept, no timer: a worker flushes with every result
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    this.#rows = [];
    this.#last = -1;
    this.#sink(rows);
  }

  /** Looks for long calls in RUNNING_AFTER_MS: those written before now and still out then. */
  #lookSoon(now: number): void {
    this.#cutoff = now;
    this.#timer = setTimeout(() => this.#lookForLong(), RUNNING_AFTER_MS);
    Deno.unrefTimer(this.#timer as unknown as number);
  }

  /**
   * Records as running the calls written before the cutoff and still out.
   * No call is kept for this: a link's `pending` holds its calls in the
   * order they were written (unwritten ones last), so each link is read
   * from its oldest call up to the first one written after the cutoff.
   */
  #lookForLong(): void {
    this.#timer = undefined;
    const rows: ActorCallValue[] = [];
    let out = false;
    for (const link of this.#links()) {
      if (link.lease) continue;
      for (const c of link.pending.values()) {
        out = true;
        if (c.writtenAt === 0 || c.writtenAt > this.#cutoff) break;
        if (c.recorded !== 0 || c.kind !== PENDING) continue;
        c.recorded = 1;
        row(rows, c, "running", c.writtenAt, c.writtenAt, 0, "");
      }
    }
    if (rows.length > 0) this.#sink(rows);
    if (out) this.#lookSoon(Date.now());
  }
}

/** Appends the record of `c` (a run of one call) to `rows`. */
function row(
  rows: ActorCallValue[],
  c: Call,
  state: string,
  submittedAt: number,
  start: number,
  end: number,
  error: string,
): void {
  // In ACTOR_CALL's order (a push keeps the array packed).
  rows.push(
    c.taskId,
    c.actorId,
    c.method,
    state,
    c.attempt,
    submittedAt,
    start,
    end,
    c.numReturns,
    c.deps.length === 0 ? NO_DEPS : c.deps,
    c.parent,
    error,
    1,
    1,
  );
}

/** The state of a call that failed with `error` (its text). */
function stateOf(error: string): string {
  return error.startsWith("TaskCancelledError") ? "cancelled" : "failed";
}

/**
 * The text of an error frame for the control store (inline: a link carries
 * no other; a result dropped by `dispose` has none left).
 */
export function errorTextOf(frame: Frame | undefined): string | undefined {
  if (!(frame instanceof Uint8Array)) return undefined;
  try {
    fromFrame(frame, undefined as never);
    return undefined;
  } catch (err) {
    return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  }
}
