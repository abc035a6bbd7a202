/**
 * A page of renderings (envelope-cache.ts) as one buffer, the form it has in
 * the render store and in memory once read back: no object per rendering.
 *
 *   offsets: (PAGE_SIZE + 1) × u32 LE, absolute in the buffer, the first = OFFSETS_BYTES
 *   bytes:   the renderings of slots 0 … PAGE_SIZE-1, one after another
 *
 * Slot i holds bytes [offsets[i], offsets[i+1]); an empty range is no
 * rendering (a rendering is never empty).
 */

export const PAGE_BITS = 10;
/** UIDs per page. */
export const PAGE_SIZE = 1 << PAGE_BITS;
const OFFSETS_BYTES = (PAGE_SIZE + 1) * 4;

/**
 * One packed page of the renderings in `slots` and, where a slot has none, in
 * `packed` (an earlier packing, with its `offsets`).
 */
export function packPage(packed: Buffer | null, offsets: Uint32Array | null, slots: ReadonlyArray<Buffer | undefined> | null): Buffer {
  let total = OFFSETS_BYTES;
  for (let i = 0; i < PAGE_SIZE; i++) {
    const s = slots?.[i];
    total += s !== undefined ? s.length : offsets !== null ? offsets[i + 1]! - offsets[i]! : 0;
  }
  const out = Buffer.allocUnsafeSlow(total);
  let at = OFFSETS_BYTES;
  for (let i = 0; i < PAGE_SIZE; i++) {
    out.writeUInt32LE(at, i * 4);
    const s = slots?.[i];
    if (s !== undefined) {
      out.set(s, at);
      at += s.length;
    } else if (offsets !== null && offsets[i + 1]! > offsets[i]!) {
      at += packed!.copy(out, at, offsets[i]!, offsets[i + 1]!);
    }
  }
  out.writeUInt32LE(at, PAGE_SIZE * 4);
  return out;
}

/** The offsets of a packed page, or undefined when `b` is not one (truncated, out of order). */
export function readOffsets(b: Buffer): Uint32Array | undefined {
  if (b.length < OFFSETS_BYTES) return undefined;
  const o = new Uint32Array(PAGE_SIZE + 1);
  let prev = OFFSETS_BYTES;
  for (let i = 0; i <= PAGE_SIZE; i++) {
    const v = b.readUInt32LE(i * 4);
    if (v < prev || v > b.length) return undefined;
    o[i] = prev = v;
  }
  if (o[0] !== OFFSETS_BYTES || o[PAGE_SIZE] !== b.length) return undefined;
  return o;
}

/**
 * Slot `slot`'s rendering in packed page `b`, as a view of `b` (no offset
 * table built: one rendering of a stored page, read where it lies), or
 * undefined when the slot is empty or `b` is not a packed page (truncated,
 * first or last offset wrong, the slot's range out of order or outside `b`).
 */
export function readSlot(b: Uint8Array, slot: number): Uint8Array | undefined {
  const n = b.length;
  if (n < OFFSETS_BYTES || slot < 0 || slot >= PAGE_SIZE) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, OFFSETS_BYTES);
  if (v.getUint32(0, true) !== OFFSETS_BYTES || v.getUint32(PAGE_SIZE * 4, true) !== n) return undefined;
  const start = v.getUint32(slot * 4, true);
  const end = v.getUint32(slot * 4 + 4, true);
  if (start < OFFSETS_BYTES || end > n || end <= start) return undefined;
  return b.subarray(start, end);
}
