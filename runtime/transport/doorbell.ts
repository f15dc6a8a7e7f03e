/**
 * A doorbell in shared memory: two words, RING and SLEEPING. A thread that
 * has nothing to do says it sleeps, checks once more for work, and waits on
 * RING without blocking its thread (`Atomics.waitAsync`); a thread that gave
 * it work rings, which costs a futex wake only when the other sleeps (that
 * wake costs the ringer 13-30 us on a VM; a ring of a thread that is awake
 * costs one atomic load).
 *
 * The ringer publishes its work before it reads SLEEPING, and the sleeper
 * sets SLEEPING before it looks for work: one of the two always sees the
 * other, so no work is left waiting for a ring that never comes.
 *
 * @module
 */

const RING = 0;
const SLEEPING = 1;

/** One thread's doorbell. */
export class Doorbell {
  /** The doorbell's memory, to hand to the threads that ring it. */
  readonly sab: SharedArrayBuffer;
  readonly #words: Int32Array;

  /**
   * @param sab a doorbell's memory (from another thread's `Doorbell`), or a new one
   * @param byteOffset where its two words are in `sab` (a work channel keeps them in its header)
   */
  constructor(sab: SharedArrayBuffer = new SharedArrayBuffer(8), byteOffset = 0) {
    if (
      !(sab instanceof SharedArrayBuffer) || byteOffset % 4 !== 0 || byteOffset + 8 > sab.byteLength
    ) {
      throw new RangeError("A doorbell is 8 bytes of a SharedArrayBuffer, 4-aligned");
    }
    this.sab = sab;
    this.#words = new Int32Array(sab, byteOffset, 2);
  }

  /** Work was published for the owner: wakes it if it sleeps. */
  ring(): void {
    if (Atomics.load(this.#words, SLEEPING) === 0) return;
    Atomics.add(this.#words, RING, 1);
    Atomics.notify(this.#words, RING);
  }

  /**
   * Spins until `ready` or `micros` pass (blocks the thread).
   *
   * @returns true when work waits
   */
  spinForWork(micros: number, ready: () => boolean): boolean {
    if (ready()) return true;
    if (micros <= 0) return false;
    const until = performance.now() + micros / 1000;
    for (;;) {
      for (let i = 0; i < 16; i++) if (ready()) return true;
      if (performance.now() >= until) return false;
    }
  }

  /**
   * Sleeps without blocking the thread until rung.
   *
   * @param ready true when work already waits (checked after saying so)
   * @returns undefined when work waits, else a promise that resolves when
   *   some may have come
   */
  sleep(ready: () => boolean): Promise<unknown> | undefined {
    Atomics.store(this.#words, SLEEPING, 1);
    const seen = Atomics.load(this.#words, RING);
    if (ready()) {
      Atomics.store(this.#words, SLEEPING, 0);
      return undefined;
    }
    const waited = Atomics.waitAsync(this.#words, RING, seen);
    const woke = () => Atomics.store(this.#words, SLEEPING, 0);
    if (!waited.async) {
      woke();
      return undefined;
    }
    return waited.value.then(woke);
  }
}
