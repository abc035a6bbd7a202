/**
 * A set of positive integers kept as sorted, disjoint, non-adjacent closed
 * ranges — the `.newsrc` idea. Memory grows with the number of ranges, not
 * with the number of members, so "\Seen on 1:100000" costs one range.
 */
export class RangeSet {
  /** Flattened [lo0, hi0, lo1, hi1, ...], ascending, with lo(i+1) > hi(i) + 1. */
  private r: number[] = [];

  static of(...ranges: Array<[number, number]>): RangeSet {
    const s = new RangeSet();
    for (const [lo, hi] of ranges) s.add(lo, hi);
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

  *ranges(): IterableIterator<[number, number]> {
    for (let i = 0; i < this.r.length; i += 2) yield [this.r[i]!, this.r[i + 1]!];
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
    const parts: string[] = [];
    for (const [lo, hi] of this.ranges()) parts.push(lo === hi ? String(lo) : `${lo}-${hi}`);
    return parts.join(',');
  }
}
