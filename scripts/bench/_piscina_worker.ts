/**
 * The Piscina task of the peer metrics: the same no-op as rayd's `noop`.
 * Private to scripts/bench/.
 *
 * @module
 */

/** Does nothing and returns 0. */
export default function noop(): number {
  return 0;
}
