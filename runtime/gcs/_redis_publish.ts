/**
 * Publishing what a batch changed, on the channels someone listens to. The
 * store asks `PUBSUB NUMSUB` right behind each batch on the same
 * connection, so the answer counts every subscription made before the batch
 * was applied; with nobody listening, nothing is encoded or sent.
 *
 * @module
 */
import type { Channel, ControlStoreEvent } from "./events.ts";
import { channelMessage } from "./events.ts";

const CHANNELS: readonly Channel[] = ["node", "object", "actor", "task"];

/** Publishes the applied events of batches. */
export class Publisher {
  readonly #send: (args: string[]) => Promise<unknown>;
  readonly #prefix: string;

  /** @param send sends one command @param prefix key prefix */
  constructor(send: (args: string[]) => Promise<unknown>, prefix: string) {
    this.#send = send;
    this.#prefix = prefix;
  }

  /** The channels someone subscribes to (undefined: not known, so all). */
  listened(): Promise<Set<Channel> | undefined> {
    const keys = CHANNELS.map((c) => this.#prefix + "ch:" + c);
    return this.#send(["PUBSUB", "NUMSUB", ...keys]).then((reply) => {
      const counts = reply as unknown[];
      return new Set(CHANNELS.filter((_, i) => Number(counts[2 * i + 1]) > 0));
    }, () => undefined);
  }

  /**
   * Publishes the events of `batch` on the channels in `to` (undefined: all),
   * one JSON array per channel, leaving out the events of failed entries.
   *
   * @param batch the batch's events
   * @param members for each wire entry, the indexes of its events
   * @param failed the wire entries that failed, with their errors
   * @param to the channels someone listens to
   */
  publish(
    batch: readonly ControlStoreEvent[],
    members: readonly number[][],
    failed: ReadonlyMap<number, string>,
    to: Set<Channel> | undefined,
  ): void {
    if (to?.size === 0) return;
    const byChannel = new Map<Channel, unknown[]>();
    const skip = new Set<number>();
    for (const w of failed.keys()) for (const i of members[w]) skip.add(i);
    batch.forEach((e, i) => {
      if (skip.has(i)) return;
      const m = channelMessage(e);
      if (!m || (to && !to.has(m.channel))) return;
      let list = byChannel.get(m.channel);
      if (!list) byChannel.set(m.channel, list = []);
      list.push(m.message);
    });
    for (const [channel, messages] of byChannel) {
      this.#send(["PUBLISH", this.#prefix + "ch:" + channel, JSON.stringify(messages)])
        .catch(() => {});
    }
  }
}
