/**
 * Sequence sets (RFC 9051 §9 `sequence-set`, `seq-range`, `seq-number`):
 * `1,3:5,7:*`. `*` stands for the largest number in use (the message count or
 * the highest UID); `a:b` equals `b:a`; so `5:*` with a maximum of 3 means
 * `3:5`, which contains message 3 (RFC 9051 §6.4.8 notes this for UIDs).
 *
 * A `SequenceSet` is kept in a canonical form that does not need the maximum:
 * sorted, disjoint, non-adjacent numeric ranges plus at most one open range
 * `s:*` (or `*` alone). Every set with the same meaning for every maximum has
 * the same canonical form, so `toString()` is canonical and
 * `SequenceSet.parse(x.toString())` equals `x`.
 *
 * Numbers above the maximum are clamped away by `resolve`; message-sequence
 * commands that must reject them (RFC 9051 §9 "seq-number") can check
 * `maxNumber()` first.
 */
import { ParseError } from './errors.js';
import { MAX_SEQUENCE_RANGES } from '../limits.js';

/** `*` in a sequence set. */
export const STAR = '*' as const;
export type SeqNumber = number | typeof STAR;

/** One range as written by a client: `a`, `a:b`, `a:*`, `*`. */
export interface RawSeqRange {
  start: SeqNumber;
  end: SeqNumber;
}

/** Largest value of `nz-number` / `seq-number` (RFC 9051 §9: 32-bit unsigned). */
export const MAX_SEQ_NUMBER = 0xffffffff;

export class SequenceSet {
  /** Sorted, disjoint, non-adjacent closed ranges of plain numbers, all below `starFrom - 1`. */
  readonly ranges: ReadonlyArray<readonly [number, number]>;
  /**
   * Start of the open range `starFrom:*`; `Infinity` for `*` alone; `null` when
   * the set has no `*`.
   */
  readonly starFrom: number | null;

  private constructor(ranges: Array<[number, number]>, starFrom: number | null) {
    this.ranges = ranges;
    this.starFrom = starFrom;
  }

  /** Build from raw ranges (any order, overlapping, reversed). Numbers must be 1..2^32-1. */
  static from(raw: ReadonlyArray<RawSeqRange>): SequenceSet {
    let starFrom: number | null = null;
    const numeric: Array<[number, number]> = [];
    for (const r of raw) {
      checkNumber(r.start);
      checkNumber(r.end);
      if (r.start === STAR || r.end === STAR) {
        const n = r.start === STAR ? (r.end === STAR ? Infinity : r.end) : r.start;
        starFrom = starFrom === null ? n : Math.min(starFrom, n);
      } else {
        numeric.push(r.start <= r.end ? [r.start, r.end] : [r.end, r.start]);
      }
    }
    numeric.sort((a, b) => a[0] - b[0]);
    const merged: Array<[number, number]> = [];
    for (const [lo, hi] of numeric) {
      const last = merged[merged.length - 1];
      if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
      else merged.push([lo, hi]);
    }
    // Absorb numeric ranges that reach the open range (see module comment: for
    // every max, [a,b] ∪ [min(s,max),max] = [min(a,max),max] when b+1 >= s).
    if (starFrom !== null && starFrom !== Infinity) {
      while (merged.length > 0 && merged[merged.length - 1]![1] + 1 >= starFrom) {
        const [lo] = merged.pop()!;
        starFrom = Math.min(starFrom, lo);
      }
    }
    return new SequenceSet(merged, starFrom);
  }

  /** Parse the wire form (`sequence-set`). Throws `ParseError` (offsets relative to `text`). */
  static parse(text: string): SequenceSet {
    // one number (a client opening one message): no range list to sort and merge
    const one = singleNumber(text);
    if (one > 0) return new SequenceSet([[one, one]], null);
    const raw: RawSeqRange[] = [];
    let i = 0;
    const num = (): SeqNumber => {
      if (text[i] === '*') {
        i++;
        return STAR;
      }
      const start = i;
      while (i < text.length && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
      if (i === start || text[start] === '0' || i - start > 10) throw new ParseError('nz-number or "*"', start);
      const n = Number(text.slice(start, i));
      if (n > MAX_SEQ_NUMBER) throw new ParseError('nz-number below 2^32', start);
      return n;
    };
    for (;;) {
      if (raw.length >= MAX_SEQUENCE_RANGES) throw new ParseError(`at most ${MAX_SEQUENCE_RANGES} ranges`, i);
      const start = num();
      let end = start;
      if (text[i] === ':') {
        i++;
        end = num();
      }
      raw.push({ start, end });
      if (text[i] !== ',') break;
      i++;
    }
    if (i !== text.length) throw new ParseError('"," or end of sequence-set', i);
    return SequenceSet.from(raw);
  }

  /** True if the set contains `*` (its meaning depends on the maximum). */
  get hasStar(): boolean {
    return this.starFrom !== null;
  }

  /** Largest explicit number in the set (0 if none): lets a caller reject numbers above the message count. */
  maxNumber(): number {
    const last = this.ranges[this.ranges.length - 1];
    const s = this.starFrom !== null && this.starFrom !== Infinity ? this.starFrom : 0;
    return Math.max(last ? last[1] : 0, s);
  }

  /**
   * The set for a maximum `max` (message count or highest UID): sorted, disjoint
   * closed ranges clamped to 1..max. `max` 0 (empty mailbox) gives `[]`.
   */
  resolve(max: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    if (max < 1) return out;
    for (const [lo, hi] of this.ranges) {
      if (lo > max) break;
      out.push([lo, Math.min(hi, max)]);
    }
    if (this.starFrom !== null) {
      const lo = Math.min(this.starFrom, max);
      const last = out[out.length - 1];
      if (last && last[1] + 1 >= lo) last[1] = max;
      else out.push([lo, max]);
    }
    return out;
  }

  /** Is `n` in the set when `*` means `max`? O(log ranges). */
  has(n: number, max: number): boolean {
    if (n < 1 || n > max) return false;
    if (this.starFrom !== null && n >= Math.min(this.starFrom, max)) return true;
    let lo = 0;
    let hi = this.ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = this.ranges[mid]!;
      if (n < r[0]) hi = mid - 1;
      else if (n > r[1]) lo = mid + 1;
      else return true;
    }
    return false;
  }

  /** Members for `max`, ascending, one at a time (never builds an array of numbers). */
  *values(max: number): Generator<number> {
    for (const [lo, hi] of this.resolve(max)) {
      for (let n = lo; n <= hi; n++) yield n;
    }
  }

  /** Number of members for `max`. */
  count(max: number): number {
    let c = 0;
    for (const [lo, hi] of this.resolve(max)) c += hi - lo + 1;
    return c;
  }

  /** Canonical wire form, e.g. `1:3,7,10:*`. */
  toString(): string {
    const parts = this.ranges.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}:${hi}`));
    if (this.starFrom === Infinity) parts.push('*');
    else if (this.starFrom !== null) parts.push(`${this.starFrom}:*`);
    return parts.join(',');
  }

  /** Same meaning for every maximum. */
  equals(other: SequenceSet): boolean {
    return this.toString() === other.toString();
  }

  /** A set of explicit numbers/ranges (e.g. to render a search result as `sequence-set`). */
  static ofRanges(ranges: ReadonlyArray<readonly [number, number]>): SequenceSet {
    return SequenceSet.from(ranges.map(([start, end]) => ({ start, end })));
  }
}

function checkNumber(v: SeqNumber): void {
  if (v !== STAR && (!Number.isInteger(v) || v < 1 || v > MAX_SEQ_NUMBER)) {
    throw new RangeError(`sequence number out of range: ${v}`);
  }
}

/** `text` as one valid nz-number, else 0 (then `parse` takes the general way and its errors). */
function singleNumber(text: string): number {
  if (text.length === 0 || text.length > 10 || text.charCodeAt(0) === 0x30) return 0;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return 0;
    n = n * 10 + (c - 0x30);
  }
  return n <= MAX_SEQ_NUMBER ? n : 0;
}
