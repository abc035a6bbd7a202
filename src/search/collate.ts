/**
 * Orderings for SORT and THREAD keys: the i;ascii-casemap collation (RFC 4790
 * §9.2, the default of RFC 5256 §3), dense ranks of a key column, and a stable
 * counting sort by rank.
 *
 * A rank column turns any key (a date, a folded string) into small integers once
 * per group; a SORT is then one linear counting-sort pass per criterion.
 */

/** Scratch code units for `asciiCasemap` of non-ASCII text up to its length. */
const units = new Uint16Array(1024);

/** i;ascii-casemap's mapping: a–z become A–Z, every other character stays (no Unicode case mapping). */
export function asciiCasemap(s: string): string {
  let lower = false;
  let ascii = true;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) lower = true;
    else if (c >= 0x80) ascii = false;
  }
  if (!lower) return s;
  // toUpperCase on pure ASCII maps only a–z; on other text it would also map é, ß, …
  if (ascii) return s.toUpperCase();
  // decoded subjects and names: code units mapped one by one (a regex replace with a callback per run of a–z cost ~4× more)
  if (n > units.length) return s.replace(/[a-z]+/g, (m) => m.toUpperCase());
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    units[i] = c >= 0x61 && c <= 0x7a ? c - 0x20 : c;
  }
  return String.fromCharCode.apply(null, units.subarray(0, n) as unknown as number[]);
}

/**
 * Code point order (= octet order of UTF-8, what i;ascii-casemap compares).
 * JavaScript's `<` compares UTF-16 code units, which differs only where a
 * surrogate meets a code unit in U+E000–U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // a surrogate (D800–DFFF) stands for a code point above every U+E000–U+FFFF
      const xs = x <= 0xdfff;
      const ys = y <= 0xdfff;
      if (xs !== ys) return xs ? 1 : -1;
    }
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** A key column as dense ranks: equal keys share a rank, ranks run 0 … count-1 in key order. */
export interface Ranks {
  ranks: Uint32Array;
  count: number;
}

/** Ranks that can take more values later (`extendRanks`): the distinct keys in rank order. */
export interface OpenRanks<T> extends Ranks {
  distinct: T[];
}

/** Dense ranks of strings in code point order. */
export function rankStrings(values: readonly string[]): OpenRanks<string> {
  const distinct = new Map<string, number>();
  for (const v of values) distinct.set(v, 0);
  const sorted = [...distinct.keys()];
  // the built-in sort compares UTF-16 code units without calling back into JS;
  // only text with characters from U+D800 up needs the code point comparison
  if (sorted.some((s) => /[\ud800-\uffff]/.test(s))) sorted.sort(compareCodePoints);
  else sorted.sort();
  for (let r = 0; r < sorted.length; r++) distinct.set(sorted[r]!, r);
  const ranks = new Uint32Array(values.length);
  for (let i = 0; i < values.length; i++) ranks[i] = distinct.get(values[i]!)!;
  return { ranks, count: sorted.length, distinct: sorted };
}

/** The number key `rankNumbers` ranks by: NaN counts as 0, -0 as 0. */
export const numberKey = (v: number): number => (v === v ? v + 0 : 0);

const compareNumbers = (a: number, b: number): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * `r` (ranks of the first values) with `more` values appended: equal to the
 * dense ranks of all the values computed afresh, without sorting them again.
 * New distinct keys are sorted among themselves and merged in; the ranks of
 * old values move up by the number of new keys below them (one pass, only
 * when there are new keys). Strings compare by code point, numbers by `numberKey`.
 */
export function extendRanks<T extends string | number>(r: OpenRanks<T>, more: readonly T[]): OpenRanks<T> {
  const cmp = (typeof r.distinct[0] === 'number' || typeof more[0] === 'number' ? compareNumbers : compareCodePoints) as (a: T, b: T) => number;
  const key = (v: T): T => (typeof v === 'number' ? (numberKey(v) as T) : v);
  const find = (list: readonly T[], v: T): number => {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cmp(list[mid]!, v) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const fresh: T[] = [];
  for (const v0 of more) {
    const v = key(v0);
    const at = find(r.distinct, v);
    if (at >= r.distinct.length || cmp(r.distinct[at]!, v) !== 0) fresh.push(v);
  }
  let distinct = r.distinct;
  let old = r.ranks;
  if (fresh.length > 0) {
    fresh.sort(cmp);
    const added = fresh.filter((v, k) => k === 0 || cmp(fresh[k - 1]!, v) !== 0);
    // merge, and where each old rank goes
    const moved = new Uint32Array(r.distinct.length);
    distinct = new Array<T>(r.distinct.length + added.length);
    let a = 0;
    let b = 0;
    for (let w = 0; w < distinct.length; w++) {
      if (b >= added.length || (a < r.distinct.length && cmp(r.distinct[a]!, added[b]!) < 0)) {
        moved[a] = w;
        distinct[w] = r.distinct[a++]!;
      } else distinct[w] = added[b++]!;
    }
    old = new Uint32Array(r.ranks.length);
    for (let i = 0; i < old.length; i++) old[i] = moved[r.ranks[i]!]!;
  }
  const ranks = new Uint32Array(r.ranks.length + more.length);
  ranks.set(old);
  for (let k = 0; k < more.length; k++) ranks[r.ranks.length + k] = find(distinct, key(more[k]!));
  return { ranks, count: distinct.length, distinct };
}

/**
 * Dense ranks of numbers in ascending order (NaN counts as 0). An LSD radix sort
 * over the 64 bits of each double, made order-preserving as unsigned integers:
 * linear, where a comparison sort of 100,000 keys costs ~10× more.
 */
export function rankNumbers(values: ArrayLike<number>): OpenRanks<number> {
  const n = values.length;
  const hi = new Uint32Array(n);
  const lo = new Uint32Array(n);
  const f = new Float64Array(1);
  const u = new Uint32Array(f.buffer);
  // little-endian platforms (every Node target): u[1] is the sign/exponent word
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    f[0] = v === v ? v + 0 : 0; // NaN → 0, -0 → 0
    if (u[1]! & 0x8000_0000) {
      hi[i] = ~u[1]! >>> 0;
      lo[i] = ~u[0]! >>> 0;
    } else {
      hi[i] = (u[1]! | 0x8000_0000) >>> 0;
      lo[i] = u[0]!;
    }
  }
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let next = new Uint32Array(n);
  const counts = new Uint32Array(0x10000);
  for (const [words, shift] of [
    [lo, 0],
    [lo, 16],
    [hi, 0],
    [hi, 16],
  ] as const) {
    counts.fill(0);
    let same = true;
    const first = n > 0 ? (words[0]! >>> shift) & 0xffff : 0;
    for (let i = 0; i < n; i++) {
      const d = (words[i]! >>> shift) & 0xffff;
      counts[d]!++;
      if (d !== first) same = false;
    }
    if (same) continue; // dates share their top bits: skip passes that move nothing
    let sum = 0;
    for (let d = 0; d < 0x10000; d++) {
      const c = counts[d]!;
      counts[d] = sum;
      sum += c;
    }
    for (let k = 0; k < n; k++) {
      const i = order[k]!;
      next[counts[(words[i]! >>> shift) & 0xffff]!++] = i;
    }
    [order, next] = [next, order];
  }
  const ranks = new Uint32Array(n);
  const distinct: number[] = [];
  let r = -1;
  let prevHi = -1;
  let prevLo = -1;
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    if (hi[i] !== prevHi || lo[i] !== prevLo) {
      r++;
      prevHi = hi[i]!;
      prevLo = lo[i]!;
      distinct.push(numberKey(values[i]!));
    }
    ranks[i] = r;
  }
  return { ranks, count: r + 1, distinct };
}

/**
 * `order` stably sorted by `ranks` (descending when `reverse`); elements of equal
 * rank keep their relative order. `order` holds indices into `ranks`. Linear in
 * `order.length + count`.
 */
export function countingSort(order: Uint32Array, { ranks, count }: Ranks, reverse: boolean): Uint32Array {
  const starts = new Uint32Array(count + 1);
  for (let k = 0; k < order.length; k++) {
    const r = ranks[order[k]!]!;
    starts[(reverse ? count - 1 - r : r) + 1]!++;
  }
  for (let r = 0; r < count; r++) starts[r + 1]! += starts[r]!;
  const out = new Uint32Array(order.length);
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    const r = ranks[i]!;
    out[starts[reverse ? count - 1 - r : r]!++] = i;
  }
  return out;
}
