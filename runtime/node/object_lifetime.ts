/**
 * When objects die. Wraps the node's reference counts (RefCounts) with what
 * gives them meaning: task arguments held until the task is done, refs
 * contained in stored objects, zero-copy views that pin their object, actor
 * handles, objects nobody held before they were sealed, and the garbage
 * collection nudge that lets dropped refs free store bytes.
 *
 * @module
 */
import type { ActorId, JobId, NodeId, ObjectId, TaskId, WorkerId } from "../common/mod.ts";
import { config, objectLost } from "../common/mod.ts";
import {
  ACTOR_REF_PREFIX,
  collectedSinceLastAsked,
  errorFrame,
  REF_OP,
  VIEW_REF_PREFIX,
  type WaitResult,
} from "../core/mod.ts";
import type { ControlStore } from "../gcs/mod.ts";
import type { SharedArena } from "../object_store/mod.ts";
import type { Frame, RefOp } from "../protocol/mod.ts";
import type { ObjectTable } from "./object_table.ts";
import { RefCounts } from "./ref_counts.ts";
import { RefSyncs, type SyncedWorker } from "./ref_syncs.ts";
import type { SpillManager } from "./spill_manager.ts";

/** What the lifetime bookkeeping works on. */
export interface LifetimeHost {
  readonly jobId: JobId;
  readonly nodeId: NodeId;
  readonly table: ObjectTable;
  readonly arena: SharedArena;
  readonly spill: SpillManager;
  readonly gcs: ControlStore;
  /** The last handle to an actor is gone. */
  actorReleased(actorId: ActorId): void;
  /**
   * Runs a garbage collection in every worker, and in this thread unless
   * `here` is false (finalizers, or a sweep here, then release dropped refs).
   */
  collectEverywhere(here: boolean): void;
  /** True when V8 collected in this thread on its own since last asked (default: a weak sentinel is gone). */
  collectedOnItsOwn?(): boolean;
  /** Nothing holds `id` any more (called before it is freed, also when it is not stored here). */
  unreferenced?(id: ObjectId): void;
}

/** When the node asks threads to collect garbage: after so many store bytes. */
export interface CollectionEvery {
  /** Growth (bytes sealed minus freed) between collections in every thread, this one included. */
  readonly here: number;
  /** Bytes sealed between collections in the workers only (they run apart from the puts here). */
  readonly workers: number;
}

/**
 * When a store of `storeBytes` collects: the workers after each
 * `gcAfterStoreFraction` of it sealed; this thread too after that much
 * growth, but at least `gcAfterStoreMinBytes` (a forced collection costs
 * tens of milliseconds on the put's path), so a small store collects here
 * only when full.
 */
export function collectionEvery(storeBytes: number): CollectionEvery {
  const workers = storeBytes * config("gcAfterStoreFraction");
  return { here: Math.max(Math.min(storeBytes, config("gcAfterStoreMinBytes")), workers), workers };
}

/** A collection asked for in this turn: in this thread too when `here`; run by `timer`. */
interface AskedCollection {
  here: boolean;
  timer?: ReturnType<typeof setTimeout>;
}

/** Reference counting with its meanings; the node calls it at each event. */
export class ObjectLifetime {
  readonly #host: LifetimeHost;
  readonly #refs: RefCounts;
  /** Releases waiting for a worker's holds to arrive. */
  readonly syncs = new RefSyncs();
  /** Objects nothing held before they were sealed: freed when sealed. */
  readonly #doomed = new Set<ObjectId>();
  /** Refs inside stored objects, held until the container is freed. */
  readonly #contains = new Map<ObjectId, readonly ObjectId[]>();
  /** What each unfinished task's arguments hold. */
  readonly #taskRefs = new Map<TaskId, readonly ObjectId[]>();
  /** Bytes sealed into the store minus bytes freed since the last forced collection (at least 0). */
  #grown = 0;
  /** `#grown` at which the next collection is considered. */
  #checkAt: number;
  /** Bytes sealed since the workers last collected. */
  #sealedSinceWorkers = 0;
  readonly #gcEvery: number;
  readonly #workersEvery: number;
  /** The collection asked for this turn (`here` if any ask wanted it), run on the next macrotask. */
  #asked: AskedCollection | undefined;

  /** @param host what to free and record into @param every store bytes between collections */
  constructor(host: LifetimeHost, every: number | CollectionEvery) {
    this.#host = host;
    this.#gcEvery = typeof every === "number" ? every : every.here;
    this.#workersEvery = typeof every === "number" ? every : every.workers;
    this.#checkAt = this.#gcEvery;
    this.#refs = new RefCounts((id) =>
      id.startsWith(ACTOR_REF_PREFIX)
        ? host.actorReleased(id.slice(ACTOR_REF_PREFIX.length) as ActorId)
        : id.startsWith(VIEW_REF_PREFIX)
        ? this.#viewed(id, false)
        : this.#unreferenced(id)
    );
  }

  /** Cancels a collection asked for but not yet run (the node stops). */
  close(): void {
    if (this.#asked) clearTimeout(this.#asked.timer);
    this.#asked = undefined;
  }

  /** Objects with at least one reference. */
  get referenced(): number {
    return this.#refs.size;
  }

  /** One more reference to `id`, on behalf of `holder` (a worker) if given. */
  inc(id: ObjectId, holder?: string): void {
    this.#refs.inc(id, holder);
  }

  /** One reference fewer. */
  dec(id: ObjectId, holder?: string): void {
    this.#refs.dec(id, holder);
  }

  /** What each holder named `prefix...` (peers: `peer:`) holds here. */
  heldBy(prefix: string): Map<string, ObjectId[]> {
    return this.#refs.heldBy(prefix);
  }

  /** A worker is gone: what it held is let go, and what waited for its holds (`taskDoneAfter`) runs. */
  dropHolder(holder: string): void {
    this.#refs.dropHolder(holder);
    this.syncs.gone(holder as WorkerId);
  }

  /** A thread's hold, release or unpin (`holder` undefined for the driver, which needs no account). */
  applyRefOp(kind: RefOp[0], id: ObjectId, holder: string | undefined): void {
    if (kind === REF_OP.hold) {
      if (id.startsWith(VIEW_REF_PREFIX) && this.#refs.count(id) === 0) this.#viewed(id, true);
      this.#refs.inc(id, holder);
    } else {
      if (kind === REF_OP.unpin) this.#host.spill.unpin(id);
      this.#refs.dec(id, holder);
    }
  }

  /** A submitted task's arguments hold these objects until `taskDone`. */
  holdTask(taskId: TaskId, argRefs: readonly ObjectId[]): void {
    if (argRefs.length === 0) return;
    for (const id of argRefs) this.#refs.inc(id);
    this.#taskRefs.set(taskId, argRefs);
  }

  /**
   * `taskDone` once `worker`, which ran the task (an actor's call, answered
   * through a link), has sent the holds it took on its arguments.
   */
  taskDoneAfter(taskId: TaskId, worker: SyncedWorker): void {
    if (!this.#taskRefs.has(taskId)) return;
    this.syncs.after(worker, () => this.taskDone(taskId));
  }

  /** The task will not run again: its arguments no longer hold their objects. */
  taskDone(taskId: TaskId): void {
    const held = this.#taskRefs.get(taskId);
    if (!held) return;
    this.#taskRefs.delete(taskId);
    for (const id of held) this.#refs.dec(id);
  }

  /**
   * A new object was added to the table: record it, hold what it contains,
   * and (after the caller told the scheduler) `settle` it.
   */
  sealed(id: ObjectId, frame: Frame, contained?: readonly ObjectId[]): void {
    if (!(frame instanceof Uint8Array)) {
      // Objects in the store are recorded; small inline ones are seen through their tasks.
      this.#pressure(frame.size);
      this.#host.spill.sealed(id, frame);
      this.#host.gcs.record({
        type: "objectCreated",
        objectId: id,
        ts: Date.now(),
        size: frame.size,
        owner: this.#host.jobId,
        nodeId: this.#host.nodeId,
      });
    }
    if (contained && contained.length > 0) {
      this.#contains.set(id, contained);
      for (const inner of contained) this.#refs.inc(inner);
    }
  }

  /** Frees a just-sealed object at once if nothing held it before it existed. */
  settle(id: ObjectId): void {
    if (this.#doomed.delete(id)) this.#free(id);
  }

  /** The first zero-copy view of an object appeared, or the last one went: it holds the object and pins it in memory. */
  #viewed(viewKey: ObjectId, first: boolean): void {
    const id = viewKey.slice(VIEW_REF_PREFIX.length) as ObjectId;
    if (first) {
      this.#refs.inc(id);
      this.#host.spill.pin(id);
    } else {
      this.#host.spill.unpin(id);
      this.#refs.dec(id);
    }
  }

  /** Restores and pins fetched frames for `holder`, which unpins each once decoded. */
  async lend(ids: readonly ObjectId[], outcome: WaitResult, holder: string): Promise<WaitResult> {
    if (!outcome.frames) return outcome;
    const frames = await this.lendAll(ids, outcome.frames);
    const pinned: ObjectId[] = [];
    frames.forEach((f, i) => {
      if (f === undefined || f instanceof Uint8Array) return;
      this.inc(ids[i], holder);
      pinned.push(ids[i]);
    });
    return { ready: outcome.ready, frames, pinned };
  }

  /**
   * The frames a wait found, made ready for a reader (`SpillManager.lendAll`).
   * An object freed since the wait saw it (its last ref was released while
   * the wait was answered) gets an ObjectLostError frame instead: its block
   * may hold other bytes already.
   */
  async lendAll(
    ids: readonly ObjectId[],
    frames: readonly (Frame | undefined)[],
  ): Promise<(Frame | undefined)[]> {
    const table = this.#host.table;
    const gone = (i: number) => {
      const f = frames[i];
      return f !== undefined && !(f instanceof Uint8Array) && table.stored(ids[i]) !== f;
    };
    const freed = new Set(ids.filter((_, i) => gone(i)));
    const lent = await this.#host.spill.lendAll(
      ids,
      frames.map((f, i) => freed.has(ids[i]) ? undefined : f),
    );
    frames.forEach((f, i) => {
      if (f === undefined || f instanceof Uint8Array) return;
      if (!freed.has(ids[i]) && table.status(ids[i]) !== "missing") return;
      const why = "it was freed while a get or wait waited for it (its last ref was released)";
      lent[i] = errorFrame(objectLost(ids[i], why));
    });
    return lent;
  }

  /** Ids of the refs inside stored object `id`, if any. */
  containedOf(id: ObjectId): readonly ObjectId[] | undefined {
    return this.#contains.get(id);
  }

  #unreferenced(id: ObjectId): void {
    this.#host.unreferenced?.(id);
    if (this.#host.table.status(id) === "missing") this.#doomed.add(id);
    else this.#free(id);
  }

  #free(id: ObjectId): void {
    const entry = this.#host.table.remove(id);
    if (entry && !(entry.frame instanceof Uint8Array)) {
      this.#host.gcs.record({ type: "objectFreed", objectId: id });
    }
    if (entry) this.#host.spill.drop(id, entry.frame);
    if (entry && !(entry.frame instanceof Uint8Array)) {
      this.#grown = Math.max(0, this.#grown - entry.frame.size);
    }
    const contained = this.#contains.get(id);
    if (!contained) return;
    this.#contains.delete(id);
    for (const inner of contained) this.#refs.dec(inner);
  }

  /**
   * Collects garbage everywhere once the store grew by `gcEvery` bytes
   * (sealed minus freed) since the last time, so dropped refs free their
   * bytes; not when V8 collected in this thread on its own since (a loop
   * that makes fresh arrays): the finalizers of what it found free it.
   * Between those, the workers alone collect after each `workersEvery`
   * bytes sealed (their dropped refs and handles go only that way).
   */
  #pressure(bytes: number): void {
    this.#grown += bytes;
    this.#sealedSinceWorkers += bytes;
    if (this.#grown >= this.#checkAt) {
      if ((this.#host.collectedOnItsOwn ?? collectedSinceLastAsked)()) {
        this.#checkAt = this.#grown + this.#gcEvery;
      } else {
        this.#grown = 0;
        this.#checkAt = this.#gcEvery;
        this.#sealedSinceWorkers = 0;
        return this.#collect(true);
      }
    }
    if (this.#sealedSinceWorkers < this.#workersEvery) return;
    this.#sealedSinceWorkers = 0;
    this.#collect(false);
  }

  /**
   * Asks the host to collect on the next macrotask, once for all the asks
   * of this turn: the seal that asked answers its waits first. A collection
   * takes tens of milliseconds in each thread, and a worker handles its
   * messages in order: a `gc` posted before a wait's answer kept the task
   * from seeing its pulled object until the collection ended.
   */
  #collect(here: boolean): void {
    if (this.#asked) {
      this.#asked.here ||= here;
      return;
    }
    const asked: AskedCollection = { here };
    asked.timer = setTimeout(() => {
      this.#asked = undefined;
      this.#host.collectEverywhere(asked.here);
    }, 0);
    this.#asked = asked;
  }
}
