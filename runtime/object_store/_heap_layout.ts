/**
 * The heap's layout inside the SharedArrayBuffer, shared by the allocator
 * and its invariant check. Drawn in docs/ARCHITECTURE.md ("Memory layout"). Blocks are
 * named by the unit index `p` of their payload (byte offset `p * UNIT`):
 * header words at `p * W - 2` (size in units) and `p * W - 1` (tag), footer
 * words at `(p + size) * W - 4` and `- 3`, free-list links at `p * W` (next)
 * and `p * W + 1` (previous); 0 links to nothing.
 *
 * @module
 */

/** Bytes per allocation unit; every payload starts on a multiple of it. */
export const UNIT = 64;
/** Int32 words per unit. */
export const W = UNIT / 4;
/** Header (8 bytes) before a payload plus footer (8 bytes) after it. */
export const TAGS = 16;
/** Most units the heap may span: sizes and links are positive Int32s (128 GiB). */
export const MAX_UNITS = 0x7fff_ffff;
/** Word FORMAT once the buffer is formatted ("rayd"). */
export const FORMATTED = 0x72617964;
/** Bits 7..31 of every tag word, so stray offsets and overwritten tags are caught. */
export const TAG_MAGIC = 0x1b10c5;
/** Bit 0 of a tag: the block is allocated. Bits 1..6 of an allocated block's tag: unused payload bytes. */
export const USED = 1;
/** Tag of a free block. */
export const FREE_TAG = TAG_MAGIC << 7;
/** Tag of an allocated block with no slack, of the prologue footer and of the epilogue header. */
export const EDGE_TAG = FREE_TAG | USED;
/** Size classes: 8 per power of two, exact below 8 units. */
export const BINS = 232;
/** Int32 words of the bitmap of non-empty classes. */
export const BITMAP_WORDS = 8;

/** Word: the lock (0 free, 1 held, 2 held with sleepers). */
export const LOCK = 0;
/** Word: FORMATTED once the heap is written. */
export const FORMAT = 1;
/** Word: heap end in units; the epilogue header is the 8 bytes before it. */
export const END = 2;
/** Word: units in allocated blocks. */
export const USED_UNITS = 3;
/** Word: allocated blocks. */
export const USED_BLOCKS = 4;
/** Word: units in free blocks. */
export const FREE_UNITS = 5;
/** Word: free blocks. */
export const FREE_BLOCKS = 6;
/** Word: non-zero once the node shut the store down (threads waiting for room give up). */
export const CLOSED = 7;
/** First of BITMAP_WORDS words: bit b set when class b's list is not empty. */
export const BITMAP = 8;
/** First of BINS words: unit index of the first free block of each class. */
export const HEADS = 16;
/**
 * Word: the end (in units) of the highest block ever allocated. Memory past
 * it was never written by an object, so the OS has not backed it yet: the
 * first write there costs a page fault per page.
 */
export const TOUCHED = HEADS + BINS;
/** Bytes before the first payload: the words above, then the prologue footer and first header. */
export const META_BYTES = 1024;
/** Unit index of the first payload. */
export const FIRST = META_BYTES / UNIT;

/** Size class of a block of `units` units. */
export function binOf(units: number): number {
  if (units < 8) return units;
  const f = 31 - Math.clz32(units);
  return ((f - 2) << 3) | ((units >>> (f - 3)) & 7);
}
