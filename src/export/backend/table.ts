/**
 * The per-mailbox article table: parallel typed arrays, one row per UID present,
 * ascending by UID. It holds what listings need without keeping 100k JS objects
 * (invariant 7): the UID, where the article is (its number in the group on the
 * source), its size as the overview reports it and its date.
 *
 * Tables are immutable once built; growth (new articles) and expiry build a new
 * table, so sessions still on an old snapshot keep a consistent one.
 * Memory: 4 + 8 + 8 + 8 = 28 bytes per article.
 */
import { lowerBound } from '../../util/sorted.js';

export interface ArticleTable {
  readonly uids: Uint32Array;
  /** Article number on the source (group-relative). */
  readonly numbers: Float64Array;
  /** Overview `bytes`, or -1 when unknown. */
  readonly sizes: Float64Array;
  /** Date in ms since the epoch (NaN when unparseable). */
  readonly dates: Float64Array;
}

export const EMPTY_TABLE: ArticleTable = {
  uids: new Uint32Array(0),
  numbers: new Float64Array(0),
  sizes: new Float64Array(0),
  dates: new Float64Array(0),
};

/** Row index of `uid`, or -1. */
export function rowOf(t: ArticleTable, uid: number): number {
  const i = lowerBound(t.uids, uid);
  return i < t.uids.length && t.uids[i] === uid ? i : -1;
}

/**
 * Collects rows into growable arrays; `build()` returns a compact table sorted
 * by UID with one row per UID (the last pushed wins: a Message-ID seen twice,
 * or moved to a new number, maps to one UID). Rows usually arrive in ascending
 * UID order (article numbers of the primary upstream); when they do not (a
 * non-primary upstream numbers differently) `build()` sorts them.
 */
export class TableBuilder {
  private uids: Uint32Array;
  private numbers: Float64Array;
  private sizes: Float64Array;
  private dates: Float64Array;
  private n = 0;
  private sorted = true;

  /** Starts with the rows of `base` (copied). */
  constructor(base: ArticleTable = EMPTY_TABLE, capacity = 1024) {
    const cap = Math.max(capacity, base.uids.length + 16);
    this.uids = new Uint32Array(cap);
    this.numbers = new Float64Array(cap);
    this.sizes = new Float64Array(cap);
    this.dates = new Float64Array(cap);
    this.uids.set(base.uids);
    this.numbers.set(base.numbers);
    this.sizes.set(base.sizes);
    this.dates.set(base.dates);
    this.n = base.uids.length;
  }

  get length(): number {
    return this.n;
  }

  /** UID of the last row pushed (0 when empty). */
  get lastUid(): number {
    return this.n === 0 ? 0 : this.uids[this.n - 1]!;
  }

  /** Appends a row. */
  push(uid: number, number: number, size: number, date: number): void {
    if (uid <= this.lastUid) this.sorted = false;
    if (this.n === this.uids.length) this.grow();
    const i = this.n++;
    this.uids[i] = uid;
    this.numbers[i] = number;
    this.sizes[i] = size;
    this.dates[i] = date;
  }

  build(): ArticleTable {
    const n = this.n;
    if (!this.sorted) return this.buildSorted();
    return {
      uids: this.uids.slice(0, n),
      numbers: this.numbers.slice(0, n),
      sizes: this.sizes.slice(0, n),
      dates: this.dates.slice(0, n),
    };
  }

  private buildSorted(): ArticleTable {
    const order = Array.from({ length: this.n }, (_, i) => i);
    order.sort((a, b) => this.uids[a]! - this.uids[b]! || a - b); // stable: later pushes last
    const keep: number[] = [];
    for (let k = 0; k < order.length; k++) {
      const i = order[k]!;
      if (k + 1 < order.length && this.uids[order[k + 1]!] === this.uids[i]) continue; // a later row wins
      keep.push(i);
    }
    const m = keep.length;
    const t = { uids: new Uint32Array(m), numbers: new Float64Array(m), sizes: new Float64Array(m), dates: new Float64Array(m) };
    keep.forEach((i, j) => {
      t.uids[j] = this.uids[i]!;
      t.numbers[j] = this.numbers[i]!;
      t.sizes[j] = this.sizes[i]!;
      t.dates[j] = this.dates[i]!;
    });
    return t;
  }

  private grow(): void {
    const cap = this.uids.length * 2;
    const u = new Uint32Array(cap);
    u.set(this.uids);
    this.uids = u;
    const nu = new Float64Array(cap);
    nu.set(this.numbers);
    this.numbers = nu;
    const s = new Float64Array(cap);
    s.set(this.sizes);
    this.sizes = s;
    const d = new Float64Array(cap);
    d.set(this.dates);
    this.dates = d;
  }
}

/** A copy of `t` without the rows whose UID is in `drop`. */
export function withoutUids(t: ArticleTable, drop: ReadonlySet<number>): ArticleTable {
  const b = new TableBuilder(EMPTY_TABLE, t.uids.length);
  for (let i = 0; i < t.uids.length; i++) {
    const uid = t.uids[i]!;
    if (!drop.has(uid)) b.push(uid, t.numbers[i]!, t.sizes[i]!, t.dates[i]!);
  }
  return b.build();
}

/** Row index of the article with source number `number`, or -1 (UID = number is the usual case: tried first). */
export function rowOfNumber(t: ArticleTable, number: number): number {
  if (Number.isInteger(number) && number >= 0 && number <= 0xffffffff) {
    const row = rowOf(t, number);
    if (row >= 0 && t.numbers[row] === number) return row;
  }
  return t.numbers.indexOf(number);
}
