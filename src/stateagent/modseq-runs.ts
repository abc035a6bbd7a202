/**
 * `ModseqRuns`: a ModseqMap (same public contract, see modseq-map.ts) built
 * for the stores, which clone and (de)serialize whole maps on every update:
 * `fromFlat` and `flat()` are array copies, and `set` does one splice. A
 * mailbox whose messages were changed one at a time has one run per message,
 * so these costs are per update, not per session.
 *
 * Proposed upstream: `ModseqMap.fromFlat`/`flat()` would make this subclass
 * unnecessary (it overrides every public method and leaves the base's own
 * storage empty).
 */
import { ModseqMap } from './modseq-map.js';

export class ModseqRuns extends ModseqMap {
  /** [lo, hi, modseq, ...], ascending by lo, disjoint. */
  private f: number[] = [];

  /** Trusts `flat` to be ascending and disjoint (it comes from `flat()` of another map). */
  static fromFlat(flat: readonly number[]): ModseqRuns {
    const m = new ModseqRuns();
    m.f = flat.slice();
    return m;
  }

  static copyOf(src: ModseqMap): ModseqRuns {
    if (src instanceof ModseqRuns) return ModseqRuns.fromFlat(src.f);
    const m = new ModseqRuns();
    for (const [lo, hi, ms] of src.runs()) m.f.push(lo, hi, ms);
    return m;
  }

  flat(): readonly number[] {
    return this.f;
  }

  /** Index (in runs) of the first run whose hi ≥ n. */
  private at(n: number): number {
    let lo = 0;
    let hi = this.f.length / 3;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.f[mid * 3 + 1]! < n) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  override get(uid: number): number {
    const i = this.at(uid);
    return i < this.f.length / 3 && this.f[i * 3]! <= uid ? this.f[i * 3 + 2]! : 1;
  }

  override set(lo: number, hi: number, ms: number): void {
    if (hi < lo) return;
    const i = this.at(lo);
    let j = i;
    const ins: number[] = [];
    while (j < this.f.length / 3 && this.f[j * 3]! <= hi) {
      const a = this.f[j * 3]!;
      const b = this.f[j * 3 + 1]!;
      const m = this.f[j * 3 + 2]!;
      if (a < lo) ins.push(a, lo - 1, m);
      j++;
      if (b > hi) {
        ins.push(lo, hi, ms, hi + 1, b, m);
        this.f.splice(i * 3, (j - i) * 3, ...ins);
        return;
      }
    }
    ins.push(lo, hi, ms);
    this.f.splice(i * 3, (j - i) * 3, ...ins);
  }

  override *changedSince(since: number): IterableIterator<[number, number, number]> {
    const f = this.f;
    for (let k = 0; k < f.length; k += 3) if (f[k + 2]! > since) yield [f[k]!, f[k + 1]!, f[k + 2]!];
  }

  override *runs(): IterableIterator<[number, number, number]> {
    const f = this.f;
    for (let k = 0; k < f.length; k += 3) yield [f[k]!, f[k + 1]!, f[k + 2]!];
  }

  /** Runs overlapping [lo, hi], clipped to it. */
  runsIn(lo: number, hi: number): Array<[number, number, number]> {
    const out: Array<[number, number, number]> = [];
    for (let i = this.at(lo); i < this.f.length / 3 && this.f[i * 3]! <= hi; i++) {
      out.push([Math.max(this.f[i * 3]!, lo), Math.min(this.f[i * 3 + 1]!, hi), this.f[i * 3 + 2]!]);
    }
    return out;
  }

  override get runCount(): number {
    return this.f.length / 3;
  }
}
