/**
 * A worker for the transport tests: the other end of a ring or a channel.
 * "echo-ring": reads `count` messages from ring A and writes each back on
 * ring B. "actor": reads call batches from a call link (sleeping on its
 * doorbell between them) and answers each call with the value slot * 2,
 * ringing the caller's doorbell, until it has answered `count` calls.
 *
 * @module
 */
import type { LinkResult } from "../../runtime/protocol/mod.ts";
import { LINK_RESULT } from "../../runtime/protocol/mod.ts";
import { ByteRing, Doorbell } from "../../runtime/transport/mod.ts";
import { CallLink } from "../../runtime/links/mod.ts";

const scope = self as unknown as {
  postMessage(msg: unknown): void;
  onmessage: ((e: MessageEvent<RingJob>) => void) | null;
};

/** What the test asks of the worker. */
export interface RingJob {
  mode: "echo-ring" | "actor";
  sab: SharedArrayBuffer;
  count: number;
  capacity?: number;
  /** "actor": the actor's and the caller's doorbells. */
  bells?: SharedArrayBuffer[];
}

scope.onmessage = async (e: MessageEvent<RingJob>) => {
  const { mode, sab, count } = e.data;
  if (mode === "echo-ring") {
    const words = new Int32Array(sab, 0, 4);
    const cap = e.data.capacity!;
    const a = new ByteRing(words, 0, sab, 16, cap);
    const b = new ByteRing(words, 2, sab, 16 + cap, cap);
    for (let n = 0; n < count;) {
      const msg = a.read((bytes) => bytes.slice());
      if (!msg) continue;
      while (!b.tryWrite(msg)) { /* spin until the test reads */ }
      n++;
    }
    scope.postMessage("done");
    return;
  }
  const link = new CallLink(sab);
  const [actorBell, callerBell] = e.data.bells!.map((b) => new Doorbell(b));
  let answered = 0;
  let expectedSeq = 0;
  while (answered < count) {
    const batch = link.takeWork();
    if (!batch) {
      await actorBell.sleep(() => link.workPending);
      continue;
    }
    if (batch.seq !== expectedSeq++) throw new Error(`batch ${batch.seq} out of order`);
    const results = batch.items.map((c): LinkResult => [c[6], LINK_RESULT.value, [], c[6] * 2]);
    while (!link.sendResults(0, results)) await new Promise((r) => setTimeout(r, 1));
    callerBell.ring();
    answered += results.length;
  }
  scope.postMessage("done");
};
