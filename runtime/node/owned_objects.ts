/**
 * Objects a worker owns (results of its calls through call links) that
 * left it: the worker promised each here and seals it once it has it. If
 * the worker dies first, each promised object that is still missing is
 * sealed with ObjectLostError, so nothing waits for it forever.
 *
 * @module
 */
import type { ObjectId, WorkerId } from "../common/mod.ts";
import { isObjectIdHex, objectLost, RecentMap } from "../common/mod.ts";
import { errorFrame } from "../core/mod.ts";
import type { FromWorker } from "../protocol/mod.ts";
import type { ObjectStatus } from "../scheduler/mod.ts";

/** What the owned objects need from the node. */
export interface OwnedHost {
  status(id: ObjectId): ObjectStatus;
  seal(id: ObjectId, frame: Uint8Array, error: boolean): void;
}

/** Promised objects sealed by another path whose promiser is remembered, at most. */
const SETTLED_KEPT = 16_384;

/** Promised objects by id, and who promised each. */
export class OwnedObjects {
  readonly #host: OwnedHost;
  readonly #owners = new Map<ObjectId, WorkerId>();
  /**
   * Promised objects that were sealed by another path first (the node's
   * `sealIfMissing`, a result that reached the node another way), with the
   * worker that promised each: its own late seal is dropped, even once the
   * object was freed (missing again), instead of being refused as forged.
   */
  readonly #settled = new RecentMap<ObjectId, WorkerId>(SETTLED_KEPT);

  /** @param host how to look objects up and seal them */
  constructor(host: OwnedHost) {
    this.#host = host;
  }

  /**
   * Handles a worker's "promise", "seal" or "sealIfMissing". Throws
   * TypeError for a malformed message, or for a seal of an object that
   * worker did not promise (unless `trusted`: the node's own thread, whose
   * late seal of an object no longer there is dropped).
   */
  handle(
    workerId: WorkerId,
    msg: Extract<FromWorker, { type: "promise" | "seal" | "sealIfMissing" }>,
    trusted = false,
  ): void {
    switch (msg.type) {
      case "promise":
        if (!Array.isArray(msg.ids)) throw new TypeError("bad ids");
        for (const id of msg.ids) {
          checkId(id);
          if (this.#host.status(id) === "missing") this.#owners.set(id, workerId);
        }
        break;
      case "seal":
        if (!Array.isArray(msg.objects)) throw new TypeError("bad objects");
        for (const [id, frame, failed] of msg.objects) {
          checkId(id);
          if (!(frame instanceof Uint8Array)) throw new TypeError("bad frame");
          if (this.#owners.get(id) !== workerId) {
            if (this.#host.status(id) !== "missing") continue; // sealed already
            // The node's own thread (`trusted`) is not code that could forge a seal: its promise
            // is gone with the object (sealed, then freed: nothing holds it), so is this seal.
            // So is a worker's that promised it, when another path sealed it first.
            if (trusted || this.#settled.get(id) === workerId) continue;
            throw new TypeError(`object ${id} was not promised by this worker`);
          }
          this.#owners.delete(id);
          this.#host.seal(id, frame, failed === true);
        }
        break;
      case "sealIfMissing":
        if (!Array.isArray(msg.objects)) throw new TypeError("bad objects");
        for (const [id, frame] of msg.objects) {
          checkId(id);
          if (!(frame instanceof Uint8Array)) throw new TypeError("bad frame");
          if (this.#host.status(id) === "missing") this.#host.seal(id, frame, true);
        }
        break;
    }
  }

  /** `id` was sealed (by anyone): no promise for it is pending any more. */
  sealed(id: ObjectId): void {
    if (this.#owners.size === 0) return;
    const owner = this.#owners.get(id);
    if (owner === undefined) return;
    this.#owners.delete(id);
    this.#settled.set(id, owner);
  }

  /** A worker died: what it promised and did not seal is lost. */
  ownerDied(workerId: WorkerId, detail: string): void {
    if (this.#owners.size === 0) return;
    for (const [id, owner] of [...this.#owners]) {
      if (owner !== workerId) continue;
      this.#owners.delete(id);
      const why = `the worker that owned it (${workerId}) died: ${detail}`;
      if (this.#host.status(id) === "missing") {
        this.#host.seal(id, errorFrame(objectLost(id, why)), true);
      }
    }
  }

  /** Objects promised and not sealed yet (for tests). */
  get size(): number {
    return this.#owners.size;
  }
}

function checkId(id: unknown): void {
  if (typeof id !== "string" || !isObjectIdHex(id)) throw new TypeError("bad object id");
}
