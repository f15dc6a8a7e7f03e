/**
 * The link layer: method calls to actors and their results, straight
 * between threads, with no work for the node per call
 * (docs/ARCHITECTURE.md, "Call links").
 *
 * Vocabulary (the same words in the code, the tests and the docs):
 * - A **channel** is a pair of byte rings in shared memory between two
 *   threads, one for work and one for results, read in batches
 *   (`WorkChannel`, runtime/transport). A `TaskChannel` joins the node to
 *   one pool worker (runtime/node/task_channels.ts); it is not a link.
 * - A **link** (`CallLink`) is a channel between one caller and one
 *   actor's worker: calls one way, their results the other. A caller has at
 *   most one link per actor at a time, and a new one after each restart of
 *   the actor's worker. `Link` (./call_links.ts) is the caller's record of
 *   one of its links.
 * - A **caller** is a thread that calls actors through its links: a worker,
 *   or the driver (the node's own thread, through `DriverCalls`). Its side
 *   is `CallLinks`.
 * - The **owner** of a result is the thread that made the call: the result
 *   lives there and its `get` and `wait` are answered there. Only when a
 *   ref to it leaves the owner does the owner promise it to the node and
 *   seal it there (the node's `OwnedObjects` keeps which owner promised
 *   what).
 * - The actor's worker reads its callers' links through `ActorLinks`; the
 *   node keeps, per actor, which callers are linked (`CallerLinks`),
 *   **opens** their links once the actor is ALIVE and **unlinks** them when
 *   the actor's worker goes (the caller then re-sends, retries or fails its
 *   calls).
 *
 * Verbs: a side **pumps** what it kept (calls, or results) into its links
 * and **collects** what came out of them (results, or calls). An actor with
 * no handle left **retires**: it says `actorIdle` once its links are empty.
 *
 * Both the node (for the driver) and the workers use this folder; it uses
 * neither of them.
 *
 * @module
 */
export { CallLink } from "./call_link.ts";
export type { OutgoingCall, ResultVisitor } from "./call_link.ts";
export { CallLinks } from "./call_links.ts";
export type { CallLinksHost } from "./call_links.ts";
export { ActorLinks } from "./actor_links.ts";
export type { ActorLinksHost, LinkState } from "./actor_links.ts";
export { CallerLinks, refuseLink } from "./caller_links.ts";
export type { LinkCaller, LinkTarget, LinkWorker, Unlinking } from "./caller_links.ts";
export { DriverCalls } from "./driver_calls.ts";
export { leasable, OwnerLeases } from "./owner_leases.ts";
export type { OwnerLeasesHost } from "./owner_leases.ts";
export type { DriverCallsHost } from "./driver_calls.ts";
