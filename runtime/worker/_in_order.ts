/**
 * Runs numbered batches in number order, whichever way each came (a work
 * channel or a message): a batch that comes early waits for the ones before
 * it. Private to runtime/worker.
 *
 * @module
 */

/** Batches numbered from 0, run in order. */
export class InOrder<T> {
  readonly #run: (batch: T) => void;
  readonly #early = new Map<number, T>();
  #next = 0;

  /** @param run runs one batch */
  constructor(run: (batch: T) => void) {
    this.#run = run;
  }

  /** Batch `seq` came: runs it if it is next (and the early batches after it), else keeps it. */
  accept(seq: number, batch: T): void {
    if (seq !== this.#next) {
      this.#early.set(seq, batch);
      return;
    }
    for (let next: T | undefined = batch; next !== undefined;) {
      this.#run(next);
      this.#early.delete(this.#next);
      next = this.#early.get(++this.#next);
    }
  }
}
