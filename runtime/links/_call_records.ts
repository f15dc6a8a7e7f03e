/**
 * What a caller records of its actor calls for the control store (as Ray
 * lists actor tasks): each call once its result came, and as `running`
 * first when it was still out a while after it was written. Per call the
 * caller only stamps the time its batch was written and keeps the call when
 * its result came (one clock read per batch, none per call); the records are
 * made at the end of the turn, in one flat list (ACTOR_CALL,
 * runtime/protocol/call_records.ts) for the whole turn. Leased tasks are not
 * here: their owner records them as tasks (./owner_leases.ts). Private to
 * links/ (./call_links.ts owns one per thread).
 *
 * @module
 */
import type { ActorCallValue, Frame } from "../protocol/mod.ts";
import { ACTOR_CALL as F, ACTOR_CALL_STRIDE, LINK_RESULT } from "../protocol/mod.ts";
import { fromFrame } from "../core/mod.ts";
import type { Call, Link } from "./_call_types.ts";
import { PENDING } from "./_call_types.ts";

/** Where a thread's actor-call records go (the control store, through the node). */
export type CallRecordSink = (calls: ActorCallValue[]) => void;

/** A call still out this long after it was written is recorded as running. */
const RUNNING_AFTER_MS = 100;
const NO_DEPS: readonly never[] = [];

/** A caller thread's records of its actor calls. */
export class CallRecords {
  readonly #sink: CallRecordSink;
  /** Calls that ended this turn: call, started at, ended at. */
  #ended: (Call | number)[] = [];
  #flushQueued = false;
  /** Batches written since the last look for long calls, and those written before it. */
  #recent: (readonly Call[])[] = [];
  #older: (readonly Call[])[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the results read in this turn came (one clock read per turn that reads any). */
  #now = 0;

  /** @param sink where each turn's records go */
  constructor(sink: CallRecordSink) {
    this.#sink = sink;
  }

  /** `calls` (the first `n`) were written to their link now. */
  written(calls: readonly Call[], n: number): void {
    const now = Date.now();
    for (let i = 0; i < n; i++) calls[i].writtenAt = now;
    this.#recent.push(n === calls.length ? calls : calls.slice(0, n));
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => this.#lookForLong(), RUNNING_AFTER_MS);
    Deno.unrefTimer(this.#timer as unknown as number);
  }

  /** Results are read now (the time of the results this turn reads). */
  reading(): void {
    this.#now = 0;
  }

  /** `c` ended (`c.kind` says how); `link`: the link its result came from. */
  ended(c: Call, link: Link | undefined): void {
    if (c.spec !== undefined || c.recorded === 2) return;
    if (this.#now === 0) this.#now = Date.now();
    const written = c.writtenAt === 0 ? this.#now : c.writtenAt;
    let start = written;
    if (link !== undefined) {
      if (link.lastEnd > start) start = link.lastEnd;
      link.lastEnd = this.#now;
    }
    c.recorded = 2;
    this.#ended.push(c, start, this.#now);
    this.#flushSoon();
  }

  #flushSoon(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    this.#flushQueued = false;
    this.#now = 0;
    const ended = this.#ended;
    if (ended.length === 0) return;
    this.#ended = [];
    const rows: ActorCallValue[] = new Array(ended.length / 3 * ACTOR_CALL_STRIDE);
    let o = 0;
    for (let i = 0; i < ended.length; i += 3) {
      const c = ended[i] as Call;
      const [state, error] = outcome(c);
      o = row(rows, o, c, state, ended[i + 1] as number, ended[i + 2] as number, error);
    }
    this.#sink(rows);
  }

  /** Records as running the calls written before the last look and still out. */
  #lookForLong(): void {
    this.#timer = undefined;
    const rows: ActorCallValue[] = [];
    for (const batch of this.#older) {
      for (const c of batch) {
        if (c.kind !== PENDING || c.recorded !== 0 || c.spec !== undefined) continue;
        c.recorded = 1;
        row(rows, rows.length, c, "running", c.writtenAt, 0, "");
      }
    }
    this.#older = this.#recent;
    this.#recent = [];
    if (rows.length > 0) this.#sink(rows);
    if (this.#older.length === 0) return;
    this.#timer = setTimeout(() => this.#lookForLong(), RUNNING_AFTER_MS);
    Deno.unrefTimer(this.#timer as unknown as number);
  }
}

/** Writes `c`'s record at `o` of `rows`; returns where the next goes. */
function row(
  rows: ActorCallValue[],
  o: number,
  c: Call,
  state: string,
  start: number,
  end: number,
  error: string,
): number {
  rows[o + F.taskId] = c.taskId;
  rows[o + F.actorId] = c.actorId;
  rows[o + F.method] = c.method;
  rows[o + F.state] = state;
  rows[o + F.attempt] = c.attempt;
  rows[o + F.submittedAt] = c.writtenAt === 0 ? start : c.writtenAt;
  rows[o + F.startedAt] = start;
  rows[o + F.endedAt] = end;
  rows[o + F.numReturns] = c.numReturns;
  rows[o + F.deps] = c.deps.length === 0 ? NO_DEPS : c.deps;
  rows[o + F.parentTaskId] = c.parent;
  rows[o + F.error] = error;
  return o + ACTOR_CALL_STRIDE;
}

/** How `c` ended, for its record: its state and, when it failed, the error's text. */
function outcome(c: Call): [string, string] {
  if (c.kind !== LINK_RESULT.failed) return ["finished", ""];
  const text = errorTextOf(c.returns[0]) ?? "";
  return [text.startsWith("TaskCancelledError") ? "cancelled" : "failed", text];
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
