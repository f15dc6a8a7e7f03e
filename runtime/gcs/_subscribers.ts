/**
 * Pub/sub handlers per channel, called in order; a throwing handler is logged.
 *
 * @module
 */
import type { Channel, ChannelMessages } from "./events.ts";

type Handler = (message: ChannelMessages[Channel]) => void;

/** The handlers of each channel. */
export class Subscribers {
  #handlers = new Map<Channel, Set<Handler>>();

  /** Adds a handler; returns a function that removes it. */
  add<C extends Channel>(channel: C, handler: (message: ChannelMessages[C]) => void): () => void {
    let set = this.#handlers.get(channel);
    if (!set) this.#handlers.set(channel, set = new Set());
    const h = handler as Handler;
    set.add(h);
    return () => {
      set.delete(h);
    };
  }

  /** Number of handlers on `channel`. */
  count(channel: Channel): number {
    return this.#handlers.get(channel)?.size ?? 0;
  }

  /** Calls every handler of `channel` with `message`. */
  deliver(channel: Channel, message: ChannelMessages[Channel]): void {
    const set = this.#handlers.get(channel);
    if (!set) return;
    for (const h of [...set]) {
      try {
        h(message);
      } catch (err) {
        console.error(`rayd control store: a "${channel}" subscriber threw:`, err);
      }
    }
  }

  /** Removes every handler. */
  clear(): void {
    this.#handlers.clear();
  }
}
