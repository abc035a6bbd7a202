/**
 * The selected-state view of one session: which snapshot of the mailbox the
 * client knows (its sequence numbers), and the updates it has not been told.
 *
 * The UID array is the shared, immutable snapshot; a session adds only a few
 * numbers of its own (invariant 7). Updates are taken at safe points:
 * EXISTS may be sent after any command, EXPUNGE only where RFC 9051 §7.5.1
 * allows it (not while answering FETCH, STORE or SEARCH by sequence number).
 * When expunges must wait, the session keeps its old snapshot whole.
 */
import type { MailboxHandle, MailboxSnapshot } from '../export/interface.js';
import type { FlagChange } from '../stateagent/flagstore.js';
import { lowerBound } from '../util/sorted.js';

export interface PendingUpdates {
  /** Sequence numbers to announce as EXPUNGE, in the order to send them. */
  expunged: number[];
  /** UIDs that vanished (for VANISHED with QRESYNC). */
  vanishedUids: number[];
  /** New message count to announce as EXISTS, if it changed. */
  exists: number | null;
}


export class SelectedMailbox {
  private known: MailboxSnapshot;
  private latest: MailboxSnapshot;
  private readonly unsubscribe: () => void;

  constructor(
    readonly handle: MailboxHandle,
    readonly readOnly: boolean,
  ) {
    this.known = handle.current();
    this.latest = this.known;
    this.unsubscribe = handle.onChange((s) => {
      this.latest = s;
      this.onChange?.();
    });
  }

  /** Set by the connection (IDLE) to learn that updates are waiting. */
  onChange: (() => void) | undefined;

  /** Flag changes made by the user's other sessions, not yet announced. */
  private readonly flagChanges = new Map<number, FlagChange>();
  /** Modseqs this session produced itself (their changes were already reported to it). */
  private readonly ownModseqs = new Set<number>();

  /** Highest modseq this session has heard of from others (or saw at SELECT): where a resync starts. */
  knownModseq = 1;
  /** The result of the last SEARCH/SORT with RETURN (SAVE), as UIDs ascending (RFC 5182 `$`); reset by selecting. */
  saved: Uint32Array | undefined;

  noteOwnModseq(modseq: number): void {
    this.ownModseqs.add(modseq);
    if (this.ownModseqs.size > 10_000) this.ownModseqs.clear();
  }

  /** Record changes from another session (the change feed). */
  noteFlagChanges(changes: readonly FlagChange[]): void {
    let any = false;
    for (const c of changes) {
      this.knownModseq = Math.max(this.knownModseq, c.modseq);
      if (this.ownModseqs.has(c.modseq)) continue;
      this.flagChanges.set(c.uid, c);
      any = true;
    }
    if (any) this.onChange?.();
  }

  /** Flag changes to announce as unsolicited FETCH, for messages the client knows. */
  takeFlagChanges(): Array<{ seq: number; change: FlagChange }> {
    const out: Array<{ seq: number; change: FlagChange }> = [];
    for (const c of this.flagChanges.values()) {
      const seq = this.seqOf(c.uid);
      if (seq > 0) out.push({ seq, change: c });
    }
    this.flagChanges.clear();
    return out.sort((a, b) => a.seq - b.seq);
  }

  get name(): string {
    return this.handle.name;
  }
  get uidValidity(): number {
    return this.known.uidValidity;
  }
  get uidNext(): number {
    return Math.max(this.known.uidNext, (this.uids[this.uids.length - 1] ?? 0) + 1);
  }
  get uids(): Uint32Array {
    return this.known.uids;
  }
  get exists(): number {
    return this.known.uids.length;
  }

  /** UID of sequence number `seq` (1-based). */
  uidAt(seq: number): number {
    return this.known.uids[seq - 1]!;
  }

  /** Sequence number of `uid`, or 0 if the session does not know it. */
  seqOf(uid: number): number {
    const i = lowerBound(this.known.uids, uid);
    return this.known.uids[i] === uid ? i + 1 : 0;
  }

  hasSnapshotUpdate(): boolean {
    return this.latest !== this.known;
  }

  hasUpdates(): boolean {
    return this.latest !== this.known || this.flagChanges.size > 0;
  }

  /**
   * Move to the latest snapshot if allowed and say what the client must be told.
   * With `allowExpunge` false and articles gone, nothing moves (all waits).
   */
  takeUpdates(allowExpunge: boolean): PendingUpdates {
    const none: PendingUpdates = { expunged: [], vanishedUids: [], exists: null };
    if (this.latest === this.known) return none;
    const old = this.known.uids;
    const now = this.latest.uids;
    if (this.latest.uidValidity !== this.known.uidValidity) {
      // A new UIDVALIDITY cannot be announced in selected state; the connection ends the session.
      throw new UidValidityChanged(this.known.uidValidity, this.latest.uidValidity);
    }
    const vanishedUids: number[] = [];
    let j = 0;
    for (let i = 0; i < old.length; i++) {
      const u = old[i]!;
      while (j < now.length && now[j]! < u) j++;
      if (now[j] !== u) vanishedUids.push(u);
    }
    if (vanishedUids.length > 0 && !allowExpunge) return none;
    // Announce from the highest sequence number down, so each number is still valid when read.
    const expunged: number[] = [];
    for (let k = vanishedUids.length - 1; k >= 0; k--) expunged.push(lowerBound(old, vanishedUids[k]!) + 1);
    const before = old.length;
    this.known = this.latest;
    return { expunged, vanishedUids, exists: now.length > before - vanishedUids.length ? now.length : null };
  }

  close(): void {
    this.unsubscribe();
    this.handle.release();
  }
}

export class UidValidityChanged extends Error {
  readonly code = 'UIDVALIDITY_CHANGED';
  constructor(
    readonly from: number,
    readonly to: number,
  ) {
    super(`UIDVALIDITY changed from ${from} to ${to}`);
  }
}
