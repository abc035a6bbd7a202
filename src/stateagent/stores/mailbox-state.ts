/**
 * `MailboxFlags`: the in-memory form of one mailbox's flags, shared by every
 * store (session, LMDB, the remote client's view cache) and the agent — one
 * RangeSet per flag, a ModseqMap, HIGHESTMODSEQ. Changes are applied as UID
 * runs (`applyRuns`), so `1-4000000000` never becomes an array, and read back
 * as runs of equal flags (`RunChange`). (The on-disk form is chunks.ts.)
 *
 * Semantics of a change (RFC 7162 §3.1.3, §3.2): UNCHANGEDSINCE skips UIDs
 * whose modseq is greater (0 always fails: every UID has modseq ≥ 1); every
 * other target UID gets one new modseq, even if its flags were already so
 * (the RFC lets a server bump it); `set` replaces, `add`/`remove` add and
 * remove; a flag no UID has any more disappears from `keywords()`.
 */
import { RangeSet, intersectRuns, subtractRuns, type Run } from '../../util/rangeset.js';
import { FlagStoreError, type FlagChange, type FlagOp, type FlagView, type UpdateResult } from '../flagstore.js';
import { MAX_KEYWORDS_PER_MAILBOX } from '../limits.js';
import { ModseqMap } from '../modseq-map.js';

export class MailboxFlags implements FlagView {
  readonly byFlag = new Map<string, RangeSet>();
  highestModseq = 1;

  constructor(readonly modseqs: ModseqMap = new ModseqMap()) {}

  flagsOf(uid: number): readonly string[] {
    const out: string[] = [];
    for (const [flag, set] of this.byFlag) if (set.has(uid)) out.push(flag);
    return out;
  }

  keywords(): readonly string[] {
    return [...this.byFlag.keys()];
  }

  has(uid: number, flag: string): boolean {
    return this.byFlag.get(flag)?.has(uid) ?? false;
  }

  modseqOf(uid: number): number {
    return this.modseqs.get(uid);
  }

  /** A deep copy (stores hand out views and change copies, never the same object). */
  clone(): MailboxFlags {
    const m = new MailboxFlags(this.modseqs.clone());
    for (const [flag, set] of this.byFlag) m.byFlag.set(flag, set.clone());
    m.highestModseq = this.highestModseq;
    return m;
  }
}

/** UIDs lo..hi all with the same flags and modseq (the run form of `FlagChange`). */
export interface RunChange {
  lo: number;
  hi: number;
  flags: string[];
  modseq: number;
}

export interface RunUpdateResult {
  /** Target runs not changed because of UNCHANGEDSINCE. */
  modified: Run[];
  /** Runs actually changed (all with `modseq`). */
  changed: Run[];
  modseq: number;
  highestModseq: number;
}

/**
 * Apply `op` with `flags` to the UIDs of `runs` (sorted, disjoint) in place.
 * Throws `FlagStoreError('INVALID')` before changing anything if the change
 * would exceed MAX_KEYWORDS_PER_MAILBOX.
 */
export function applyRuns(
  mf: MailboxFlags, runs: readonly Run[], op: FlagOp, flags: readonly string[], unchangedSince?: number,
): RunUpdateResult {
  let target: Run[] = runs.slice() as Run[];
  let modified: Run[] = [];
  if (unchangedSince !== undefined && unchangedSince < 1) {
    modified = target;
    target = [];
  } else if (unchangedSince !== undefined) {
    const hot: Run[] = [];
    for (const [lo, hi] of mf.modseqs.changedSince(unchangedSince)) {
      const last = hot[hot.length - 1];
      if (last && last[1] + 1 === lo) last[1] = hi;
      else hot.push([lo, hi]);
    }
    modified = intersectRuns(target, hot);
    target = subtractRuns(target, hot);
  }
  if (target.length === 0) return { modified, changed: [], modseq: mf.highestModseq, highestModseq: mf.highestModseq };
  if (op !== 'remove') {
    let fresh = 0;
    for (const f of flags) if (!mf.byFlag.has(f)) fresh++;
    if (mf.byFlag.size + fresh > MAX_KEYWORDS_PER_MAILBOX) {
      throw new FlagStoreError('INVALID', `a mailbox holds at most ${MAX_KEYWORDS_PER_MAILBOX} distinct flags`);
    }
  }
  if (op === 'set') {
    for (const [flag, set] of mf.byFlag) {
      if (!flags.includes(flag)) for (const [lo, hi] of target) set.remove(lo, hi);
      if (set.isEmpty()) mf.byFlag.delete(flag);
    }
  }
  for (const flag of flags) {
    let set = mf.byFlag.get(flag);
    if (op === 'remove') {
      if (!set) continue;
      for (const [lo, hi] of target) set.remove(lo, hi);
      if (set.isEmpty()) mf.byFlag.delete(flag);
    } else {
      if (!set) mf.byFlag.set(flag, (set = new RangeSet()));
      for (const [lo, hi] of target) set.add(lo, hi);
    }
  }
  const modseq = ++mf.highestModseq;
  for (const [lo, hi] of target) mf.modseqs.set(lo, hi, modseq);
  return { modified, changed: target, modseq, highestModseq: modseq };
}

/**
 * The UIDs of `spans` (sorted, disjoint) cut into runs of equal flags, each
 * with its modseq. Cost: O((ranges + spans) · flags), never O(UIDs).
 */
export function runChanges(mf: MailboxFlags, spans: ReadonlyArray<readonly [number, number, number]>): RunChange[] {
  let total = 0;
  for (const [lo, hi] of spans) total += hi - lo + 1;
  if (total <= SMALL_CHANGE_UIDS) return runChangesByUid(mf, spans);
  // Cut points per span: where some flag's membership can change.
  const cuts: number[][] = spans.map(([lo]) => [lo]);
  for (const set of mf.byFlag.values()) {
    let i = 0;
    for (const [a, b] of set.ranges()) {
      while (i < spans.length && spans[i]![1] < a) i++;
      for (let k = i; k < spans.length && spans[k]![0] <= b; k++) {
        const [lo, hi] = spans[k]!;
        if (a > lo) cuts[k]!.push(a);
        if (b < hi) cuts[k]!.push(b + 1);
      }
    }
  }
  const out: RunChange[] = [];
  for (let k = 0; k < spans.length; k++) {
    const [, hi, modseq] = spans[k]!;
    const c = [...new Set(cuts[k]!)].sort((x, y) => x - y);
    for (let j = 0; j < c.length; j++) {
      const a = c[j]!;
      const b = j + 1 < c.length ? c[j + 1]! - 1 : hi;
      out.push({ lo: a, hi: b, flags: [...mf.flagsOf(a)], modseq });
    }
  }
  return out;
}

/**
 * Below this many UIDs, `runChanges` looks each UID up (binary searches)
 * instead of sweeping every range of every flag: a one-message STORE must
 * not cost O(ranges in the mailbox).
 */
const SMALL_CHANGE_UIDS = 1024;

function runChangesByUid(mf: MailboxFlags, spans: ReadonlyArray<readonly [number, number, number]>): RunChange[] {
  const out: RunChange[] = [];
  for (const [lo, hi, modseq] of spans) {
    let cur: RunChange | undefined;
    for (let uid = lo; uid <= hi; uid++) {
      const flags = [...mf.flagsOf(uid)];
      if (cur && cur.flags.length === flags.length && cur.flags.every((f, i) => f === flags[i])) cur.hi = uid;
      else out.push((cur = { lo: uid, hi: uid, flags, modseq }));
    }
  }
  return out;
}

/** Changes of the UIDs with modseq > `since`, as runs. */
export function changesSince(mf: MailboxFlags, since: number): RunChange[] {
  return runChanges(mf, [...mf.modseqs.changedSince(since)]);
}

/** Changes of the runs just updated (all share `modseq`). */
export function changesOf(mf: MailboxFlags, runs: readonly Run[], modseq: number): RunChange[] {
  return runChanges(mf, runs.map(([lo, hi]) => [lo, hi, modseq] as const));
}

/**
 * Expand run changes into per-UID `FlagChange`s (the FlagStore interface
 * form); the UIDs of one run share its flags array. Callers bound the count
 * first (MAX_EXPANDED_UIDS) unless it is bounded by their input.
 */
export function expandChanges(changes: readonly RunChange[]): FlagChange[] {
  const out: FlagChange[] = [];
  for (const c of changes) for (let uid = c.lo; uid <= c.hi; uid++) out.push({ uid, flags: c.flags, modseq: c.modseq });
  return out;
}

/**
 * An UpdateResult whose per-UID `changes` are expanded from `runs` (ascending,
 * no more UIDs than the update named) on first read: a silent STORE of
 * 1:50000 never reads them and so never allocates 50,000 entries.
 */
export function updateResult(modified: number[], runs: readonly RunChange[], modseq: number, highestModseq: number): UpdateResult {
  let changes: FlagChange[] | undefined;
  return {
    modified,
    get changes() {
      return (changes ??= expandChanges(runs));
    },
    modseq,
    highestModseq,
  };
}
