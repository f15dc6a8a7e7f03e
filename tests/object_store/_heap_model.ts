/**
 * Test helpers shared by the allocator tests and their worker fixture: a
 * seeded PRNG, a size distribution, and a per-block byte pattern that shows
 * when another block overwrote this one.
 *
 * @module
 */

/** A live block as the model knows it. */
export interface LiveBlock {
  /** Payload offset. */
  readonly offset: number;
  /** Bytes asked for. */
  readonly size: number;
  /** Unique number whose pattern fills the block. */
  readonly stamp: number;
}

/** A seeded PRNG (mulberry32) giving floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mostly small sizes, some pages, a few tens of KiB. */
export function randomSize(rnd: () => number): number {
  const r = rnd();
  if (r < 0.7) return Math.floor(rnd() * 257);
  if (r < 0.95) return 257 + Math.floor(rnd() * 8000);
  return 8257 + Math.floor(rnd() * 56000);
}

function expected(size: number, stamp: number, i: number): number {
  if (i < 4) return (stamp >>> (8 * i)) & 0xff;
  if (i >= size - 4) return (stamp >>> (8 * (size - 1 - i))) & 0xff;
  return (stamp * 7 + 1) & 0xff;
}

/** Fills the block with its stamp at both ends and a stamp-derived byte between. */
export function writePattern(sab: SharedArrayBuffer, block: LiveBlock): void {
  const { offset, size, stamp } = block;
  const view = new Uint8Array(sab, offset, size);
  view.fill((stamp * 7 + 1) & 0xff);
  for (let i = 0; i < Math.min(4, size); i++) {
    view[i] = expected(size, stamp, i);
    view[size - 1 - i] = expected(size, stamp, size - 1 - i);
  }
}

/** True when the block still holds the pattern `writePattern` wrote. */
export function patternIntact(sab: SharedArrayBuffer, block: LiveBlock): boolean {
  const { offset, size, stamp } = block;
  const view = new Uint8Array(sab, offset, size);
  for (let i = 0; i < size; i++) {
    if (view[i] !== expected(size, stamp, i)) return false;
  }
  return true;
}

/** The first pair of blocks that share a byte, or undefined. */
export function findOverlap(blocks: readonly LiveBlock[]): [LiveBlock, LiveBlock] | undefined {
  const sorted = [...blocks].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    if (prev.offset + Math.max(prev.size, 1) > sorted[i].offset) return [prev, sorted[i]];
  }
  return undefined;
}
