/**
 * Refs lent with the work a process sends to another. A ref nested in a
 * task's or an actor call's inline arguments (not a top-level argument: the
 * task gets that as a value) reaches the receiving worker as a ref, which it
 * may keep past the call: in an actor's state, in a module's variable. The
 * receiving node holds it while the call runs, and while a worker there
 * keeps it; but the object lives where the sender's count keeps it, and the
 * sender's hold on the call's arguments ends with the call. So the sender
 * holds each nested ref once more for the receiver (holder `peer:ADDRESS`),
 * and the receiver gives that hold back when nothing there holds the ref any
 * more. A receiver that dies gives back everything (the sender drops the
 * holder); a sender that drains asks its borrowers to take their copies
 * (handoff.ts).
 *
 * @module
 */
import type { ObjectId } from "../common/mod.ts";
import type { ClusterSide } from "../node/mod.ts";
import { MSG } from "./messages.ts";
import { holderOf } from "./peers.ts";

const NONE: readonly ObjectId[] = Object.freeze([]) as readonly ObjectId[];

/**
 * The refs nested in a call's arguments: those of `argRefs` (every ref met
 * while encoding the arguments) beyond the top-level ones (`deps`). Big
 * arguments travel as an object of their own (a dep whose nested refs its
 * holder holds for each reader): nothing is nested then.
 */
export function nestedRefs(
  call: { readonly argRefs: readonly ObjectId[]; readonly deps: readonly ObjectId[] },
): readonly ObjectId[] {
  const { argRefs, deps } = call;
  if (argRefs.length <= deps.length) return NONE;
  const left = new Map<ObjectId, number>();
  for (const d of deps) left.set(d, (left.get(d) ?? 0) + 1);
  const nested: ObjectId[] = [];
  for (const id of argRefs) {
    const n = left.get(id);
    if (n) left.set(id, n - 1);
    else nested.push(id);
  }
  return nested;
}

/** What lending needs of its process. */
export interface LendsHost {
  /** This process's address (the `from` of its releases). */
  readonly address: string;
  side(): ClusterSide;
  readonly peers: { send(address: string, type: number, message: unknown): void };
}

/** Both sides: holds lent to receivers, and holds borrowed from senders. */
export class Lends {
  readonly #host: LendsHost;
  /** Receiver: for each borrowed ref, how many holds each sender keeps for this process. */
  readonly #borrowed = new Map<ObjectId, Map<string, number>>();
  /** Releases to send at the end of this turn, by sender. */
  readonly #releases = new Map<string, ObjectId[]>();

  constructor(host: LendsHost) {
    this.#host = host;
  }

  /** Refs borrowed here (for tests and status). */
  get size(): number {
    return this.#borrowed.size;
  }

  /** Sender: `call` goes to `receiver`; its nested refs are held for it. */
  lend(receiver: string, call: Parameters<typeof nestedRefs>[0]): void {
    const nested = nestedRefs(call);
    if (nested.length === 0) return;
    const side = this.#host.side();
    const holder = holderOf(receiver);
    for (const id of nested) side.hold(id, holder);
  }

  /**
   * Receiver: `call` came from `sender`, which holds its nested refs for
   * this process. Call it before the call's arguments are held here.
   */
  borrow(sender: string, call: Parameters<typeof nestedRefs>[0]): void {
    for (const id of nestedRefs(call)) {
      let by = this.#borrowed.get(id);
      if (!by) this.#borrowed.set(id, by = new Map());
      by.set(sender, (by.get(sender) ?? 0) + 1);
    }
  }

  /** Receiver: whether `sender` lent `id` here. */
  lentBy(id: ObjectId, sender: string): boolean {
    return this.#borrowed.get(id)?.has(sender) ?? false;
  }

  /** Receiver: nothing here holds `id` any more: every lender gets its holds back. */
  unreferenced(id: ObjectId): void {
    const by = this.#borrowed.get(id);
    if (!by) return;
    this.#borrowed.delete(id);
    for (const [sender, n] of by) this.#release(sender, id, n);
  }

  /** Receiver: `sender`'s holds on `id` are given back (a copy of it is here now). */
  giveBack(id: ObjectId, sender: string): void {
    const by = this.#borrowed.get(id);
    const n = by?.get(sender);
    if (n === undefined) return;
    by!.delete(sender);
    if (by!.size === 0) this.#borrowed.delete(id);
    this.#release(sender, id, n);
  }

  /** Receiver: `sender` is gone (its holds went with it). */
  senderGone(sender: string): void {
    for (const [id, by] of this.#borrowed) {
      if (by.delete(sender) && by.size === 0) this.#borrowed.delete(id);
    }
  }

  #release(sender: string, id: ObjectId, n: number): void {
    let ids = this.#releases.get(sender);
    if (!ids) {
      this.#releases.set(sender, ids = []);
      if (this.#releases.size === 1) queueMicrotask(() => this.#flush());
    }
    for (let i = 0; i < n; i++) ids.push(id);
  }

  #flush(): void {
    const from = this.#host.address;
    for (const [sender, ids] of this.#releases) {
      this.#host.peers.send(sender, MSG.release, { from, ids });
    }
    this.#releases.clear();
  }
}
