/**
 * The metadata store's keys (an article's: source, group, number; a group's
 * saved view) and its per-article record format (meta-store.ts).
 */

/** Key of an article's cached data: where it lives (source, group, number). */
export function articleKey(upstream: string, group: string, number: number): string {
  return `${upstream}\u0000${group}\u0000${number}`;
}

/** The part of `articleKey` before the number: names a group on a source (facts.ts). */
export function articlePrefix(upstream: string, group: string): string {
  return `${upstream}\u0000${group}`;
}

/** `articleKey` from its prefix (`articlePrefix`) and the number. */
export function prefixedKey(prefix: string, number: number): string {
  return `${prefix}\u0000${number}`;
}

/** Key of a group's saved view (the saved record names its carrier). */
export function viewKey(group: string): string {
  return group;
}

/**
 * One record per article for what a listing needs, so a cold article costs one
 * LMDB read and one write, not two of each: byte 0 says what follows (bit 0: an
 * exact size, bit 1: a header), bytes 1–6 the size (unsigned LE, 0 when
 * unknown), then the header block.
 */
const HAS_SIZE = 1;
const HAS_HEADER = 2;
const RECORD_HEAD = 7;

export interface ArticleRecord {
  size: number | undefined;
  header: Buffer | undefined;
}

export function encodeRecord(size: number | undefined, header: Buffer | undefined): Buffer {
  const b = Buffer.allocUnsafe(RECORD_HEAD + (header?.length ?? 0));
  b[0] = (size !== undefined ? HAS_SIZE : 0) | (header !== undefined ? HAS_HEADER : 0);
  b.writeUIntLE(size ?? 0, 1, 6);
  header?.copy(b, RECORD_HEAD);
  return b;
}

export function decodeRecord(b: Buffer | undefined): ArticleRecord | undefined {
  if (b === undefined || b.length < RECORD_HEAD) return undefined;
  return {
    size: b[0]! & HAS_SIZE ? b.readUIntLE(1, 6) : undefined,
    header: b[0]! & HAS_HEADER ? b.subarray(RECORD_HEAD) : undefined,
  };
}

/**
 * The article keys stored since a store opened without any article record (a
 * fresh data dir), as a range of numbers per group prefix (`articlePrefix`):
 * a key outside its group's range has no record, so the store answers it
 * without a disk read (a first listing or FETCH looked every article up in
 * vain). Ranges, not sets: a million keys cost nothing. Assumes the store's
 * owner is its only writer. A key that is no article key turns it off.
 */
export class StoredSinceEmpty {
  private ranges: Map<string, { lo: number; hi: number }> | null = new Map();

  /** True when no record of `key` can exist: none was `mark`ed in its group's range. */
  ruledOut(key: string): boolean {
    if (this.ranges === null) return false;
    const i = key.lastIndexOf('\u0000');
    const range = this.ranges.get(key.slice(0, i));
    if (range === undefined) return true;
    const n = Number(key.slice(i + 1));
    return !(n >= range.lo && n <= range.hi); // NaN: no article key, and none was stored (`mark` would have given up)
  }

  /** A record of `key` is being stored. */
  mark(key: string): void {
    if (this.ranges === null) return;
    const i = key.lastIndexOf('\u0000');
    const n = Number(key.slice(i + 1));
    if (i < 0 || !Number.isFinite(n)) {
      this.ranges = null; // not an article key: give the shortcut up rather than guess
      return;
    }
    const prefix = key.slice(0, i);
    const range = this.ranges.get(prefix);
    if (range === undefined) this.ranges.set(prefix, { lo: n, hi: n });
    else {
      if (n < range.lo) range.lo = n;
      if (n > range.hi) range.hi = n;
    }
  }
}
