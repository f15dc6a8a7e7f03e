/**
 * Workers shared by several actors (`shareWorker: true`): a thread costs
 * about 10-18 MB and 13-38 ms of the node's thread to start, so a thousand
 * actors that each had one would take gigabytes and seconds; sharing, a
 * thousand take a few workers. An actor gets a new worker while there are
 * fewer than `minWorkers` (the node's CPUs, so that actors spread over the
 * cores); then the worker with the fewest actors, or a new one when even
 * that one is full (`sharedActorsPerWorker`). Messages of a shared
 * worker's actors name their actor (`actorId`) and go to its hooks; when the
 * worker dies, every actor on it hears. An actor leaves with "actorStop"
 * (the others go on); a worker left with no actor is ended, unless it is
 * the last one. See docs/ARCHITECTURE.md, "Actors sharing a worker".
 *
 * @module
 */
import type { ActorId } from "../common/mod.ts";
import type { ActorWorkerOwner, WorkerHandle, WorkerPool } from "../pool/mod.ts";

/** One shared worker and the hooks of the actors on it. */
interface Host {
  readonly worker: WorkerHandle;
  readonly actors: Map<ActorId, ActorWorkerOwner>;
}

/** The node's shared actor workers. */
export class ActorHosts {
  readonly #pool: Pick<WorkerPool, "spawnActorWorker" | "retire">;
  readonly #perWorker: number;
  readonly #minWorkers: number;
  #hosts: Host[] = [];

  /**
   * @param pool where workers come from
   * @param perWorker most actors on one worker
   * @param minWorkers workers actors spread over before any worker takes a second actor
   */
  constructor(
    pool: Pick<WorkerPool, "spawnActorWorker" | "retire">,
    perWorker: number,
    minWorkers: number,
  ) {
    this.#pool = pool;
    this.#perWorker = Math.max(1, perWorker);
    this.#minWorkers = Math.max(1, minWorkers);
  }

  /** Shared workers now. */
  get size(): number {
    return this.#hosts.length;
  }

  /** A worker for actor `actorId` (started when none has room); `owner` hears the actor's messages. */
  take(actorId: ActorId, owner: ActorWorkerOwner): WorkerHandle {
    let host: Host | undefined;
    for (const h of this.#hosts) {
      if (h.worker.alive && (!host || h.actors.size < host.actors.size)) host = h;
    }
    if (!host || host.actors.size >= this.#perWorker || this.#hosts.length < this.#minWorkers) {
      host = this.#start();
    }
    host.actors.set(actorId, owner);
    return host.worker;
  }

  /** Actor `actorId` leaves `worker`: stopped there, and the worker ended when no actor is left. */
  leave(actorId: ActorId, worker: WorkerHandle, why: string): void {
    const host = this.#hosts.find((h) => h.worker === worker);
    if (!host || !host.actors.delete(actorId)) return;
    worker.send({ type: "actorStop", actorId });
    if (host.actors.size > 0 || this.#hosts.length === 1) return;
    this.#hosts = this.#hosts.filter((h) => h !== host);
    this.#pool.retire(worker, `its last actor left (${why})`);
  }

  /** Forgets every worker (the node stops; the pool ends them). */
  clear(): void {
    this.#hosts = [];
  }

  #start(): Host {
    const actors = new Map<ActorId, ActorWorkerOwner>();
    const worker = this.#pool.spawnActorWorker({
      message: (w, msg) => {
        const id = "actorId" in msg ? msg.actorId : undefined;
        if (id !== undefined) actors.get(id)?.message(w, msg);
      },
      lost: (w) => {
        this.#hosts = this.#hosts.filter((h) => h.worker !== w);
        for (const owner of actors.values()) owner.lost(w);
      },
      died: (w, death) => {
        const owners = [...actors.values()];
        actors.clear();
        for (const owner of owners) owner.died(w, death);
      },
    });
    const host = { worker, actors };
    this.#hosts.push(host);
    return host;
  }
}
