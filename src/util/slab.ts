/**
 * Copies of small byte strings that are kept for a while (cached header
 * blocks, rendered envelopes), carved one after another out of shared slabs
 * instead of one allocation each.
 *
 * Why: a cold listing keeps ~100,000 such copies. Node's own pool hands out
 * 8 KB ArrayBuffers; each new ArrayBuffer is a native allocation plus external
 * memory accounting that V8 weighs when it schedules collections (measured:
 * `Buffer.from` of ~200-byte renderings spent most of its time in that pool's
 * refill). A slab of SLAB_BYTES is refilled 32 times less often.
 *
 * A slab is freed when every copy carved from it is unreachable. The copies
 * kept here die roughly in the order they were made (LRU caches), so slabs free
 * up in order too; a long-lived straggler pins at most one slab.
 */

/** Bytes per slab. */
export const SLAB_BYTES = 256 * 1024;
/** Copies longer than this get a buffer of their own (a slab would be mostly one copy). */
const OWN_BUFFER_FROM = 16 * 1024;

export class Slab {
  private slab: Buffer = Buffer.allocUnsafeSlow(0);
  private used = 0;

  /** A copy of `src` (never a view of it). */
  copy(src: Uint8Array): Buffer {
    const n = src.length;
    if (n > OWN_BUFFER_FROM) {
      const own = Buffer.allocUnsafeSlow(n);
      own.set(src);
      return own;
    }
    if (this.used + n > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      this.used = 0;
    }
    const out = this.slab.subarray(this.used, this.used + n);
    out.set(src);
    // keep copies 8-byte aligned, like Node's pool
    this.used = (this.used + n + 7) & ~7;
    return out;
  }
}
