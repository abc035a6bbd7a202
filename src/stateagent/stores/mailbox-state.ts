/**
 * `MailboxFlags`: the in-memory form of one mailbox's flags, shared by every
 * store (session, LMDB, the remote client's view cache) and the agent — one
 * RangeSet per flag, a ModseqMap, HIGHESTMODSEQ. Changes are applied as UID
 * runs (`applyRuns`), so `1-4000000000` never becomes an array, and read back
 * as runs of equal flags (`RunChange`). (The on-disk form is chunks.ts.)
 *
 * Semantics of a change (RFC 7162 §3.1.3, §3.2): UNCHANGEDSINCE skips UIDs
 * whose modseq is greater (0 always fails: every UID has modseq ≥ 1); of the
 * other target UIDs ("reached"), those whose flags the change alters get one
 * new modseq; those already so keep theirs, and a change that alters no UID
 * takes no modseq at all (HIGHESTMODSEQ stays, nothing is written or
 * notified: docs/agent-api.md). `set` replaces, `add`/`remove` add and
 * remove; a flag no UID has any more disappears from `keywords()`.
 */
import { RangeSet, intersectRuns, subtractRuns, unionRuns, type Run } from '../../util/rangeset.js';
import { FlagStoreError, type FlagChange, type FlagOp, type FlagRun, type FlagView, type UpdateResult } from '../flagstore.js';
import { MAX_EXPANDED_UIDS, MAX_KEYWORDS_PER_MAILBOX } from '../limits.js';
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

  flagRuns(lo: number, hi: number): FlagRun[] {
    return hi < lo ? [] : runChanges(this, [[lo, hi, 0]]).map(({ lo: a, hi: b, flags }) => ({ lo: a, hi: b, flags }));
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
  /** Target runs not in `modified`: the UIDs the update reached (changed or already so). */
  reached: Run[];
  /** The runs of `reached` whose flags changed (all with `modseq`); empty: nothing changed. */
  changed: Run[];
  /** The new modseq, or the unchanged HIGHESTMODSEQ when `changed` is empty. */
  modseq: number;
  highestModseq: number;
}

/**
 * The runs of `target` whose flags `op` with `flags` would alter: for `add`,
 * UIDs lacking one of the flags; for `remove`, UIDs having one; for `set`,
 * both of those plus UIDs having a flag not named. Cost: O(target runs +
 * the flags' ranges inside the target's span), never O(UIDs).
 */
function alteredRuns(mf: MailboxFlags, target: readonly Run[], op: FlagOp, flags: readonly string[]): Run[] {
  if (target.length === 0) return [];
  const lo = target[0]![0];
  const hi = target[target.length - 1]![1];
  const within = (flag: string): Run[] => mf.byFlag.get(flag)?.rangesIn(lo, hi) ?? [];
  let out: Run[] = [];
  if (op !== 'remove') for (const f of flags) out = unionRuns(out, subtractRuns(target, within(f)));
  if (op === 'remove') for (const f of flags) out = unionRuns(out, intersectRuns(target, within(f)));
  if (op === 'set') {
    for (const f of mf.byFlag.keys()) if (!flags.includes(f)) out = unionRuns(out, intersectRuns(target, within(f)));
  }
  return out;
}

/**
 * Apply `op` with `flags` to the UIDs of `runs` (sorted, disjoint) in place
 * (semantics in the file comment). Throws `FlagStoreError('INVALID')` before
 * changing anything if the change would exceed MAX_KEYWORDS_PER_MAILBOX.
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
  const changed = alteredRuns(mf, target, op, flags);
  if (changed.length === 0) {
    return { modified, reached: target, changed, modseq: mf.highestModseq, highestModseq: mf.highestModseq };
  }
  if (op !== 'remove') {
    let fresh = 0;
    for (const f of flags) if (!mf.byFlag.has(f)) fresh++;
    if (mf.byFlag.size + fresh > MAX_KEYWORDS_PER_MAILBOX) {
      throw new FlagStoreError('INVALID', `a mailbox holds at most ${MAX_KEYWORDS_PER_MAILBOX} distinct flags`);
    }
  }
  // Applying the op to `changed` alone gives the same flags as applying it to all of `target`.
  if (op === 'set') {
    for (const [flag, set] of mf.byFlag) {
      if (!flags.includes(flag)) for (const [lo, hi] of changed) set.remove(lo, hi);
      if (set.isEmpty()) mf.byFlag.delete(flag);
    }
  }
  for (const flag of flags) {
    let set = mf.byFlag.get(flag);
    if (op === 'remove') {
      if (!set) continue;
      for (const [lo, hi] of changed) set.remove(lo, hi);
      if (set.isEmpty()) mf.byFlag.delete(flag);
    } else {
      if (!set) mf.byFlag.set(flag, (set = new RangeSet()));
      for (const [lo, hi] of changed) set.add(lo, hi);
    }
  }
  const modseq = ++mf.highestModseq;
  for (const [lo, hi] of changed) mf.modseqs.set(lo, hi, modseq);
  return { modified, reached: target, changed, modseq, highestModseq: modseq };
}

/**
 * The UIDs of `spans` (sorted, disjoint) cut into runs of equal flags, each
 * with its span's modseq. A run ends exactly where some flag's range starts
 * or ends, so neighbouring runs differ. Cost per span: a binary search and
 * the ranges inside it, per flag — O(flags · (log ranges + ranges in the
 * span)), never O(UIDs) and never O(ranges of the whole mailbox).
 */
export function runChanges(mf: MailboxFlags, spans: ReadonlyArray<readonly [number, number, number]>): RunChange[] {
  const out: RunChange[] = [];
  const cuts: number[] = [];
  for (const [lo, hi, modseq] of spans) {
    cuts.length = 0;
    cuts.push(lo);
    for (const set of mf.byFlag.values()) {
      for (const [a, b] of set.rangesIn(lo, hi)) {
        if (a > lo) cuts.push(a);
        if (b < hi) cuts.push(b + 1);
      }
    }
    if (cuts.length > 2) cuts.sort((x, y) => x - y);
    for (let j = 0; j < cuts.length; j++) {
      const a = cuts[j]!;
      if (j > 0 && a === cuts[j - 1]) continue;
      let k = j + 1;
      while (k < cuts.length && cuts[k] === a) k++;
      const b = k < cuts.length ? cuts[k]! - 1 : hi;
      out.push({ lo: a, hi: b, flags: [...mf.flagsOf(a)], modseq });
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

/** The current flags and modseqs of the UIDs of `runs` (sorted, disjoint): what an update reached. */
export function reachedChanges(mf: MailboxFlags, runs: readonly Run[]): RunChange[] {
  const spans: Array<[number, number, number]> = [];
  for (const [lo, hi] of runs) {
    let at = lo;
    for (const [a, b, ms] of mf.modseqs.runsIn(lo, hi)) {
      if (a > at) spans.push([at, a - 1, 1]);
      spans.push([a, b, ms]);
      at = b + 1;
    }
    if (at <= hi) spans.push([at, hi, 1]);
  }
  return runChanges(mf, spans);
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

/** `expandChanges`, refusing absurd sizes with INVALID (see MAX_EXPANDED_UIDS) instead of running out of memory. */
export function expandBounded(changes: readonly RunChange[]): FlagChange[] {
  let n = 0;
  for (const c of changes) n += c.hi - c.lo + 1;
  if (n > MAX_EXPANDED_UIDS) throw new FlagStoreError('INVALID', `change set of ${n} UIDs is too large to list`);
  return expandChanges(changes);
}

/**
 * An UpdateResult whose per-UID `changes` are expanded from `runs` (ascending,
 * no more UIDs than the update named) on first read: a silent STORE of
 * 1:50000 never reads them and so never allocates 50,000 entries.
 */
export function updateResult(
  modified: number[], runs: readonly RunChange[], modseq: number, highestModseq: number, bumped: boolean,
): UpdateResult {
  let changes: FlagChange[] | undefined;
  return {
    modified,
    get changes() {
      return (changes ??= expandChanges(runs));
    },
    modseq,
    highestModseq,
    bumped,
  };
}
