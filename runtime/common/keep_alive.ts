/**
 * What keeps the process alive for rayd: one ref'd timer while rayd has
 * work outstanding, none otherwise. rayd's workers and sockets do not keep
 * the process alive on their own (they are unref'd where Deno allows it),
 * so a driver ends when its script's own work is done, as Ray's drivers do.
 *
 * Work starts synchronously in a call (`poke` after it, or `during` around
 * an await); it ends whenever `busy()` says so, which is checked every
 * `pollMs`. A pending `Atomics.waitAsync` keeps nothing alive, so a wait on
 * the store or on a call link needs this too.
 *
 * @module
 */

/** Keeps the process alive while `busy()` is true or a `during` runs. */
export class KeepAlive {
  readonly #busy: () => boolean;
  readonly #pollMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #holds = 0;
  #stopped = false;

  /**
   * @param busy true while work is outstanding (cheap: called after each `poke` while idle)
   * @param pollMs how often to check whether the work ended
   */
  constructor(busy: () => boolean, pollMs = 25) {
    this.#busy = busy;
    this.#pollMs = pollMs;
  }

  /** True while the process is kept alive. */
  get holding(): boolean {
    return this.#timer !== undefined;
  }

  /** Work may have started: keeps the process alive if `busy()` says so, until it stops saying so. */
  poke(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    if (this.#holds > 0 || this.#busy()) this.#hold();
  }

  /**
   * Keeps the process alive until `work` settles (and after, while `busy()`).
   *
   * @returns what `work` gives
   */
  async during<T>(work: Promise<T>): Promise<T> {
    this.#holds++;
    if (this.#timer === undefined && !this.#stopped) this.#hold();
    try {
      return await work;
    } finally {
      this.#holds--;
    }
  }

  /** Keeps nothing alive from now on. */
  stop(): void {
    this.#stopped = true;
    this.#release();
  }

  #hold(): void {
    this.#timer = setInterval(() => {
      if (this.#holds === 0 && !this.#busy()) this.#release();
    }, this.#pollMs);
  }

  #release(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
