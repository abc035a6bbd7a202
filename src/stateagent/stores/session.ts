/**
 * Session-only flags (client-held model, RFC 1733): nothing is stored beyond
 * the session, PERMANENTFLAGS is `()` (RFC 9051 §7.1). One instance per IMAP
 * session; per mailbox a `MailboxFlags` (range sets + modseq runs).
 */
import { RangeSet } from '../../util/rangeset.js';
import { ModseqMap } from '../modseq-map.js';
import type {
  ChangeEvent, FlagChange, FlagKey, FlagOp, FlagStore, FlagView, UpdateOptions, UpdateResult,
} from '../flagstore.js';

/** Flags of one mailbox as range sets with modseq runs; shared by the in-memory and LMDB stores. */
export class MailboxFlags implements FlagView {
  readonly byFlag = new Map<string, RangeSet>();
  readonly modseqs = new ModseqMap();
  highestModseq = 1;

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

  /**
   * Apply a change. UIDs failing UNCHANGEDSINCE are skipped and returned in
   * `modified`; the rest get one new modseq (even if their flags were already
   * so — RFC 7162 §3.2 lets a server bump it; keeping it simple keeps it correct).
   */
  apply(uids: readonly number[], op: FlagOp, flags: readonly string[], opts: UpdateOptions = {}): UpdateResult {
    const modified: number[] = [];
    let target = uids;
    if (opts.unchangedSince !== undefined) {
      const since = opts.unchangedSince;
      target = uids.filter((u) => {
        const ok = this.modseqs.get(u) <= since;
        if (!ok) modified.push(u);
        return ok;
      });
    }
    if (target.length === 0) return { modified, modseq: this.highestModseq, highestModseq: this.highestModseq };
    const runs = toRuns(target);
    if (op === 'set') {
      for (const [flag, set] of this.byFlag) {
        if (!flags.includes(flag)) for (const [lo, hi] of runs) set.remove(lo, hi);
        if (set.isEmpty()) this.byFlag.delete(flag);
      }
    }
    for (const flag of flags) {
      let set = this.byFlag.get(flag);
      if (op === 'remove') {
        if (!set) continue;
        for (const [lo, hi] of runs) set.remove(lo, hi);
        if (set.isEmpty()) this.byFlag.delete(flag);
      } else {
        if (!set) this.byFlag.set(flag, (set = new RangeSet()));
        for (const [lo, hi] of runs) set.add(lo, hi);
      }
    }
    const modseq = ++this.highestModseq;
    for (const [lo, hi] of runs) this.modseqs.set(lo, hi, modseq);
    return { modified, modseq, highestModseq: modseq };
  }

  changedSince(since: number): FlagChange[] {
    const out: FlagChange[] = [];
    for (const [lo, hi, modseq] of this.modseqs.changedSince(since)) {
      for (let uid = lo; uid <= hi; uid++) out.push({ uid, flags: this.flagsOf(uid), modseq });
    }
    return out;
  }
}

/** Ascending UIDs → runs of consecutive UIDs. */
export function toRuns(uids: readonly number[]): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  for (const u of uids) {
    const last = runs[runs.length - 1];
    if (last && u === last[1] + 1) last[1] = u;
    else runs.push([u, u]);
  }
  return runs;
}

export class SessionFlagStore implements FlagStore {
  readonly persistent = false;
  private readonly mailboxes = new Map<string, MailboxFlags>();
  private readonly subscribed = new Map<string, Set<string>>();

  private of(key: FlagKey): MailboxFlags {
    const k = `${key.mailbox}\0${key.uidValidity}`;
    let m = this.mailboxes.get(k);
    if (!m) this.mailboxes.set(k, (m = new MailboxFlags()));
    return m;
  }

  async view(key: FlagKey): Promise<FlagView> {
    return this.of(key);
  }

  async update(key: FlagKey, uids: readonly number[], op: FlagOp, flags: readonly string[], opts?: UpdateOptions): Promise<UpdateResult> {
    return this.of(key).apply(uids, op, flags, opts);
  }

  async changedSince(key: FlagKey, modseq: number): Promise<FlagChange[]> {
    return this.of(key).changedSince(modseq);
  }

  /** Session-only flags have no other sessions to hear from. */
  watch(_user: string, _fn: (e: ChangeEvent) => void): () => void {
    return () => undefined;
  }

  async subscriptions(user: string): Promise<string[] | null> {
    const s = this.subscribed.get(user);
    return s ? [...s] : null;
  }

  async setSubscribed(user: string, mailbox: string, subscribed: boolean): Promise<void> {
    let s = this.subscribed.get(user);
    if (!s) this.subscribed.set(user, (s = new Set()));
    if (subscribed) s.add(mailbox);
    else s.delete(mailbox);
  }

  async close(): Promise<void> {
    this.mailboxes.clear();
  }
}
