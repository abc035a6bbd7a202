/**
 * The messages one SEARCH looks at (its candidates, by position) and the
 * index's answers placed on those positions: the bookkeeping of
 * ./evaluate.ts, kept in typed arrays so that a search of a 100k-message
 * mailbox whose answer the index knows costs time in the size of the answer,
 * not of the mailbox.
 *
 * Position i of a scope is the message `uids[i]` with sequence number
 * `seqAt(i)`. Without a UID or sequence set at the top of the query the scope
 * is the whole mailbox: `uids` is then the selected snapshot's own list
 * (never modified) and `seqAt(i)` is i + 1.
 */
import { resolveSet } from '../sequence.js';
import type { SearchKey } from '../wire/search-key.js';
import type { SelectedMailbox } from '../selected.js';
import { unionUids } from '../../util/sorted.js';

/** The index says no / yes / it does not know (the message is scanned). */
export const NO = 0;
export const YES = 1;
export const UNKNOWN = 2;

export class Scope {
  private constructor(
    /** UIDs of the candidates, ascending. Do not modify (may be the snapshot's list). */
    readonly uids: Uint32Array,
    /** Their sequence numbers, or null when position i is sequence number i + 1. */
    private readonly seqs: Uint32Array | null,
  ) {}

  get length(): number {
    return this.uids.length;
  }

  seqAt(i: number): number {
    return this.seqs === null ? i + 1 : this.seqs[i]!;
  }

  /** The sequence numbers of `positions` (ascending positions give ascending numbers). */
  seqsOf(positions: Uint32Array): Uint32Array {
    const out = new Uint32Array(positions.length);
    for (let k = 0; k < positions.length; k++) out[k] = this.seqAt(positions[k]!);
    return out;
  }

  /** The UIDs of `positions`. */
  uidsOf(positions: Uint32Array): Uint32Array {
    const out = new Uint32Array(positions.length);
    for (let k = 0; k < positions.length; k++) out[k] = this.uids[positions[k]!]!;
    return out;
  }

  /**
   * The candidates of `key`: the intersection of the UID and sequence sets at
   * the top level of the query (`UID 1 BODY x` looks at one article), or every
   * message of the mailbox.
   */
  static of(sel: SelectedMailbox, key: SearchKey): Scope {
    const top = key.type === 'and' ? key.keys : [key];
    let set: number[] | undefined;
    for (const k of top) {
      if (k.type !== 'uid' && k.type !== 'seq') continue;
      const next = resolveSet(sel, k.set, k.type === 'uid', true);
      set = set === undefined ? next : intersect(set, next);
    }
    if (set === undefined) return new Scope(sel.uids, null);
    const seqs = Uint32Array.from(set);
    const uids = new Uint32Array(seqs.length);
    for (let i = 0; i < seqs.length; i++) uids[i] = sel.uidAt(seqs[i]!);
    return new Scope(uids, seqs);
  }

  /**
   * The index's answer on the scope's positions: `hits` and `unknown`
   * (ascending UIDs) become YES and UNKNOWN, the rest NO. UIDs outside the
   * scope are ignored. Cost: a binary search per given UID.
   */
  place(hits: Uint32Array, unknown: Uint32Array): { state: Uint8Array; maybe: Uint32Array } {
    const state = new Uint8Array(this.uids.length);
    // YES first, then UNKNOWN over it: a UID the index lists in both is scanned
    const yes = this.mark(hits, YES, state);
    const unsure = this.mark(unknown, UNKNOWN, state);
    return { state, maybe: unsure.length === 0 ? yes : unionUids(yes, unsure) };
  }

  /** Sets `state` to `value` at the positions of `uids` (ascending); those positions, ascending. */
  private mark(uids: Uint32Array, value: number, state: Uint8Array): Uint32Array {
    const all = this.uids;
    const out = new Uint32Array(Math.min(uids.length, all.length));
    let n = 0;
    let from = 0;
    for (let k = 0; k < uids.length; k++) {
      const u = uids[k]!;
      // ascending input: search only to the right of the last find
      const i = lowerBoundFrom(all, u, from);
      if (i >= all.length) break;
      from = i;
      if (all[i] !== u) continue;
      state[i] = value;
      out[n++] = i;
    }
    return out.subarray(0, n);
  }
}

/** Index of the first element ≥ x in `a[lo…]` (ascending), or a.length: galloping from `lo`, then a binary search. */
function lowerBoundFrom(a: Uint32Array, x: number, lo: number): number {
  let step = 1;
  let hi = lo;
  while (hi < a.length && a[hi]! < x) {
    lo = hi + 1;
    hi += step;
    step *= 2;
  }
  if (hi > a.length) hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function intersect(a: number[], b: number[]): number[] {
  const s = new Set(b);
  return a.filter((x) => s.has(x));
}

/**
 * Positions (ascending) outside which `key` cannot hold, or null when any
 * position may match. Only what the index already answered narrows: a key
 * the index answered can only hold where it did not say NO, an AND only
 * where its narrowest part can.
 */
export function narrowing(key: SearchKey, answered: (k: SearchKey) => Uint32Array | undefined): Uint32Array | null {
  switch (key.type) {
    case 'header':
    case 'body':
    case 'text':
      return answered(key) ?? null;
    case 'and': {
      let best: Uint32Array | null = null;
      for (const k of key.keys) {
        const n = narrowing(k, answered);
        if (n !== null && (best === null || n.length < best.length)) best = n;
      }
      return best;
    }
    default:
      return null;
  }
}
