/**
 * Session-only flags (client-held model, RFC 1733): nothing is stored beyond
 * the session, PERMANENTFLAGS is `()` (RFC 9051 §7.1). One instance per IMAP
 * session; per mailbox a RangeSet of UIDs per flag.
 */
import { RangeSet } from '../rangeset.js';
import type { FlagKey, FlagOp, FlagStore, FlagView } from './flagstore.js';

/** Flags of one mailbox as range sets; shared by the session and LMDB stores. */
export class MailboxFlags implements FlagView {
  readonly byFlag = new Map<string, RangeSet>();

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

  apply(uids: readonly number[], op: FlagOp, flags: readonly string[]): void {
    const runs = toRuns(uids);
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

  private of(key: FlagKey): MailboxFlags {
    const k = `${key.mailbox}\0${key.uidValidity}`;
    let m = this.mailboxes.get(k);
    if (!m) this.mailboxes.set(k, (m = new MailboxFlags()));
    return m;
  }

  async view(key: FlagKey): Promise<FlagView> {
    return this.of(key);
  }

  async update(key: FlagKey, uids: readonly number[], op: FlagOp, flags: readonly string[]): Promise<void> {
    this.of(key).apply(uids, op, flags);
  }
}
