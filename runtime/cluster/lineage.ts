/**
 * What an owner keeps to make a lost result again: the specs of its
 * finished forwarded tasks whose results live on other nodes (with their
 * arguments held, which in turn keeps those arguments' own lineage), while
 * it references such a result. Bounded in bytes (`lineageMaxBytes`): past
 * it the oldest are let go, and their results, if lost later, cannot be
 * made again (ObjectLostError says so).
 *
 * @module
 */
import { config, isPutId, type ObjectId, RecentSet, type TaskId, taskIdOf } from "../common/mod.ts";
import type { TaskSpec } from "../protocol/mod.ts";

/** What a kept spec counts for besides its inline arguments. */
const SPEC_OVERHEAD_BYTES = 256;
/** How many evicted task ids are remembered (for the error's reason). */
const EVICTED_KEPT = 100_000;

/** The bytes a kept spec counts for. */
function bytesOf(spec: TaskSpec): number {
  const { args } = spec;
  const inline = typeof args === "string"
    ? 0
    : args instanceof Uint8Array
    ? args.byteLength
    : args.size;
  return SPEC_OVERHEAD_BYTES + inline;
}

/** The lineage one owner keeps. */
export class Lineage {
  readonly #specs = new Map<TaskId, { spec: TaskSpec; bytes: number }>();
  readonly #evicted = new RecentSet<TaskId>(EVICTED_KEPT);
  readonly #release: (taskId: TaskId) => void;
  readonly #maxBytes: () => number;
  #bytes = 0;

  /**
   * @param release lets go of what a spec held (its arguments), when it is dropped
   * @param maxBytes the bound (default the `lineageMaxBytes` setting)
   */
  constructor(
    release: (taskId: TaskId) => void,
    maxBytes: () => number = () => config("lineageMaxBytes"),
  ) {
    this.#release = release;
    this.#maxBytes = maxBytes;
  }

  /** Bytes kept now. */
  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#specs.size;
  }

  /** Keeps `spec` (its results live elsewhere); the oldest go past `lineageMaxBytes`. */
  keep(spec: TaskSpec): void {
    this.#drop(spec.taskId, false);
    const bytes = bytesOf(spec);
    this.#specs.set(spec.taskId, { spec, bytes });
    this.#bytes += bytes;
    const max = this.#maxBytes();
    for (const taskId of this.#specs.keys()) {
      if (this.#bytes <= max || taskId === spec.taskId) break;
      this.#drop(taskId, true);
      this.#evicted.add(taskId);
    }
  }

  /** Takes the spec of `taskId` out to run it again (what it holds stays held). */
  take(taskId: TaskId): TaskSpec | undefined {
    const kept = this.#specs.get(taskId);
    if (!kept) return undefined;
    this.#specs.delete(taskId);
    this.#bytes -= kept.bytes;
    return kept.spec;
  }

  /** The spec of `taskId`, if kept. */
  get(taskId: TaskId): TaskSpec | undefined {
    return this.#specs.get(taskId)?.spec;
  }

  /** Nothing references its results any more: let it go. True when it was kept. */
  drop(taskId: TaskId): boolean {
    return this.#drop(taskId, true);
  }

  /** True when `taskId`'s spec was let go to stay within the bound. */
  evicted(taskId: TaskId): boolean {
    return this.#evicted.has(taskId);
  }

  /** Why the lost `id` cannot be made again, after `died` (how its copy went). */
  whyLost(id: ObjectId, died: string): string {
    const taskId = taskIdOf(id);
    if (this.#specs.has(taskId)) return `${died} and its task has no retries left`;
    if (isPutId(id)) return `${died} (an object made by put cannot be rebuilt)`;
    if (this.#evicted.has(taskId)) {
      return `${died} and its task's lineage was let go to stay within lineageMaxBytes`;
    }
    return `${died} and no lineage of its task is kept here`;
  }

  #drop(taskId: TaskId, release: boolean): boolean {
    const kept = this.#specs.get(taskId);
    if (!kept) return false;
    this.#specs.delete(taskId);
    this.#bytes -= kept.bytes;
    if (release) this.#release(taskId);
    return true;
  }
}
