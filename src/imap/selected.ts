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
import type { FlagChange, UpdateResult } from '../stateagent/flagstore.js';
import { lowerBound } from '../util/sorted.js';

export interface PendingUpdates {
  /** Sequence numbers to announce as EXPUNGE, in the order to send them. */
  expunged: number[];
  /** UIDs that vanished (for VANISHED with QRESYNC). */
  vanishedUids: number[];
  /** New message count to announce as EXISTS, if it changed. */
  exists: number | null;
}

/** What the change feed tells of one mailbox (a ChangeEvent's part that matters here). */
export interface FlagEvent {
  /** The modseq all `changes` share, when the store knows they do (one update's change). */
  readonly modseq?: number;
  readonly changes: readonly FlagChange[];
}

/**
 * Own modseqs remembered per selected mailbox; beyond this the set starts
 * again (a change of this session older than thousands of its own is long
 * announced or filtered).
 */
const OWN_MODSEQS = 10_000;

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

  /** Flag changes made by the user's other sessions, not yet announced (the newest per UID). */
  private readonly flagChanges = new Map<number, FlagChange>();
  /** Modseqs this session produced itself: the change feed's copies of them are not announced. */
  private readonly ownModseqs = new Set<number>();
  /** This session's updates still running, and the feed's changes held until they are done. */
  private ownRunning = 0;
  private held: FlagEvent[] = [];

  /** Highest modseq this session has heard of from others (or saw at SELECT): where a resync starts. */
  knownModseq = 1;
  /** The result of the last SEARCH/SORT with RETURN (SAVE), as UIDs ascending (RFC 5182 `$`); reset by selecting. */
  saved: Uint32Array | undefined;

  /** Keywords the client has been told of in FLAGS, in the order told (system flags are always known). */
  private readonly told = new Set<string>();

  /**
   * Note the keywords among `flags` (system flags, with `\`, are skipped).
   * True when one of them is new to the client: it must get FLAGS again
   * before a FETCH shows it (RFC 9051 §7.3.5; updates.ts `flagsLines`).
   */
  learnKeywords(flags: Iterable<string>): boolean {
    let fresh = false;
    for (const f of flags) {
      if (f.startsWith('\\') || this.told.has(f)) continue;
      this.told.add(f);
      fresh = true;
    }
    return fresh;
  }

  /** The keywords the client knows, in the order it learnt them. */
  get keywords(): readonly string[] {
    return [...this.told];
  }

  /**
   * Run one of this session's own flag updates of this mailbox. A store may
   * tell its watchers of the change before `update` resolves (LMDB does, in
   * the same turn; the agent's feed may overtake the HTTP answer) or after:
   * changes that arrive meanwhile are held until the update's modseq is
   * known, so the feed's copy of this session's own change is never
   * announced back to it (issue 12 #4). `reported`: the caller sends the
   * changed messages' FLAGS itself (non-silent STORE, FETCH setting \Seen);
   * then another session's older change still waiting for those UIDs is
   * dropped, else it is replaced by the newer state this update left. Rejects
   * as `update` does (held changes are then released as they are).
   */
  async own(update: () => Promise<UpdateResult>, reported: boolean): Promise<UpdateResult> {
    this.ownRunning++;
    let r: UpdateResult;
    try {
      r = await update();
      if (r.bumped) {
        if (this.ownModseqs.size >= OWN_MODSEQS) this.ownModseqs.clear();
        this.ownModseqs.add(r.modseq);
      }
    } finally {
      if (--this.ownRunning === 0) {
        const held = this.held;
        this.held = [];
        for (const e of held) this.noteFlagEvent(e);
      }
    }
    if (this.flagChanges.size > 0 && r.changes.length > 0) this.supersede(r, reported);
    return r;
  }

  /** Waiting changes of UIDs that `r` changed later: dropped when reported, else replaced by r's state. */
  private supersede(r: UpdateResult, reported: boolean): void {
    const mine = r.changes;
    for (const [uid, c] of this.flagChanges) {
      if (c.modseq >= r.modseq) continue;
      let lo = 0;
      let hi = mine.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (mine[mid]!.uid < uid) lo = mid + 1;
        else hi = mid;
      }
      const m = mine[lo];
      if (m?.uid !== uid) continue;
      if (reported) this.flagChanges.delete(uid); // the caller sends the UID's current flags
      else if (m.modseq === r.modseq) this.flagChanges.set(uid, m); // changed by r: its state is newer
    }
  }

  /**
   * Record a change event of this mailbox from the feed; this session's own
   * are left out. When the event says all its changes share one modseq
   * (`modseq`), an own event is dropped without reading `changes`, which a
   * store may list only on first read (a STORE of 1:50000 is one run).
   */
  noteFlagEvent(e: FlagEvent): void {
    if (this.ownRunning > 0) {
      this.held.push(e);
      return;
    }
    if (e.modseq !== undefined && this.ownModseqs.has(e.modseq)) {
      if (e.modseq > this.knownModseq) this.knownModseq = e.modseq;
      return;
    }
    this.noteFlagChanges(e.changes);
  }

  /** Record changes from the change feed or a resync; this session's own are left out. */
  noteFlagChanges(changes: readonly FlagChange[]): void {
    if (this.ownRunning > 0) {
      this.held.push({ changes });
      return;
    }
    let any = false;
    for (const c of changes) {
      if (c.modseq > this.knownModseq) this.knownModseq = c.modseq;
      if (this.ownModseqs.has(c.modseq)) continue;
      const old = this.flagChanges.get(c.uid);
      if (old && old.modseq >= c.modseq) continue;
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
