/**
 * Where objects are: for each published object, the processes holding a
 * copy (by address) and its size. Each process keeps one for the objects it
 * owns (owners.ts). Lookups of objects nobody published yet wait until one
 * does (a task's result is published when the task ends), or until the owner
 * says no copy will come (`gone`: it freed the object).
 *
 * @module
 */
import type { ObjectId } from "../common/mod.ts";
import type { Publish } from "./messages.ts";

/** A lookup waiting for a first copy. */
interface Waiter {
  found(holder: string): void;
  failed(error: Error): void;
}

interface Entry {
  readonly size: number;
  readonly holders: Set<string>;
}

/** An owner's object directory: holders by address. */
export class ObjectDirectory {
  readonly #objects = new Map<ObjectId, Entry>();
  readonly #byHolder = new Map<string, Set<ObjectId>>();
  readonly #waiters = new Map<ObjectId, Waiter[]>();
  #closed = false;

  /** Objects with at least one holder. */
  get size(): number {
    return this.#objects.size;
  }

  /** Applies what `holder` published. */
  update(holder: string, { added, removed }: Publish): void {
    let mine = this.#byHolder.get(holder);
    if (!mine) this.#byHolder.set(holder, mine = new Set());
    for (const [id, size] of added) {
      const e = this.#objects.get(id);
      if (e) e.holders.add(holder);
      else this.#objects.set(id, { size, holders: new Set([holder]) });
      mine.add(id);
      const waiting = this.#waiters.get(id);
      if (waiting) {
        this.#waiters.delete(id);
        for (const w of waiting) w.found(holder);
      }
    }
    for (const id of removed) {
      mine.delete(id);
      this.#forget(id, holder);
    }
  }

  /** A holder is gone (dead node, departed driver): its copies are gone. */
  dropHolder(holder: string): void {
    const mine = this.#byHolder.get(holder);
    if (!mine) return;
    this.#byHolder.delete(holder);
    for (const id of mine) this.#forget(id, holder);
  }

  /**
   * A holder of `id`, now or once one publishes it: one at random (readers of
   * one object spread over its copies), among those `prefer` likes when any.
   */
  holder(id: ObjectId, prefer?: (holder: string) => boolean): Promise<string> {
    const e = this.#objects.get(id);
    if (e && e.holders.size > 0) {
      const all = [...e.holders];
      const liked = prefer ? all.filter(prefer) : all;
      const from = liked.length > 0 ? liked : all;
      return Promise.resolve(from[Math.floor(Math.random() * from.length)]);
    }
    if (this.#closed) return Promise.reject(new Error("this process is shutting down"));
    return new Promise((found, failed) => {
      const list = this.#waiters.get(id);
      if (list) list.push({ found, failed });
      else this.#waiters.set(id, [{ found, failed }]);
    });
  }

  /**
   * No copy of `id` will come (its owner freed it): its waiting lookups fail
   * with the error `why` makes (made only when one waits: an error costs its
   * stack, and an owner frees every object it made).
   */
  gone(id: ObjectId, why: () => Error): void {
    const waiting = this.#waiters.get(id);
    if (!waiting) return;
    this.#waiters.delete(id);
    const error = why();
    for (const w of waiting) w.failed(error);
  }

  /** The size and holders of `id`, if anyone holds it. */
  entry(
    id: ObjectId,
  ): { readonly size: number; readonly holders: ReadonlySet<string> } | undefined {
    return this.#objects.get(id);
  }

  /** Bytes of `ids` each holder has (for locality). */
  bytesByHolder(ids: readonly ObjectId[]): Map<string, number> {
    const out = new Map<string, number>();
    for (const id of ids) {
      const e = this.#objects.get(id);
      if (!e) continue;
      for (const h of e.holders) out.set(h, (out.get(h) ?? 0) + e.size);
    }
    return out;
  }

  /** Lookups still waiting. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /** Drops the waiting lookups (their requesters see the link close). */
  close(): void {
    this.#closed = true;
    this.#waiters.clear();
  }

  #forget(id: ObjectId, holder: string): void {
    const e = this.#objects.get(id);
    if (!e) return;
    e.holders.delete(holder);
    if (e.holders.size === 0) this.#objects.delete(id);
  }
}
