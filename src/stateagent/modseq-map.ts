/**
 * Modification sequences per UID kept as runs: `[lo, hi] → modseq`. A STORE
 * on 1:50000 gives one run, not 50,000 entries. UIDs in no run have modseq 1.
 */
export class ModseqMap {
  /** Flattened [lo, hi, modseq, ...], ascending by lo, disjoint. */
  private r: number[] = [];

  static fromRuns(runs: ReadonlyArray<readonly [number, number, number]>): ModseqMap {
    const m = new ModseqMap();
    for (const [lo, hi, ms] of runs) m.set(lo, hi, ms);
    return m;
  }

  private find(n: number): number {
    // first run whose hi ≥ n
    let lo = 0;
    let hi = this.r.length / 3;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.r[mid * 3 + 1]! < n) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  get(uid: number): number {
    const i = this.find(uid);
    return i < this.r.length / 3 && this.r[i * 3]! <= uid ? this.r[i * 3 + 2]! : 1;
  }

  /** Give every UID in [lo, hi] the modseq `ms`. */
  set(lo: number, hi: number, ms: number): void {
    if (hi < lo) return;
    const i = this.find(lo);
    const out: number[] = [];
    let j = i;
    while (j < this.r.length / 3 && this.r[j * 3]! <= hi) {
      const a = this.r[j * 3]!;
      const b = this.r[j * 3 + 1]!;
      const m = this.r[j * 3 + 2]!;
      if (a < lo) out.push(a, lo - 1, m);
      if (b > hi) out.push(hi + 1, b, m);
      j++;
    }
    // keep order: pieces before lo, the new run, pieces after hi
    const before = out.filter((_, k) => k % 3 === 0 && out[k]! < lo).length;
    const pre = out.slice(0, before * 3);
    const post = out.slice(before * 3);
    this.r.splice(i * 3, (j - i) * 3, ...pre, lo, hi, ms, ...post);
  }

  /** Runs with modseq > `since`, ascending. */
  *changedSince(since: number): IterableIterator<[number, number, number]> {
    for (let k = 0; k < this.r.length; k += 3) {
      if (this.r[k + 2]! > since) yield [this.r[k]!, this.r[k + 1]!, this.r[k + 2]!];
    }
  }

  *runs(): IterableIterator<[number, number, number]> {
    for (let k = 0; k < this.r.length; k += 3) yield [this.r[k]!, this.r[k + 1]!, this.r[k + 2]!];
  }

  get runCount(): number {
    return this.r.length / 3;
  }
}
