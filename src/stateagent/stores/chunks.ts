/**
 * The on-disk form of one mailbox's flags (LMDB layout v2; in memory it is a
 * MailboxFlags, mailbox-state.ts): a small head and
 * chunks, so an update rewrites only the chunks its UIDs fall in — a
 * one-message STORE in a mailbox of 100k fragmented ranges writes a few KB,
 * not the whole mailbox.
 *
 *   head   [HEAD_FORMAT, highestModseq, splits]
 *          splits: ascending chunk start UIDs, splits[0] = 1; chunk i covers
 *          [splits[i], splits[i+1] - 1] (the last one up to MAX_UID)
 *   chunk  [[flag, [lo, hi, ...]] ..., [lo, hi, modseq, ...]]
 *          the flag ranges and modseq runs of the chunk's span, clipped to it
 *
 * A chunk grown over MAX_CHUNK_ITEMS numbers is split at range starts; an
 * empty chunk is deleted (its split stays). Chunks are keyed by their start
 * UID, so unchanged chunks keep their keys. Pure functions: the caller does
 * the LMDB reads and writes inside its transaction.
 */
import { RangeSet, type Run } from '../../util/rangeset.js';
import { FlagStoreError } from '../flagstore.js';
import { MAX_UID } from '../limits.js';
import { ModseqMap } from '../modseq-map.js';
import { MailboxFlags } from './mailbox-state.js';

/** Head layout version; bump when the layout above changes. */
export const HEAD_FORMAT = 2;

/**
 * Most numbers in one chunk before it is split (≈ 16–32 KB of msgpack): small
 * enough that rewriting one per update is cheap, large enough that a 100k
 * mailbox has tens of chunks, not thousands. One UID with the maximum 1000
 * keywords needs 2003 numbers, so any single UID fits.
 */
export const MAX_CHUNK_ITEMS = 4096;

export type HeadRecord = [number, number, number[]];
export type ChunkRecord = [Array<[string, number[]]>, number[]];

export interface Head {
  highestModseq: number;
  splits: number[];
}

export function decodeHead(v: unknown): Head {
  if (!Array.isArray(v) || v[0] !== HEAD_FORMAT || typeof v[1] !== 'number' || !Array.isArray(v[2]) || v[2][0] !== 1) {
    throw new FlagStoreError('UNAVAILABLE', 'flag record has an unknown format');
  }
  return { highestModseq: v[1], splits: v[2] as number[] };
}

export function encodeHead(h: Head): HeadRecord {
  return [HEAD_FORMAT, h.highestModseq, h.splits];
}

/** Assemble a mailbox from its head and its chunks in split order (undefined = empty chunk). */
export function assemble(head: Head, chunks: ReadonlyArray<unknown>): MailboxFlags {
  const flats = new Map<string, number[]>();
  const mflat: number[] = [];
  for (const c of chunks) {
    if (c === undefined) continue;
    if (!Array.isArray(c) || !Array.isArray(c[0]) || !Array.isArray(c[1]) || c[1].length % 3 !== 0) {
      throw new FlagStoreError('UNAVAILABLE', 'flag chunk is corrupt');
    }
    for (const entry of c[0] as unknown[]) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Array.isArray(entry[1])) {
        throw new FlagStoreError('UNAVAILABLE', 'flag chunk is corrupt');
      }
      let f = flats.get(entry[0]);
      if (!f) flats.set(entry[0], (f = []));
      const r = entry[1] as number[];
      for (let i = 0; i + 1 < r.length; i += 2) {
        // ranges cut at a chunk boundary join again
        if (f.length > 0 && f[f.length - 1]! + 1 === r[i]) f[f.length - 1] = r[i + 1]!;
        else f.push(r[i]!, r[i + 1]!);
      }
    }
    for (const x of c[1] as number[]) mflat.push(x);
  }
  const mf = new MailboxFlags(ModseqMap.fromFlat(mflat));
  mf.highestModseq = head.highestModseq;
  for (const [flag, f] of flats) mf.byFlag.set(flag, RangeSet.fromFlat(f));
  return mf;
}

export interface WritePlan {
  splits: number[];
  /** Chunks to write, by start UID. */
  puts: Array<[number, ChunkRecord]>;
  /** Chunk start UIDs whose chunk is now empty (delete the key). */
  removes: number[];
}

function chunkEnd(splits: readonly number[], i: number): number {
  return i + 1 < splits.length ? splits[i + 1]! - 1 : MAX_UID;
}

/** Index of the chunk holding `uid`. */
function chunkOf(splits: readonly number[], uid: number): number {
  let lo = 0;
  let hi = splits.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (splits[mid]! <= uid) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * What to write after `touched` (sorted, disjoint UID runs) changed in `mf`.
 * Cost: one pass over each flag's ranges plus the touched chunks' contents.
 */
export function planWrite(
  mf: MailboxFlags, oldSplits: readonly number[], touched: readonly Run[], maxItems = MAX_CHUNK_ITEMS,
): WritePlan {
  const splits = oldSplits.length > 0 ? oldSplits.slice() : [1];
  // touched chunk indices, ascending
  const idx: number[] = [];
  for (const [a, b] of touched) {
    for (let i = chunkOf(splits, a); i < splits.length && splits[i]! <= b; i++) {
      if (idx[idx.length - 1] !== i) idx.push(i);
    }
  }
  const spans: Run[] = idx.map((i) => [splits[i]!, chunkEnd(splits, i)]);
  const content: Array<{ flags: Array<[string, number[]]>; m: number[] }> = spans.map(() => ({ flags: [], m: [] }));
  // one pass per flag, distributing its ranges over the touched spans
  for (const [flag, set] of mf.byFlag) {
    let k = 0;
    const per: number[][] = spans.map(() => []);
    for (const [a, b] of set.ranges()) {
      while (k < spans.length && spans[k]![1] < a) k++;
      if (k === spans.length) break;
      for (let j = k; j < spans.length && spans[j]![0] <= b; j++) {
        per[j]!.push(Math.max(a, spans[j]![0]), Math.min(b, spans[j]![1]));
      }
    }
    per.forEach((r, j) => {
      if (r.length > 0) content[j]!.flags.push([flag, r]);
    });
  }
  spans.forEach(([lo, hi], j) => {
    for (const [a, b, ms] of mf.modseqs.runsIn(lo, hi)) content[j]!.m.push(a, b, ms);
  });
  const puts: Array<[number, ChunkRecord]> = [];
  const removes: number[] = [];
  const added: number[] = [];
  spans.forEach(([lo, hi], j) => {
    const c = content[j]!;
    let items = c.m.length;
    for (const [, r] of c.flags) items += r.length;
    if (items === 0) {
      removes.push(lo);
      return;
    }
    if (items <= maxItems) {
      puts.push([lo, [c.flags, c.m]]);
      return;
    }
    // split at range starts, into pieces of about half the limit
    const starts = new Set<number>();
    for (const [, r] of c.flags) for (let i = 0; i < r.length; i += 2) if (r[i]! > lo) starts.add(r[i]!);
    for (let i = 0; i < c.m.length; i += 3) if (c.m[i]! > lo) starts.add(c.m[i]!);
    const cand = [...starts].sort((x, y) => x - y);
    const pieces = Math.min(cand.length + 1, Math.ceil(items / (maxItems / 2)));
    const cuts = [lo];
    for (let p = 1; p < pieces; p++) {
      const s = cand[Math.floor((p * cand.length) / pieces)]!;
      if (s > cuts[cuts.length - 1]!) cuts.push(s);
    }
    for (let p = 0; p < cuts.length; p++) {
      const plo = cuts[p]!;
      const phi = p + 1 < cuts.length ? cuts[p + 1]! - 1 : hi;
      const flags: Array<[string, number[]]> = [];
      for (const [flag, r] of c.flags) {
        const out: number[] = [];
        for (let i = 0; i < r.length; i += 2) {
          const a = Math.max(r[i]!, plo);
          const b = Math.min(r[i + 1]!, phi);
          if (a <= b) out.push(a, b);
        }
        if (out.length > 0) flags.push([flag, out]);
      }
      const m: number[] = [];
      for (let i = 0; i < c.m.length; i += 3) {
        const a = Math.max(c.m[i]!, plo);
        const b = Math.min(c.m[i + 1]!, phi);
        if (a <= b) m.push(a, b, c.m[i + 2]!);
      }
      if (flags.length > 0 || m.length > 0) puts.push([plo, [flags, m]]);
      else removes.push(plo);
      if (p > 0) added.push(plo);
    }
  });
  if (added.length > 0) {
    for (const s of added) splits.push(s);
    splits.sort((x, y) => x - y);
  }
  return { splits, puts, removes };
}
