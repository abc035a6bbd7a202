/**
 * Modification sequences per UID kept as runs `[lo, hi] → modseq` (RFC 7162):
 * a STORE on 1:50000 gives one run, not 50,000 entries. UIDs in no run have
 * modseq 1. Stored flat (`[lo, hi, modseq, ...]`, ascending by lo, disjoint)
 * so the stores can clone it and (de)serialize it as one array copy
 * (`fromFlat`/`flat`, chunks.ts and the agent's wire form).
 */
export class ModseqMap {
  /** [lo, hi, modseq, ...], ascending by lo, disjoint. */
  private f: number[] = [];

  /** Trusts `flat` to be ascending and disjoint (from `flat()` of another map, or checked by the caller). */
  static fromFlat(flat: readonly number[]): ModseqMap {
    const m = new ModseqMap();
    m.f = flat.slice();
    return m;
  }

  /** The flat form; read-only, valid until the next `set`. */
  flat(): readonly number[] {
    return this.f;
  }

  clone(): ModseqMap {
    return ModseqMap.fromFlat(this.f);
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

  get(uid: number): number {
    const i = this.at(uid);
    return i < this.f.length / 3 && this.f[i * 3]! <= uid ? this.f[i * 3 + 2]! : 1;
  }

  /** Give every UID in [lo, hi] the modseq `ms` (one splice). */
  set(lo: number, hi: number, ms: number): void {
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

  /** Runs with modseq > `since`, ascending. */
  *changedSince(since: number): IterableIterator<[number, number, number]> {
    const f = this.f;
    for (let k = 0; k < f.length; k += 3) if (f[k + 2]! > since) yield [f[k]!, f[k + 1]!, f[k + 2]!];
  }

  *runs(): IterableIterator<[number, number, number]> {
    const f = this.f;
    for (let k = 0; k < f.length; k += 3) yield [f[k]!, f[k + 1]!, f[k + 2]!];
  }

  /** Runs overlapping [lo, hi], clipped to it. */
  runsIn(lo: number, hi: number): Array<[number, number, number]> {
    const out: Array<[number, number, number]> = [];
    if (hi < lo) return out;
    for (let i = this.at(lo); i < this.f.length / 3 && this.f[i * 3]! <= hi; i++) {
      out.push([Math.max(this.f[i * 3]!, lo), Math.min(this.f[i * 3 + 1]!, hi), this.f[i * 3 + 2]!]);
    }
    return out;
  }

  get runCount(): number {
    return this.f.length / 3;
  }
}
