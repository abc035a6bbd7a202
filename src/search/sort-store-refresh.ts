/**
 * When the writer thread computes the stored SORT/THREAD answers
 * (sort-store.ts): a mailbox a batch touched is marked, and once no batch
 * has moved its version (membership) for `quietMs` its answers are computed
 * again, one mailbox at a time, between batches (the thread is niced:
 * worker.ts).
 *
 * A mailbox whose answers were stored complete is computed again at most
 * every `minIntervalMs` (a group where articles arrive every few minutes
 * would otherwise cost ~1 s of this thread per 100k members each time;
 * meanwhile its first SORT/THREAD derives the keys, as before, and keeps
 * them up to date as articles arrive).
 *
 * Nothing is computed when the stored answers are already complete for the
 * mailbox's current version (`catchUp` at start marks those not looked at) (an in-place upgrade or a body moved nothing),
 * nor for a mailbox of more than `maxMembers` members: deriving its keys
 * takes memory in proportion (~0.5 KB a member while it runs), which the
 * process's bound does not allow for every size; such a mailbox's first
 * SORT/THREAD derives them as before.
 */
import type { Db } from './db.js';
import { computeSortStore, SORT_STORE_FORMAT, STORED_ORDERS, STORED_THREADS, writeSortStore } from './sort-store.js';

/** A mailbox's answers are computed once no write touched it for this long (ms). */
export const SORT_STORE_QUIET_MS = 10_000;

/** A mailbox's answers stored complete are computed again at most this often (ms). */
export const SORT_STORE_MIN_INTERVAL_MS = 300_000;

/**
 * A mailbox whose answers could not all be stored is computed again at most
 * this often (ms): during a crawl, in-place writes that may make it exact
 * arrive every few hundred ms, and each computation costs ~1 s per 100k members.
 */
export const SORT_STORE_RETRY_MS = 60_000;

/** Largest mailbox whose answers are computed ahead (members). */
export const SORT_STORE_MAX_MEMBERS = 300_000;

export interface RefresherOptions {
  quietMs?: number;
  minIntervalMs?: number;
  maxMembers?: number;
  /** Called with each mailbox refreshed and whether answers were stored (tests, logs). */
  onRefresh?: (mailbox: string, uidValidity: number, stored: boolean) => void;
}

export class SortStoreRefresher {
  /** `uidValidity \0 name` → time of the last write that touched it. */
  private readonly dirty = new Map<string, number>();
  /** Key → the mailbox's version at its last touch (`touched`). */
  private readonly versions = new Map<string, number>();
  /** Key → when its answers were last computed and could not all be stored (inexact values, unknown In-Reply-To). */
  private readonly incomplete = new Map<string, number>();
  /** Key → when its answers were last stored complete. */
  private readonly complete = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private readonly quietMs: number;
  private readonly minIntervalMs: number;
  private readonly maxMembers: number;
  private closed = false;

  constructor(private readonly db: Db, private readonly opts: RefresherOptions = {}) {
    this.quietMs = opts.quietMs ?? SORT_STORE_QUIET_MS;
    this.minIntervalMs = opts.minIntervalMs ?? SORT_STORE_MIN_INTERVAL_MS;
    this.maxMembers = opts.maxMembers ?? SORT_STORE_MAX_MEMBERS;
  }

  /**
   * A write touched `mailbox` (its answers may have changed; called after
   * the write). The quiet clock runs from the last write that moved the
   * mailbox's version (membership): in-place writes (a crawl upgrading
   * overview documents to whole headers, bodies) leave it running, so a
   * group whose bodies are being crawled for minutes gets its answers
   * `quietMs` after its last arrival, not after the crawl (when clients
   * come).
   */
  touched(mailbox: string, uidValidity: number): void {
    if (this.closed) return;
    const key = `${uidValidity}\0${mailbox}`;
    const version = this.mailbox(mailbox, uidValidity)?.[1];
    const since = this.dirty.get(key);
    if (since !== undefined && version !== undefined && this.versions.get(key) === version) return; // in place: the clock runs on
    if (version !== undefined) this.versions.set(key, version);
    else this.versions.delete(key);
    this.dirty.delete(key);
    this.dirty.set(key, Date.now());
    this.arm(this.quietMs);
  }

  /**
   * Marks every mailbox not looked at for its current version (an index
   * written before stored answers existed, or by a process that stopped
   * before they were computed): called once when the writer opens.
   */
  catchUp(): void {
    const rows = this.db
      .prepare(
        `SELECT m.name, m.uid_validity FROM mailboxes m
         WHERE NOT EXISTS (SELECT 1 FROM sort_store s WHERE s.mbid = m.mbid AND s.name = 'uids' AND s.version = m.version AND s.format = ?)`,
      )
      .raw()
      .all([SORT_STORE_FORMAT]) as [string, number][];
    for (const [mailbox, uidValidity] of rows) this.touched(mailbox, uidValidity);
  }

  /** Stops: nothing more is computed (the connection is about to close). */
  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.dirty.clear();
  }

  private arm(ms: number): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.step();
    }, ms);
    this.timer.unref();
  }

  /** Computes the first mailbox quiet long enough; sets the timer again for the rest. */
  private step(): void {
    if (this.closed) return;
    const now = Date.now();
    let wait = Infinity;
    for (const [key, at] of this.dirty) {
      const left = Math.max(at + this.quietMs, (this.complete.get(key) ?? -Infinity) + this.minIntervalMs, (this.incomplete.get(key) ?? -Infinity) + SORT_STORE_RETRY_MS) - now;
      if (left > 0) {
        wait = Math.min(wait, left);
        continue;
      }
      this.dirty.delete(key);
      const cut = key.indexOf('\0');
      const mailbox = key.slice(cut + 1);
      const uidValidity = Number(key.slice(0, cut));
      let stored = false;
      try {
        stored = this.refresh(mailbox, uidValidity);
        if (this.isComplete(mailbox, uidValidity)) {
          this.complete.set(key, Date.now());
          this.incomplete.delete(key);
        } else {
          this.complete.delete(key);
          this.incomplete.set(key, Date.now());
        }
      } catch {
        // the stored answers are a cache: a failure leaves the old ones, valid or ignored by their version
      }
      this.opts.onRefresh?.(mailbox, uidValidity, stored);
      // one mailbox per turn: the batches waiting run first
      if (this.dirty.size > 0) this.arm(0);
      return;
    }
    if (wait !== Infinity) this.arm(wait);
  }

  /** The mailbox generation's id and version, if it is indexed. */
  private mailbox(mailbox: string, uidValidity: number): [number, number] | undefined {
    return this.db.prepare('SELECT mbid, version FROM mailboxes WHERE name = ? AND uid_validity = ?').raw().get([mailbox, uidValidity]) as
      | [number, number]
      | undefined;
  }

  /** Whether every answer is stored for the mailbox's current version. */
  private isComplete(mailbox: string, uidValidity: number): boolean {
    const mb = this.mailbox(mailbox, uidValidity);
    if (mb === undefined) return false;
    const have = this.db.prepare('SELECT count(*), min(version), max(version), min(format) FROM sort_store WHERE mbid = ?').raw().get([mb[0]]) as (number | null)[];
    return have[0] === 1 + STORED_ORDERS.length + STORED_THREADS.length && have[1] === mb[1] && have[2] === mb[1] && have[3] === SORT_STORE_FORMAT;
  }

  /** Computes and stores the answers of one mailbox now; whether answers are stored for its current version. */
  refresh(mailbox: string, uidValidity: number): boolean {
    const mb = this.mailbox(mailbox, uidValidity);
    if (mb === undefined) return false;
    const [mbid, version] = mb;
    if (this.isComplete(mailbox, uidValidity)) return true;
    const members = (this.db.prepare('SELECT count(*) FROM members WHERE mbid = ?').raw().get([mbid]) as [number])[0];
    const stmt = (sql: string) => this.db.prepare(sql).raw();
    const rows = members > 0 && members <= this.maxMembers ? computeSortStore(stmt, mbid) : undefined;
    this.db.exec('BEGIN IMMEDIATE');
    try {
      writeSortStore(this.db, mbid, version, rows);
      this.db.exec('COMMIT');
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
    return rows !== undefined;
  }
}
