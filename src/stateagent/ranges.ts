/**
 * UID runs: sorted, disjoint closed ranges `[lo, hi]` of UIDs, and their
 * `.newsrc` text form `1-5,7,9-12` (the wire form of the agent API).
 * Operations here are linear merges of sorted lists; none expands a run
 * into its members except `expandRuns`, which callers bound first.
 */
import { RangeSet } from '../util/rangeset.js';
import { FlagStoreError } from './flagstore.js';
import { MAX_RANGES_PER_REQUEST, MAX_UID } from './limits.js';

export type Run = [number, number];

/** Ascending UIDs → runs of consecutive UIDs. Throws INVALID if not strictly ascending nz-numbers. */
export function runsOfUids(uids: readonly number[]): Run[] {
  const runs: Run[] = [];
  let prev = 0;
  for (const u of uids) {
    if (!Number.isInteger(u) || u < 1 || u > MAX_UID || u <= prev) {
      throw new FlagStoreError('INVALID', `UIDs must be ascending integers in 1..${MAX_UID}`);
    }
    const last = runs[runs.length - 1];
    if (last && u === last[1] + 1) last[1] = u;
    else runs.push([u, u]);
    prev = u;
  }
  return runs;
}

export function expandRuns(runs: readonly Run[]): number[] {
  const out: number[] = [];
  for (const [lo, hi] of runs) for (let u = lo; u <= hi; u++) out.push(u);
  return out;
}

export function countRuns(runs: readonly Run[]): number {
  let n = 0;
  for (const [lo, hi] of runs) n += hi - lo + 1;
  return n;
}

export interface ParseRangesOptions {
  /**
   * `.newsrc` leniency: `0` (some newsreaders write `0-N` for "nothing before
   * N") is dropped, and an empty `hi < lo` range is ignored, not refused.
   */
  newsrc?: boolean;
}

/**
 * Parse `1-5,7,9-12` into normalized runs (sorted, merged; overlaps allowed in
 * the input). Empty text is the empty list. Throws `FlagStoreError('INVALID')`.
 */
export function parseRanges(text: string, opts: ParseRangesOptions = {}): Run[] {
  const t = text.trim();
  if (t === '') return [];
  const parts = t.split(',');
  if (parts.length > MAX_RANGES_PER_REQUEST) {
    throw new FlagStoreError('INVALID', `more than ${MAX_RANGES_PER_REQUEST} ranges`);
  }
  const set = new RangeSet();
  let sorted = true;
  let prevHi = 0;
  const runs: Run[] = [];
  for (const raw of parts) {
    const m = /^\s*(\d{1,10})(?:\s*-\s*(\d{1,10}))?\s*$/.exec(raw);
    if (!m) throw new FlagStoreError('INVALID', `bad range ${JSON.stringify(raw.slice(0, 40))}`);
    let lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (opts.newsrc && lo === 0) lo = 1;
    if (hi < lo) {
      if (opts.newsrc) continue;
      throw new FlagStoreError('INVALID', `bad range ${raw.trim()}`);
    }
    if (lo < 1 || hi > MAX_UID) throw new FlagStoreError('INVALID', `range ${raw.trim()} outside 1..${MAX_UID}`);
    if (lo <= prevHi + 1 && runs.length > 0) sorted = false;
    prevHi = Math.max(prevHi, hi);
    runs.push([lo, hi]);
  }
  if (sorted) return runs;
  for (const [lo, hi] of runs) set.add(lo, hi);
  return [...set.ranges()];
}

/** Runs → `.newsrc` text. */
export function formatRuns(runs: Iterable<readonly [number, number]>): string {
  const parts: string[] = [];
  for (const [lo, hi] of runs) parts.push(lo === hi ? String(lo) : `${lo}-${hi}`);
  return parts.join(',');
}

/** The ranges of `set` clipped to [lo, hi]. */
export function clipSet(set: RangeSet, lo: number, hi: number): Run[] {
  const out: Run[] = [];
  if (hi < lo) return out;
  for (const [a, b] of set.ranges()) {
    if (b < lo) continue;
    if (a > hi) break;
    out.push([Math.max(a, lo), Math.min(b, hi)]);
  }
  return out;
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
