/**
 * `wait(refs, { fetchLocal: false })` in a cluster: an object is ready once
 * it exists anywhere in the cluster, and nothing is pulled here. The agent
 * says where each object stands and tells of objects that come into being
 * (sealed here, or a forwarded task's result kept on its node); other
 * objects are asked of their owner's directory (owners.ts). An object whose
 * owner is gone counts as ready: reading it fails with ObjectLostError.
 *
 * @module
 */
import { longTimeout, type LongTimer, type ObjectId, ObjectLostError } from "../common/mod.ts";

/** What the waits need of their agent. */
export interface AnywhereHost {
  /**
   * Where `id` stands: true when it exists (here or on a peer), false when
   * this process will hear of it (`changed`), undefined when only the head
   * can say.
   */
  exists(id: ObjectId): boolean | undefined;
  /** Resolves once some process holds `id`; rejects with ObjectLostError when its owner is gone. */
  locate(id: ObjectId): Promise<unknown>;
}

/** The outcome of a wait, as the object table gives it. */
interface Outcome {
  readonly ready: boolean[];
}

interface Waiter {
  readonly ids: readonly ObjectId[];
  readonly ready: boolean[];
  count: number;
  readonly need: number;
  done: boolean;
  timer?: LongTimer;
  resolve(outcome: Outcome): void;
}

/** Open waits on objects anywhere in the cluster. */
export class WaitsAnywhere {
  readonly #host: AnywhereHost;
  /** The waits each missing object may complete. */
  readonly #byId = new Map<ObjectId, Set<Waiter>>();

  constructor(host: AnywhereHost) {
    this.#host = host;
  }

  /** Waits until `need` of `ids` exist somewhere, or `timeoutMs` passed (an ObjectTable wait). */
  wait(ids: readonly ObjectId[], need: number, timeoutMs: number | undefined) {
    const { promise, resolve } = Promise.withResolvers<Outcome>();
    const w: Waiter = { ids, ready: [], count: 0, need, done: false, resolve };
    const ask: ObjectId[] = [];
    ids.forEach((id, i) => {
      const now = this.#host.exists(id);
      w.ready[i] = now === true;
      if (now === true) w.count++;
      else if (now === undefined) ask.push(id);
    });
    if (w.count >= need || timeoutMs === 0) {
      this.#finish(w);
      return { promise, immediate: true, cancel: () => {} };
    }
    for (const id of ids) {
      const set = this.#byId.get(id);
      if (set) set.add(w);
      else this.#byId.set(id, new Set([w]));
    }
    for (const id of new Set(ask)) {
      const ready = () => this.#ready(id);
      this.#host.locate(id).then(ready, (err) => err instanceof ObjectLostError && ready());
    }
    if (timeoutMs !== undefined) w.timer = longTimeout(() => this.#finish(w), timeoutMs);
    return { promise, immediate: false, cancel: () => this.#close(w) };
  }

  /** `id` may exist now (sealed here, or known on a peer). */
  changed(id: ObjectId): void {
    if (this.#byId.has(id) && this.#host.exists(id)) this.#ready(id);
  }

  #ready(id: ObjectId): void {
    const waiting = this.#byId.get(id);
    if (!waiting) return;
    this.#byId.delete(id);
    for (const w of waiting) {
      w.ids.forEach((x, i) => {
        if (x !== id || w.ready[i]) return;
        w.ready[i] = true;
        w.count++;
      });
      if (w.count >= w.need) this.#finish(w);
    }
  }

  #finish(w: Waiter): void {
    if (w.done) return;
    this.#close(w);
    w.resolve({ ready: w.ready });
  }

  #close(w: Waiter): void {
    w.done = true;
    w.timer?.clear();
    for (const id of w.ids) {
      const set = this.#byId.get(id);
      if (!set) continue;
      set.delete(w);
      if (set.size === 0) this.#byId.delete(id);
    }
  }
}
