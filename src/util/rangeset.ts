/**
 * Sets of positive integers (UIDs, article numbers) kept as ranges — the
 * `.newsrc` idea. Memory grows with the number of ranges, not of members,
 * so "\Seen on 1:100000" costs one range. Two forms, one idea:
 *
 * - `RangeSet`: a mutable set (the flags of one mailbox, one per flag).
 * - `Run[]`: an immutable, sorted list of disjoint closed ranges `[lo, hi]`
 *   — the argument and wire form of a batch of UIDs (`toRuns`, the run
 *   algebra below, `.newsrc` text). `RangeSet.ranges()` yields this form.
 *
 * Nothing here expands a range into its members except `expandRuns` and the
 * set's iterator, which callers bound first.
 */

/** A closed range `[lo, hi]`, lo ≤ hi. */
export type Run = [number, number];

/**
 * Ascending numbers → runs of consecutive numbers (`1,2,3,7` → `[1,3],[7,7]`).
 * Never throws; a number that does not follow its predecessor starts a new
 * run, so unsorted input gives unsorted (still correct) runs. Validation of
 * input from a caller is the caller's business (stateagent `checkUids`).
 */
export function toRuns(sorted: readonly number[]): Run[] {
  const runs: Run[] = [];
  for (const u of sorted) {
    const last = runs[runs.length - 1];
    if (last && u === last[1] + 1) last[1] = u;
    else runs.push([u, u]);
  }
  return runs;
}

export function expandRuns(runs: readonly (readonly [number, number])[]): number[] {
  const out: number[] = [];
  for (const [lo, hi] of runs) for (let u = lo; u <= hi; u++) out.push(u);
  return out;
}

export function countRuns(runs: readonly (readonly [number, number])[]): number {
  let n = 0;
  for (const [lo, hi] of runs) n += hi - lo + 1;
  return n;
}

/** a ∩ b, both sorted and disjoint. */
export function intersectRuns(a: readonly Run[], b: readonly Run[]): Run[] {
  const out: Run[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const lo = Math.max(a[i]![0], b[j]![0]);
    const hi = Math.min(a[i]![1], b[j]![1]);
    if (lo <= hi) out.push([lo, hi]);
    if (a[i]![1] < b[j]![1]) i++;
    else j++;
  }
  return out;
}

/** a ∪ b, both sorted and disjoint; the result is sorted, disjoint and non-adjacent (one merge pass). */
export function unionRuns(a: readonly Run[], b: readonly Run[]): Run[] {
  const out: Run[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const next = j >= b.length || (i < a.length && a[i]![0] <= b[j]![0]) ? a[i++]! : b[j++]!;
    const last = out[out.length - 1];
    if (last && next[0] <= last[1] + 1) {
      if (next[1] > last[1]) last[1] = next[1];
    } else out.push([next[0], next[1]]);
  }
  return out;
}

/** a \ b, both sorted and disjoint. */
export function subtractRuns(a: readonly Run[], b: readonly Run[]): Run[] {
  const out: Run[] = [];
  let j = 0;
  for (const [lo0, hi] of a) {
    let lo = lo0;
    while (j < b.length && b[j]![1] < lo) j++;
    let k = j;
    while (k < b.length && b[k]![0] <= hi) {
      if (b[k]![0] > lo) out.push([lo, b[k]![0] - 1]);
      lo = Math.max(lo, b[k]![1] + 1);
      if (b[k]![1] > hi) break;
      k++;
    }
    if (lo <= hi) out.push([lo, hi]);
  }
  return out;
}

/** Runs → `.newsrc` text `1-5,7,9-12` (the agent API's UID set form). */
export function formatRuns(runs: Iterable<readonly [number, number]>): string {
  const parts: string[] = [];
  for (const [lo, hi] of runs) parts.push(lo === hi ? String(lo) : `${lo}-${hi}`);
  return parts.join(',');
}

/** A mutable set of positive integers as sorted, disjoint, non-adjacent ranges. */
export class RangeSet {
  /** Flattened [lo0, hi0, lo1, hi1, ...], ascending, with lo(i+1) > hi(i) + 1. */
  private r: number[] = [];

  static of(...ranges: Array<[number, number]>): RangeSet {
    const s = new RangeSet();
    for (const [lo, hi] of ranges) s.add(lo, hi);
    return s;
  }

  /**
   * From flattened ranges `[lo0, hi0, lo1, hi1, ...]` (a stored form): taken
   * as is when ascending and non-adjacent (one copy), else added one by one.
   */
  static fromFlat(flat: readonly number[]): RangeSet {
    const s = new RangeSet();
    let ok = flat.length % 2 === 0;
    for (let i = 0; ok && i < flat.length; i += 2) {
      ok = flat[i]! <= flat[i + 1]! && (i === 0 || flat[i]! > flat[i - 1]! + 1);
    }
    if (ok) s.r = flat.slice();
    else for (let i = 0; i + 1 < flat.length; i += 2) s.add(flat[i]!, flat[i + 1]!);
    return s;
  }

  get rangeCount(): number {
    return this.r.length / 2;
  }

  get size(): number {
    let n = 0;
    for (let i = 0; i < this.r.length; i += 2) n += this.r[i + 1]! - this.r[i]! + 1;
    return n;
  }

  isEmpty(): boolean {
    return this.r.length === 0;
  }

  /** Index of the first range whose hi ≥ n (in range units), or rangeCount. */
  private find(n: number): number {
    let lo = 0;
    let hi = this.r.length / 2;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.r[mid * 2 + 1]! < n) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  has(n: number): boolean {
    const i = this.find(n);
    return i < this.r.length / 2 && this.r[i * 2]! <= n;
  }

  add(lo: number, hi: number = lo): this {
    if (hi < lo) return this;
    // ranges touching [lo-1, hi+1] merge
    let i = this.find(lo - 1);
    let j = i;
    let nlo = lo;
    let nhi = hi;
    while (j < this.r.length / 2 && this.r[j * 2]! <= hi + 1) {
      nlo = Math.min(nlo, this.r[j * 2]!);
      nhi = Math.max(nhi, this.r[j * 2 + 1]!);
      j++;
    }
    this.r.splice(i * 2, (j - i) * 2, nlo, nhi);
    return this;
  }

  remove(lo: number, hi: number = lo): this {
    if (hi < lo) return this;
    const i = this.find(lo);
    const out: number[] = [];
    let j = i;
    while (j < this.r.length / 2 && this.r[j * 2]! <= hi) {
      const a = this.r[j * 2]!;
      const b = this.r[j * 2 + 1]!;
      if (a < lo) out.push(a, lo - 1);
      if (b > hi) out.push(hi + 1, b);
      j++;
    }
    this.r.splice(i * 2, (j - i) * 2, ...out);
    return this;
  }

  clear(): void {
    this.r = [];
  }

  *ranges(): IterableIterator<Run> {
    for (let i = 0; i < this.r.length; i += 2) yield [this.r[i]!, this.r[i + 1]!];
  }

  /** The ranges clipped to [lo, hi] (binary search to the first). */
  rangesIn(lo: number, hi: number): Run[] {
    const out: Run[] = [];
    if (hi < lo) return out;
    for (let i = this.find(lo); i < this.r.length / 2 && this.r[i * 2]! <= hi; i++) {
      out.push([Math.max(this.r[i * 2]!, lo), Math.min(this.r[i * 2 + 1]!, hi)]);
    }
    return out;
  }

  *[Symbol.iterator](): IterableIterator<number> {
    for (let i = 0; i < this.r.length; i += 2) for (let n = this.r[i]!; n <= this.r[i + 1]!; n++) yield n;
  }

  clone(): RangeSet {
    const s = new RangeSet();
    s.r = this.r.slice();
    return s;
  }

  /** `.newsrc`-style text: `1-5,7,9-12`. */
  toString(): string {
    return formatRuns(this.ranges());
  }
}
