/**
 * Buffers reused for the pages a listing reads back without keeping them
 * (page-cache.ts, `recycle`): no ~300 KB allocation per page read back. In
 * a warm listing of a group beyond the bound those allocations cost ~1 ms
 * each, mostly in the collections their external memory set off. A buffer
 * given back must no longer be referenced by anyone (page-cache.ts never
 * hands one out: `find` copies from it).
 */

/** Smallest buffer made: more than a packed page of ENVELOPEs (~310 KB). */
const MIN_BYTES = 512 * 1024;

export class SpareBuffers {
  private readonly spare: Buffer[] = [];

  /** `max`: buffers kept for reuse at most. */
  constructor(private readonly max: number) {}

  /** A copy of `src` at the start of a spare buffer (or a new one): the buffer, and the copy as a view of it. */
  copy(src: Uint8Array): { buf: Buffer; view: Buffer } {
    let buf = this.spare.pop();
    if (buf === undefined || buf.length < src.length) buf = Buffer.allocUnsafeSlow(Math.max(src.length, MIN_BYTES));
    buf.set(src);
    return { buf, view: buf.subarray(0, src.length) };
  }

  /** Lets go of every spare buffer (idle: page-cache.ts). */
  clear(): void {
    this.spare.length = 0;
  }

  /** Takes `buf` back for reuse. */
  give(buf: Buffer): void {
    if (this.spare.length < this.max) this.spare.push(buf);
  }
}
