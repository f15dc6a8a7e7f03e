/**
 * Spilling: when the store is full, objects nobody may be reading are
 * written to disk, least recently used first, and their space is freed; a
 * spilled object is read back into the store before it is handed to a
 * reader. The node's main thread owns this; workers ask it for room.
 *
 * An object may be spilled only when it is resident, not pinned and not
 * exposed. Pins count readers that may hold the object's bytes: a fetch in
 * flight (until the reader unpins), a task's dependency in flight (until the
 * worker unpins after decoding), and zero-copy views (one pin while any
 * view is alive anywhere). Exposed objects were handed to an actor and stay
 * in memory until freed.
 *
 * @module
 */
import type { ObjectId } from "../common/mod.ts";
import {
  config,
  objectLost,
  objectStoreFull,
  ObjectStoreFullError,
  type StoreUsage,
} from "../common/mod.ts";
import { errorFrame, reclaimBeforeFresh } from "../core/mod.ts";
import {
  type DiskLoc,
  type SharedArena,
  SpillFiles,
  type SpillFilesStats,
  type StoreLoc,
} from "../object_store/mod.ts";
import { type Frame, ROOM_REPLY } from "../protocol/mod.ts";
import type { LendMode } from "./object_table.ts";

const INLINE_MAX = config("inlineObjectMaxBytes");

interface Rec {
  readonly size: number;
  /** The copy in the store, when resident. */
  loc: StoreLoc | undefined;
  /** The copy on disk, once spilled (kept after a restore, so spilling it again is free). */
  disk: DiskLoc | undefined;
  pins: number;
  exposed: boolean;
}

/** How a spill manager is set up. */
export interface SpillManagerOptions {
  /** The node's store; its `onFull` is set to `makeRoom`. */
  readonly arena: SharedArena;
  /** Where spilled bytes go. */
  readonly files: SpillFiles;
  /** Spill at least this many bytes when the store is full. */
  readonly minBytes: number;
  /** Rounds of "collect garbage and retry" before a fetch gives up. */
  readonly retryRounds: number;
  /** Runs garbage collection everywhere and resolves once finalizers had time to run. */
  readonly collect: (round: number) => Promise<void>;
  /**
   * Frees at once what this thread dropped (a collection, then a sweep of
   * the dropped refs it found: see `storeReclaimer`); tried before anything
   * is spilled.
   */
  readonly reclaim?: () => number;
}

/** What is where, and how much moved. */
export interface SpillStats {
  /** Objects in the store. */
  readonly resident: number;
  /** Bytes of the objects in the store. */
  readonly residentBytes: number;
  /** Objects only on disk. */
  readonly spilled: number;
  /** Bytes of the objects only on disk. */
  readonly spilledBytes: number;
  /** Bytes of resident objects that cannot be spilled now. */
  readonly pinnedBytes: number;
  /** Objects moved out of the store since the start. */
  readonly spills: number;
  /** Objects read back into the store since the start. */
  readonly restores: number;
  /** Spilled objects handed to a reader as a heap copy, the store being too full to restore them. */
  readonly heapCopies: number;
  /** Objects written straight to disk when they were made, the store being full. */
  readonly bornOnDisk: number;
  /** The spill files. */
  readonly files: SpillFilesStats;
}

/**
 * Tracks where each stored object is, spills and restores.
 *
 * @example
 * ```ts
 * import { SharedArena, SpillFiles } from "../object_store/mod.ts";
 * import { SpillManager } from "./spill_manager.ts";
 * const arena = new SharedArena({ initialBytes: 1 << 16, maxBytes: 1 << 16 });
 * const files = new SpillFiles({ prefix: "doc", fileBytes: 1 << 20, smallBytes: 1 << 12 });
 * const spill = new SpillManager({
 *   arena, files, minBytes: 0, retryRounds: 0, collect: () => Promise.resolve(),
 * });
 * const a = arena.alloc(40_000);
 * spill.sealed("a" as never, arena.locate(a)!);
 * arena.alloc(40_000); // does not fit: "a" goes to disk
 * spill.stats().spilled; // 1
 * spill.close();
 * ```
 */
export class SpillManager {
  readonly #arena: SharedArena;
  readonly #files: SpillFiles;
  readonly #minBytes: number;
  readonly #retryRounds: number;
  readonly #collect: (round: number) => Promise<void>;
  readonly #reclaim: (() => number) | undefined;
  readonly #recs = new Map<ObjectId, Rec>();
  /** Objects that may be spilled, least recently used first. */
  readonly #lru = new Map<ObjectId, Rec>();
  #spills = 0;
  #restores = 0;
  #heapCopies = 0;
  #bornOnDisk = 0;
  #closed = false;

  /** Takes over the arena's `onFull`. */
  constructor(options: SpillManagerOptions) {
    this.#arena = options.arena;
    this.#files = options.files;
    this.#minBytes = Math.min(options.minBytes, Math.floor(options.arena.capacity / 8));
    this.#retryRounds = options.retryRounds;
    this.#collect = options.collect;
    this.#reclaim = options.reclaim;
    this.#arena.onFull = (size) => this.makeRoom(size);
  }

  /** Object `id` was sealed at `loc`: it may be spilled from now on. */
  sealed(id: ObjectId, loc: StoreLoc): void {
    if (loc.size === 0 || this.#recs.has(id)) return;
    const rec: Rec = { size: loc.size, loc, disk: undefined, pins: 0, exposed: false };
    this.#recs.set(id, rec);
    this.#lru.set(id, rec);
  }

  /**
   * The frame to keep for a new object `id`. A big frame on the heap was
   * made while the store was full of pinned objects: it is written straight
   * to disk, as if spilled, and the table keeps a location at offset 0 (no
   * object's: only this manager hands out where an object is), or, when
   * writing fails, an ObjectStoreFullError frame. Any other frame as is.
   */
  overflowed(id: ObjectId, frame: Frame): Frame {
    if (!(frame instanceof Uint8Array) || frame.length < INLINE_MAX) return frame;
    let disk: DiskLoc;
    try {
      disk = this.#files.write(frame);
    } catch (err) {
      return errorFrame(objectStoreFull(this.usage(frame.length), "spilling to disk failed", err));
    }
    this.#recs.set(id, { size: frame.length, loc: undefined, disk, pins: 0, exposed: false });
    this.#bornOnDisk++;
    return { offset: 0, size: frame.length };
  }

  /** Bytes object `id` takes in the store (0 when it is not a stored object). */
  sizeOf(id: ObjectId): number {
    return this.#recs.get(id)?.size ?? 0;
  }

  /** Object `id` was freed: gives back its space in the store and on disk. */
  drop(id: ObjectId, frame: Frame): void {
    const rec = this.#recs.get(id);
    if (!rec) {
      if (!(frame instanceof Uint8Array)) this.#arena.free(frame);
      return;
    }
    this.#recs.delete(id);
    this.#lru.delete(id);
    if (rec.loc) this.#arena.free(rec.loc);
    if (rec.disk) this.#files.release(rec.disk);
  }

  /**
   * Bytes `[offset, offset + max)` of object `id` read from its spill file
   * into fresh memory, when it is on disk and not in the store (a peer pulls
   * it chunk by chunk without restoring it: restoring would spill others,
   * which the peer's other pulls may want next); undefined otherwise.
   */
  readSpilled(
    id: ObjectId,
    offset: number,
    max: number,
  ): { bytes: Uint8Array; size: number } | undefined {
    const rec = this.#recs.get(id);
    if (!rec || rec.loc || !rec.disk) return undefined;
    const start = Math.min(offset, rec.size);
    const bytes = new Uint8Array(Math.min(max, rec.size - start));
    this.#files.read({ ...rec.disk, offset: rec.disk.offset + start, size: bytes.length }, bytes);
    return { bytes, size: rec.size };
  }

  /** One more reader may hold the bytes of `id`. */
  pin(id: ObjectId): void {
    const rec = this.#recs.get(id);
    if (!rec) return;
    rec.pins++;
    this.#lru.delete(id);
  }

  /** One reader of `id` is done; it is the most recently used once none is left. */
  unpin(id: ObjectId): void {
    const rec = this.#recs.get(id);
    if (!rec || rec.pins === 0) return;
    rec.pins--;
    if (rec.pins === 0 && rec.loc && !rec.exposed) this.#lru.set(id, rec);
  }

  /**
   * The frame of `id` in the store for a reader, restored first if it was
   * spilled: pinned (the reader unpins) or exposed (kept until freed). Never
   * throws: when it cannot be restored, an inline frame holding the error.
   * A pin is taken even then, so the reader's unpin stays balanced.
   */
  lend(id: ObjectId, frame: Frame, mode: LendMode): Frame {
    const rec = this.#recs.get(id);
    if (!rec) return frame;
    if (mode === "pin") this.pin(id);
    try {
      this.#restore(rec);
    } catch (err) {
      return this.#heapCopy(rec, err);
    }
    if (mode === "expose") {
      rec.exposed = true;
      this.#lru.delete(id);
    }
    return rec.loc!;
  }

  /**
   * Lends the `frames` of `ids` to one reader (a get, or a task's
   * dependencies): each stored one is pinned (the reader unpins each) and
   * restored if spilled. Synchronous when everything is in memory or could
   * be restored at once; otherwise a promise: when the store is too full of
   * pinned objects, garbage is collected everywhere (dropped views release
   * their pins) and the restore tried again a few times, after which the
   * frames that still could not be restored are inline ObjectStoreFullError
   * frames.
   */
  lendAll<F extends Frame | undefined>(
    ids: readonly ObjectId[],
    frames: readonly F[],
  ): F[] | Promise<F[]> {
    const out = frames.slice();
    const recs = new Map<number, Rec>();
    frames.forEach((f, i) => {
      const rec = f === undefined ? undefined : this.#recs.get(ids[i]);
      if (!rec) return;
      recs.set(i, rec);
      this.pin(ids[i]);
    });
    const failure = this.#restoreAll(ids, recs, out as Frame[]);
    if (failure === undefined) return out;
    return this.#retry(ids, recs, out as Frame[], failure) as Promise<F[]>;
  }

  async #retry(
    ids: readonly ObjectId[],
    recs: Map<number, Rec>,
    out: Frame[],
    failure: unknown,
  ): Promise<Frame[]> {
    for (let round = 0; failure !== undefined; round++) {
      if (round >= this.#retryRounds || !(failure instanceof ObjectStoreFullError)) {
        for (const [i, rec] of recs) if (!rec.loc) out[i] = this.#heapCopy(rec, failure);
        return out;
      }
      await this.#collect(round);
      failure = this.#restoreAll(ids, recs, out);
    }
    return out;
  }

  /** Restores what it can of `recs` into `out`; returns the last failure, if any. */
  #restoreAll(ids: readonly ObjectId[], recs: Map<number, Rec>, out: Frame[]): unknown {
    let failure: unknown;
    for (const [i, rec] of recs) {
      if (this.#recs.get(ids[i]) !== rec) {
        out[i] = errorFrame(objectLost(ids[i], "it was freed while being restored"));
        recs.delete(i);
        continue;
      }
      try {
        this.#restore(rec);
        out[i] = rec.loc!;
      } catch (err) {
        failure = err;
      }
    }
    return failure;
  }

  /**
   * Collects garbage in every thread (dropped views and refs let go of their
   * objects), then waits the pause of retry `round`.
   */
  collect(round = 0): Promise<void> {
    return this.#collect(round);
  }

  /**
   * Spills least recently used objects until an allocation of `size` bytes
   * fits (it is the arena's `onFull`), after freeing what this thread
   * dropped (`reclaim`).
   * @throws ObjectStoreFullError when everything that may be spilled is and it still does not fit
   */
  makeRoom(size: number): void {
    if (this.#closed) throw objectStoreFull(this.usage(size), "the node is shutting down");
    // Objects nobody holds any more are freed rather than written to disk.
    if (this.#reclaim && !this.#fits(size)) this.#reclaim();
    while (!this.#fits(size)) this.#spillSome(size);
  }

  /**
   * Answers a worker's "needSpace" request in its reply buffer and wakes it.
   * When no room can be made at once, garbage is collected everywhere and
   * the node tries again a few times before refusing (the worker waits;
   * this thread does not).
   * @throws TypeError when the request is malformed
   */
  answer(size: number, reply: SharedArrayBuffer): void {
    if (
      !Number.isSafeInteger(size) || size <= 0 || !(reply instanceof SharedArrayBuffer) ||
      reply.byteLength < ROOM_REPLY.bytes
    ) {
      throw new TypeError("bad needSpace request");
    }
    void this.#answer(size, reply);
  }

  async #answer(size: number, reply: SharedArrayBuffer): Promise<void> {
    const state = new Int32Array(reply, 0, 1);
    let answer: number = ROOM_REPLY.made;
    for (let round = 0;; round++) {
      try {
        this.makeRoom(size);
        break;
      } catch (err) {
        if (err instanceof ObjectStoreFullError && round < this.#retryRounds && !this.#closed) {
          await this.#collect(round);
          continue;
        }
        const usage = this.usage(size);
        const numbers = new Float64Array(reply);
        numbers[ROOM_REPLY.used] = usage.used;
        numbers[ROOM_REPLY.pinned] = usage.pinned;
        answer = ROOM_REPLY.refused;
        break;
      }
    }
    Atomics.store(state, 0, answer);
    Atomics.notify(state, 0);
  }

  /** What an ObjectStoreFullError for `asked` bytes reports. */
  usage(asked: number): StoreUsage {
    let pinned = 0;
    for (const rec of this.#recs.values()) {
      if (rec.loc && (rec.pins > 0 || rec.exposed)) pinned += rec.size;
    }
    return { asked, used: this.#arena.used, capacity: this.#arena.capacity, pinned };
  }

  /** Objects and bytes in the store and on disk, pinned bytes, moves, files. */
  stats(): SpillStats {
    let resident = 0, residentBytes = 0, spilled = 0, spilledBytes = 0, pinnedBytes = 0;
    for (const rec of this.#recs.values()) {
      if (rec.loc) {
        resident++;
        residentBytes += rec.size;
        if (rec.pins > 0 || rec.exposed) pinnedBytes += rec.size;
      } else {
        spilled++;
        spilledBytes += rec.size;
      }
    }
    return {
      resident,
      residentBytes,
      spilled,
      spilledBytes,
      pinnedBytes,
      spills: this.#spills,
      restores: this.#restores,
      heapCopies: this.#heapCopies,
      bornOnDisk: this.#bornOnDisk,
      files: this.#files.stats(),
    };
  }

  /** Shuts the store for every thread (waiting workers give up) and deletes the spill files. */
  close(): void {
    this.#closed = true;
    this.#arena.close();
    this.#files.close();
  }

  #fits(size: number): boolean {
    const probe = this.#arena.tryAlloc(size);
    if (!probe) return false;
    this.#arena.free(this.#arena.locate(probe)!);
    return true;
  }

  /** Spills the least recently used objects, at least `size` (or the minimum batch) bytes. */
  #spillSome(size: number): void {
    const target = Math.max(size, this.#minBytes);
    let freed = 0;
    const victims: [ObjectId, Rec][] = [];
    for (const entry of this.#lru) {
      if (freed >= target) break;
      victims.push(entry);
      freed += entry[1].size;
    }
    if (victims.length === 0) throw objectStoreFull(this.usage(size));
    let spilled = 0;
    for (const [id, rec] of victims) {
      try {
        rec.disk ??= this.#files.write(this.#arena.view(rec.loc!));
      } catch (err) {
        if (spilled > 0) return;
        throw objectStoreFull(this.usage(size), "spilling to disk failed", err);
      }
      this.#arena.free(rec.loc!);
      rec.loc = undefined;
      this.#lru.delete(id);
      this.#spills++;
      spilled++;
    }
  }

  /**
   * A spilled object that cannot be restored, read from disk into a heap
   * frame for one reader (it decodes to copies, not views of the store); the
   * error frame of `failure` when it is not a full store, or reading fails.
   */
  #heapCopy(rec: Rec, failure: unknown): Uint8Array {
    if (!(failure instanceof ObjectStoreFullError) || !rec.disk || this.#closed) {
      return errorFrame(failure);
    }
    try {
      const bytes = new Uint8Array(rec.size);
      this.#files.read(rec.disk, bytes);
      this.#heapCopies++;
      return bytes;
    } catch (err) {
      return errorFrame(err);
    }
  }

  /** Reads a spilled object back into the store (which may spill others). */
  #restore(rec: Rec): void {
    if (rec.loc) return;
    if (this.#closed) throw objectStoreFull(this.usage(rec.size), "the node is shutting down");
    const bytes = this.#arena.alloc(rec.size);
    try {
      this.#files.read(rec.disk!, bytes);
    } catch (err) {
      this.#arena.free(this.#arena.locate(bytes)!);
      throw err;
    }
    rec.loc = this.#arena.locate(bytes)!;
    this.#restores++;
  }
}

/**
 * The spill manager of a node: files named after `nodeId` in `directory`
 * (default a temporary directory), sizes from the settings table. With
 * `reclaim`, this thread's allocations also try it before they write
 * memory no object used yet (`reclaimBeforeFresh`, `gcBeforeFreshBytes`).
 */
export function nodeSpillManager(
  arena: SharedArena,
  nodeId: string,
  directory: string | undefined,
  collect: (round: number) => Promise<void>,
  reclaim?: () => number,
): SpillManager {
  const files = new SpillFiles({
    directory,
    prefix: `rayd-${nodeId}`,
    fileBytes: config("spillFileBytes"),
    smallBytes: config("spillSmallObjectBytes"),
  });
  if (reclaim) reclaimBeforeFresh(arena, reclaim, config("gcBeforeFreshBytes"));
  return new SpillManager({
    arena,
    files,
    minBytes: config("spillMinBytes"),
    retryRounds: config("spillRetryGcRounds"),
    collect,
    reclaim,
  });
}
