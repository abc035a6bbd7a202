/**
 * Session-only flags (client-held model, RFC 1733): nothing is stored beyond
 * the session, PERMANENTFLAGS is `()` (RFC 9051 §7.1). One instance per IMAP
 * session; per mailbox a `MailboxFlags` (mailbox-state.ts). Keywords are kept
 * like system flags (issue 12 #5), within the same limits as the persistent
 * stores (flag names checked by `checkFlags`, MAX_KEYWORDS_PER_MAILBOX):
 * beyond them `update` throws FlagStoreError('INVALID') and changes nothing.
 * UIDs are trusted (the IMAP layer passes them ascending); views are the
 * live objects, which is safe because one session reads what it wrote.
 */
import { expandRuns, toRuns } from '../../util/rangeset.js';
import type {
  ChangeEvent, FlagChange, FlagKey, FlagOp, FlagStore, FlagView, UpdateOptions, UpdateResult,
} from '../flagstore.js';
import { checkFlags } from '../validate.js';
import { applyRuns, changesSince, expandChanges, MailboxFlags, reachedChanges, updateResult } from './mailbox-state.js';

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

  async update(key: FlagKey, uids: readonly number[], op: FlagOp, flags: readonly string[], opts: UpdateOptions = {}): Promise<UpdateResult> {
    const mf = this.of(key);
    const r = applyRuns(mf, toRuns(uids), op, checkFlags(flags), opts.unchangedSince);
    return updateResult(expandRuns(r.modified), reachedChanges(mf, r.reached), r.modseq, r.highestModseq, r.changed.length > 0);
  }

  async changedSince(key: FlagKey, modseq: number): Promise<FlagChange[]> {
    return expandChanges(changesSince(this.of(key), modseq));
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
