/**
 * What a wait of owned results answers (runtime/links/call_links.ts): per
 * ref, done or not, and its frame or value; results the actor or leased
 * worker sealed at the node are fetched from there. A result whose every
 * handle was released (`Symbol.dispose`) while it was awaited is lost.
 * Private to links/.
 *
 * @module
 */
import type { ObjectId } from "../common/mod.ts";
import { objectLost } from "../common/mod.ts";
import type { ObjectRef, WaitRequest, WaitResult } from "../core/mod.ts";
import { errorFrame } from "../core/mod.ts";
import type { Frame } from "../protocol/mod.ts";
import { LINK_RESULT } from "../protocol/mod.ts";
import { type Call, indexOf, PENDING } from "./_call_types.ts";

const RELEASED = "it was freed while a get or wait waited for it (its last ref was released)";

/** Answers a wait of `refs` (their calls are `calls`); `nodeWait` fetches what is at the node. */
export async function answerWait(
  refs: readonly ObjectRef[],
  calls: readonly Call[],
  req: WaitRequest,
  nodeWait: (ids: readonly ObjectId[], n: number, req: WaitRequest) => Promise<WaitResult>,
): Promise<WaitResult> {
  const n = calls.length;
  const ready: boolean[] = new Array(n);
  for (let i = 0; i < n; i++) ready[i] = calls[i].kind !== PENDING;
  if (!req.fetch) return { ready };
  const frames: (Frame | undefined)[] = new Array(n);
  let values: unknown[] | undefined;
  let there: ObjectId[] | undefined;
  for (let i = 0; i < n; i++) {
    const c = calls[i];
    if (c.kind === PENDING) continue;
    if (c.released) frames[i] = errorFrame(objectLost(refs[i].id, RELEASED));
    else if (c.kind === LINK_RESULT.value) (values ??= new Array(n))[i] = c.value;
    else if (c.kind === LINK_RESULT.atNode) (there ??= []).push(refs[i].id);
    else frames[i] = c.returns[indexOf(c, refs[i].id)];
  }
  if (!there) return { ready, frames, values };
  // At the node: by its deadline and its signal (a call sent through the node may be running).
  const { signal, timeoutMs } = req;
  const fetched = await nodeWait(there, there.length, { fetch: true, signal, timeoutMs });
  let k = 0;
  calls.forEach((c, i) => {
    if (!ready[i] || c.kind !== LINK_RESULT.atNode || c.released) return;
    ready[i] = fetched.ready[k];
    frames[i] = fetched.frames![k++];
  });
  return { ready, frames, values, pinned: fetched.pinned };
}
