/**
 * Sequence sets → the messages they name in the selected mailbox
 * (RFC 9051 §6.4.8, §9 `sequence-set`). By sequence number, a number above
 * the message count is a client error; by UID, UIDs that do not exist are
 * simply not matched, and `*` is the highest UID in use.
 */
import { SequenceSet } from './wire/sequence-set.js';
import type { SelectedMailbox } from './selected.js';
import { lowerBound } from '../util/sorted.js';
import { bad } from './errors.js';

/**
 * `set` itself, or for `$` (RFC 5182 SEARCHRES) the saved result of the last
 * SEARCH/SORT with RETURN (SAVE) as a set of UIDs (`byUid`) or of the sequence
 * numbers those UIDs have now; messages expunged since are left out, and with
 * nothing saved `$` is empty (RFC 5182 §2.1).
 */
export function concreteSet(sel: SelectedMailbox, set: SequenceSet | '$', byUid: boolean): SequenceSet {
  if (set !== '$') return set;
  const saved = sel.saved ?? new Uint32Array(0);
  const numbers: number[] = [];
  for (const uid of saved) {
    const seq = sel.seqOf(uid);
    if (seq !== 0) numbers.push(byUid ? uid : seq);
  }
  numbers.sort((a, b) => a - b);
  return SequenceSet.ofRanges(numbers.map((n) => [n, n] as const));
}

/**
 * Ascending sequence numbers named by `set`. The array is allocated once at
 * its final length (the spans are counted first): grown by `push`, the
 * sequence numbers of `UID FETCH 1:*` over a 1M-article mailbox left ~31 MB
 * of outgrown copies per command in V8's large-object space (8 MB kept),
 * which only a major collection frees (issue 14).
 */
export function resolveSet(sel: SelectedMailbox, given: SequenceSet | '$', byUid: boolean, lenient = false): number[] {
  const set = concreteSet(sel, given, byUid);
  if (given === '$') lenient = true;
  const uids = sel.uids;
  // [from, to) spans of 0-based positions in `uids`, in the order the set names them
  const spans: number[] = [];
  if (byUid) {
    const max = uids.length > 0 ? uids[uids.length - 1]! : 0;
    for (const [lo, hi] of set.resolve(max)) spans.push(lowerBound(uids, lo), lowerBound(uids, hi + 1));
  } else {
    if (uids.length === 0 && set.hasStar) return [];
    if (!lenient && set.maxNumber() > uids.length) throw bad('CLIENTBUG', `Message number out of range (mailbox has ${uids.length})`);
    for (const [lo, hi] of set.resolve(uids.length)) spans.push(lo - 1, hi);
  }
  let n = 0;
  for (let k = 0; k < spans.length; k += 2) n += Math.max(0, spans[k + 1]! - spans[k]!);
  const out = new Array<number>(n);
  let j = 0;
  for (let k = 0; k < spans.length; k += 2) for (let i = spans[k]!; i < spans[k + 1]!; i++) out[j++] = i + 1;
  return out;
}

/**
 * The UIDs of sequence numbers `seqs`, in their order. A plain loop on
 * purpose: `seqs.map((n) => sel.uidAt(n))` over a whole mailbox sent FETCH
 * into a deoptimisation loop in V8 (re-optimised and thrown away at every
 * command: ~25% more CPU on a warm BODYSTRUCTURE listing).
 */
export function uidsOf(sel: SelectedMailbox, seqs: readonly number[]): number[] {
  const out = new Array<number>(seqs.length);
  for (let i = 0; i < seqs.length; i++) out[i] = sel.uidAt(seqs[i]!);
  return out;
}
