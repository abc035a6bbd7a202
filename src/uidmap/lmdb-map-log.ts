/**
 * The assignment log of one mailbox of the LMDB UID map (lmdb.ts, format 2;
 * records: lmdb-log.ts): lookups of entries not folded yet, the fold into
 * byMsgid/byUid (one record a transaction, once the map has been quiet for
 * FOLD_QUIET_MS), and the whole log folded inside a caller's transaction
 * before a removal or a location change.
 *
 * Reads run in the caller's read snapshot or write transaction; `fold`
 * writes through the store (`write`), and its failures are logged (the log
 * stays readable; the next assign or open schedules another fold).
 */
import type { Database } from 'lmdb';
import { FOLD_QUIET_MS, MAX_UID } from './limits.js';
import { encodeLog, LogIndex, LogRecord, readLogEntry } from './lmdb-log.js';
import type { UidEntry } from './types.js';

/** Decoded log records kept for lookups (they come in runs). */
const DECODED_KEPT = 4;

type UidKey = [number, number];

/** What the log needs of the store (LmdbUidMapStore). */
export interface LogStore {
  readonly logDb: Database<Buffer, UidKey>;
  readonly byMsgidDb: Database<number, [number, string]>;
  readonly byUidDb: Database<[string, string, string, number], UidKey>;
  readonly isClosed: boolean;
  guard<T>(what: string, fn: () => T): T;
  write<T>(what: string, fn: () => T): Promise<T>;
  warn(fields: Record<string, unknown>, msg: string): void;
}

export class MapLog {
  /** Message-ID hashes of the log records met (`find`); null until needed. */
  private index: LogIndex | null = null;
  /** Recently decoded log records by first UID (records never change). */
  private readonly decoded = new Map<number, LogRecord>();
  private foldTimer: NodeJS.Timeout | undefined;
  private folding: Promise<void> | null = null;

  constructor(
    private readonly s: LogStore,
    private readonly id: number,
    private readonly mailbox: string,
  ) {}

  /** UIDs in [lo, hi] of the log, ascending. */
  uids(lo: number, hi: number): number[] {
    const out: number[] = [];
    for (const first of this.keys()) {
      if (first > hi) break;
      const r = this.record(first);
      if (r !== undefined) for (const u of r.uids) if (u >= lo && u <= hi) out.push(u);
    }
    return out;
  }

  /** First UIDs of the map's log records, ascending. */
  keys(): number[] {
    const out: number[] = [];
    for (const k of this.s.logDb.getKeys({ start: [this.id, 0], end: [this.id, MAX_UID + 1] })) out.push((k as UidKey)[1]);
    return out;
  }

  /** The log record starting at `first` (decoded, kept among the last few). */
  private record(first: number): LogRecord | undefined {
    let r = this.decoded.get(first);
    if (r !== undefined) {
      this.decoded.delete(first);
      this.decoded.set(first, r);
      return r;
    }
    const b = this.s.logDb.get([this.id, first]);
    if (b === undefined) return undefined;
    r = new LogRecord(b);
    this.decoded.set(first, r);
    if (this.decoded.size > DECODED_KEPT) this.decoded.delete(this.decoded.keys().next().value!);
    return r;
  }

  /** The entry of `uid` in the log, if there. */
  entry(uid: number): UidEntry | undefined {
    const first = this.firstOf(uid);
    if (first === undefined) return undefined;
    const r = this.record(first);
    const i = r === undefined ? -1 : r.indexOf(uid);
    return i < 0 ? undefined : r!.entry(i);
  }

  /**
   * `entry`, reading just that entry of its record when the record is not
   * decoded already (a planner confirming a hash candidate, plan-queue.ts:
   * one entry of a 5,000-entry record is wanted, once).
   */
  peek(uid: number): UidEntry | undefined {
    const first = this.firstOf(uid);
    if (first === undefined) return undefined;
    const r = this.decoded.get(first);
    if (r !== undefined) {
      const i = r.indexOf(uid);
      return i < 0 ? undefined : r.entry(i);
    }
    const b = this.s.logDb.get([this.id, first]);
    return b === undefined ? undefined : readLogEntry(b, uid);
  }

  /** First UID of the log record that would hold `uid`. */
  private firstOf(uid: number): number | undefined {
    let first: number | undefined;
    for (const k of this.s.logDb.getKeys({ start: [this.id, uid], end: [this.id, 0], reverse: true, limit: 1 })) first = (k as UidKey)[1];
    return first;
  }

  /** The entry of `messageId` in the log, if there. */
  find(messageId: string): UidEntry | undefined {
    const keys = this.keys();
    if (keys.length === 0) {
      this.index = null;
      this.decoded.clear();
      return undefined;
    }
    let ix = this.index;
    if (ix === null || ix.covered.size > 2 * keys.length) ix = this.index = new LogIndex(); // mostly folded records: start afresh
    for (const k of keys) {
      if (ix.covered.has(k)) continue;
      const b = this.s.logDb.get([this.id, k]);
      if (b !== undefined) ix.add(k, new LogRecord(b));
    }
    for (const uid of ix.candidates(messageId)) {
      const e = this.entry(uid);
      if (e?.messageId === messageId) return e;
    }
    return undefined;
  }

  /**
   * Inside a write transaction: puts a record of the entries an assign
   * inserted. The lookup table is made at the first `find` (a map filled
   * from empty finds its ids without it, plan-queue.ts); once made, written
   * entries go into it at once, so a later `find` decodes nothing (a
   * transaction that fails leaves entries the table cannot confirm).
   */
  write(entries: readonly UidEntry[]): void {
    const first = entries[0]!.uid;
    this.s.logDb.put([this.id, first], encodeLog(entries));
    this.index?.addEntries(first, entries);
  }

  /** Inside a write transaction: moves one log record's entries into byMsgid/byUid. */
  private foldIn(first: number): void {
    const b = this.s.logDb.get([this.id, first]);
    if (b === undefined) return; // folded already (another process)
    const r = new LogRecord(b);
    for (let i = 0; i < r.length; i++) {
      const e = r.entry(i);
      this.s.byMsgidDb.put([this.id, e.messageId], e.uid);
      this.s.byUidDb.put([this.id, e.uid], [e.messageId, e.location.upstream, e.location.group, e.location.number]);
    }
    this.s.logDb.remove([this.id, first]);
    this.decoded.delete(first);
  }

  /** Inside a write transaction: folds the whole log of the map. */
  foldAllIn(): void {
    for (const k of this.keys()) this.foldIn(k);
  }

  /** Folds the log once no assign has come for FOLD_QUIET_MS (see the file comment). */
  scheduleFold(): void {
    if (this.foldTimer !== undefined) {
      this.foldTimer.refresh();
      return;
    }
    this.foldTimer = setTimeout(() => {
      this.foldTimer = undefined;
      void this.run(true);
    }, FOLD_QUIET_MS);
    this.foldTimer.unref();
  }

  /** Folds every log record of the map, one a transaction; resolves when done (failures are logged). */
  fold(): Promise<void> {
    return this.run(false);
  }

  /** Folds after the folds under way; `quiet`: stops when an assign comes meanwhile (its timer folds later). */
  private run(quiet: boolean): Promise<void> {
    const p: Promise<void> = (this.folding ?? Promise.resolve()).then(() => this.foldAll(quiet));
    this.folding = p;
    void p.finally(() => {
      if (this.folding === p) this.folding = null;
    });
    return p;
  }

  private async foldAll(quiet: boolean): Promise<void> {
    try {
      for (;;) {
        if (this.s.isClosed || (quiet && this.foldTimer !== undefined)) return;
        const first = this.s.guard('fold', () => this.keys()[0]);
        if (first === undefined) {
          this.index = null; // nothing left to find in the log
          this.decoded.clear();
          return;
        }
        await this.s.write('fold', () => this.foldIn(first));
      }
    } catch (err) {
      if (!this.s.isClosed) this.s.warn({ mailbox: this.mailbox, err: (err as Error).message }, 'UID map: folding the log failed (retried at the next assign or open)');
    }
  }
}
