/**
 * UidMapStore on LMDB (lmdb-js v3): one environment per store, shared safely
 * by several processes on one machine (DESIGN "Scale").
 *
 * Layout (sub-databases, ordered-binary keys, msgpack array values):
 *   store      'format' → 2, 'lastUidValidity' → n, 'lastMailboxId' → n
 *   mailboxes  mailbox name → [mailboxId, uidValidity, uidNext, count]
 *   byMsgid    [mailboxId, messageId] → uid
 *   byUid      [mailboxId, uid] → [messageId, upstream, group, number]
 *   log        [mailboxId, first uid] → one assign batch's inserted entries (binary, lmdb-log.ts)
 * A small integer mailbox id keeps keys short; [id, uid] keys sort by UID, so
 * `uids(lo, hi)` walks a key range and never loads a whole mailbox.
 *
 * An `assign` batch's new entries are one `log` record (one put, not two an
 * article: a first SELECT waits for it); once the map has been quiet for
 * FOLD_QUIET_MS, records are folded into byMsgid/byUid, one a transaction.
 * Every read looks in both (an entry is in exactly one); a removal or a
 * location change folds the map's whole log first, in its own transaction.
 * Format 1 (no log) is format 2 with an empty log: opening one upgrades the
 * format number; a build that reads format 1 only refuses the store after
 * that (stop older processes sharing a store before starting this build).
 *
 * Concurrency: every change runs as one LMDB write transaction (the writer
 * lock is process-shared); the current UIDNEXT and count are re-read inside
 * it, and a batch planned before it (in memory, on what this process's queued
 * batches leave: plan-queue.ts) is written only when they are exactly what the
 * plan stood on, else planned again on the stored entries; so two processes
 * assigning at once can give one Message-ID only one UID and one UID only one
 * Message-ID. `assign` calls may overlap and are applied in call order.
 * Reads use lmdb-js's shared read snapshot, renewed every event turn, so a
 * change committed by another process is seen from the next turn on.
 *
 * Durability: `assign`, `remove` and the creation of a map resolve only after
 * the transaction is committed and flushed to disk. UIDVALIDITY: see
 * `uidvalidity.ts` (side file `<path>.uidvalidity`).
 *
 * Errors: `UidMapError` (`INVALID_INPUT`, `UID_EXHAUSTED`, `UIDVALIDITY_EXHAUSTED`,
 * `CLOSED`); anything thrown by LMDB is wrapped as `STORAGE` with `cause`.
 * The caller owns the store and must `close()` it; maps opened from it become
 * unusable (`CLOSED`) then.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { open as openLmdb, type Database, type RootDatabase } from 'lmdb';
import type { Logger } from '../util/log.js';
import { UidMapError } from './errors.js';
import { planAssign } from './plan.js';
import { type MapState, PlanQueue } from './plan-queue.js';
import { MapLog } from './lmdb-map-log.js';
import type { CheckedBatch, MailboxUidMap, SeenArticle, UidEntry, UidMapStore } from './types.js';
import { type Clock, nextUidValidity, readSideFile, systemClock, writeSideFile } from './uidvalidity.js';
import { checkArticles, checkMailbox, checkRange, checkUids, isStorableMessageId, isUid } from './validate.js';

/** On-disk layout version; bump when the layout above changes. */
const FORMAT = 2;
/** Older layouts opened and upgraded in place (see the file comment). */
const UPGRADES = new Set([1]);

export interface LmdbUidMapStoreOptions {
  /** Path of the LMDB data file (its lock file is `<path>-lock`); parent directories are created. */
  path: string;
  logger: Logger;
  /** Clock for new UIDVALIDITYs (unix seconds); defaults to the system clock. */
  now?: Clock;
}

/** [mailboxId, uidValidity, uidNext, count] */
type MailboxRecord = [number, number, number, number];
/** [messageId, upstream, group, number] */
type UidRecord = [string, string, string, number];
type IdKey = [number, string];
type UidKey = [number, number];

function toEntry(uid: number, r: UidRecord): UidEntry {
  return { uid, messageId: r[0], location: { upstream: r[1], group: r[2], number: r[3] } };
}

function toRecord(e: UidEntry): UidRecord {
  return [e.messageId, e.location.upstream, e.location.group, e.location.number];
}

/**
 * Two ascending UID sequences merged, each UID once (`a` is read lazily, in
 * a later snapshot maybe: a UID folded meanwhile is in both).
 */
function* mergeAscending(a: Iterable<number>, b: readonly number[]): Generator<number> {
  let j = 0;
  for (const x of a) {
    while (j < b.length && b[j]! < x) yield b[j++]!;
    if (j < b.length && b[j] === x) j++;
    yield x;
  }
  while (j < b.length) yield b[j++]!;
}

function storageError(what: string, err: unknown): UidMapError {
  if (err instanceof UidMapError) return err;
  return new UidMapError('STORAGE', `${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

class LmdbMailboxUidMap implements MailboxUidMap {
  private readonly queue = new PlanQueue();
  readonly pipelined = { failures: (): number => this.queue.failures };
  /** @internal */ readonly log: MapLog;

  constructor(
    readonly mailbox: string,
    private readonly id: number,
    readonly uidValidity: number,
    private readonly s: LmdbUidMapStore,
  ) {
    this.log = new MapLog(s, id, mailbox);
  }

  /** The mailbox record, checked to still be this map (same id). Throws STORAGE if it vanished. */
  private record(): MailboxRecord {
    const rec = this.s.mailboxesDb.get(this.mailbox);
    if (rec === undefined || rec[0] !== this.id) {
      throw new UidMapError('STORAGE', `UID map of ${this.mailbox} vanished from the store`);
    }
    return rec;
  }

  uidNext(): number {
    this.s.assertOpen();
    return this.record()[2];
  }

  count(): number {
    this.s.assertOpen();
    return this.record()[3];
  }

  private known = (messageId: string): UidEntry | undefined => {
    const uid = this.s.byMsgidDb.get([this.id, messageId]);
    if (uid === undefined) return this.log.find(messageId);
    const r = this.s.byUidDb.get([this.id, uid]);
    return r === undefined ? undefined : toEntry(uid, r);
  };

  /** The stored entry of `uid` (a planner's look: an entry of the log is read alone). */
  private knownUid = (uid: number): UidEntry | undefined => {
    const r = this.s.byUidDb.get([this.id, uid]);
    return r === undefined ? this.log.peek(uid) : toEntry(uid, r);
  };

  /** No entry can be found while the mailbox holds none: a first ingest reads nothing per Message-ID. */
  private lookupIn(rec: MailboxRecord): (messageId: string) => UidEntry | undefined {
    return rec[3] === 0 ? () => undefined : this.known;
  }

  /** Calls may overlap (`pipelined`; see plan-queue.ts): each is planned on what the queued ones leave. */
  async assign(given: readonly SeenArticle[] | CheckedBatch, primary: boolean): Promise<number[]> {
    let articles: readonly SeenArticle[];
    try {
      this.s.assertOpen();
      articles = checkArticles(given);
    } catch (err) {
      this.queue.failures++;
      throw err;
    }
    const isPrimary = primary === true;
    const stored = (): MapState => {
      const rec = this.record();
      return { uidNext: rec[2], count: rec[3] };
    };
    const t = this.queue.plan(articles, isPrimary, stored, this.known, this.knownUid);
    if (!('epoch' in t)) return t.uids; // a re-poll of known articles at known locations: no write at all
    this.log.scheduleFold(); // from now: a quiet fold under way stops (and again once written)
    let ok = false;
    try {
      const uids = await this.s.write('assign', () => {
        try {
          const rec = this.record();
          const plan = this.queue.decide(t, { uidNext: rec[2], count: rec[3] }, () => planAssign(articles, isPrimary, rec[2], this.lookupIn(rec)));
          if (plan.inserts.length > 0) this.log.write(plan.inserts);
          if (plan.moves.length > 0) this.log.foldAllIn(); // a moved entry may sit in the log
          for (const e of plan.moves) this.s.byUidDb.put([this.id, e.uid], toRecord(e));
          if (plan.inserts.length > 0) this.s.mailboxesDb.put(this.mailbox, [this.id, rec[1], plan.uidNext, rec[3] + plan.inserts.length]);
          return plan.uids;
        } catch (err) {
          t.failed = true; // now: the batches queued behind it may run in this same transaction
          throw err;
        }
      });
      ok = true;
      this.log.scheduleFold();
      return uids;
    } finally {
      this.queue.settle(t, ok);
    }
  }

  uidOf(messageId: string): number | undefined {
    this.s.assertOpen();
    if (!isStorableMessageId(messageId)) return undefined;
    return this.s.guard('uidOf', () => this.s.byMsgidDb.get([this.id, messageId]) ?? this.log.find(messageId)?.uid);
  }

  lookup(uid: number): UidEntry | undefined {
    this.s.assertOpen();
    if (!isUid(uid)) return undefined;
    return this.s.guard('lookup', () => {
      const r = this.s.byUidDb.get([this.id, uid]);
      return r === undefined ? this.log.entry(uid) : toEntry(uid, r);
    });
  }

  /**
   * Walks the [id, lo]..[id, hi] key range lazily inside one LMDB read
   * snapshot; finish (or abandon) the iteration promptly, since an open
   * snapshot keeps LMDB from reusing pages freed by later writes.
   */
  uids(lo?: number, hi?: number): Iterable<number> {
    this.s.assertOpen();
    const [l, h] = checkRange(lo, hi);
    if (l > h) return [];
    // `end` is exclusive; MAX_UID + 1 is still a valid key bound.
    const keys = this.s.byUidDb.getKeys({ start: [this.id, l], end: [this.id, h + 1] });
    const stored = keys.map((k) => (k as UidKey)[1]);
    const logged = this.log.uids(l, h);
    return logged.length === 0 ? stored : mergeAscending(stored, logged);
  }

  async remove(uids: readonly number[]): Promise<void> {
    this.s.assertOpen();
    checkUids(uids);
    if (uids.length === 0) return;
    this.queue.forgetFresh();
    await this.s.write('remove', () => {
      const rec = this.record();
      this.log.foldAllIn(); // a removed UID may sit in the log
      let removed = 0;
      for (const uid of uids) {
        const r = this.s.byUidDb.get([this.id, uid]);
        if (r === undefined) continue;
        this.s.byUidDb.remove([this.id, uid]);
        if (this.s.byMsgidDb.get([this.id, r[0]]) === uid) this.s.byMsgidDb.remove([this.id, r[0]]);
        removed++;
      }
      if (removed > 0) this.s.mailboxesDb.put(this.mailbox, [this.id, rec[1], rec[2], rec[3] - removed]);
    });
  }
}

export class LmdbUidMapStore implements UidMapStore {
  /** @internal */ readonly storeDb: Database<number, string>;
  /** @internal */ readonly mailboxesDb: Database<MailboxRecord, string>;
  /** @internal */ readonly byMsgidDb: Database<number, IdKey>;
  /** @internal */ readonly byUidDb: Database<UidRecord, UidKey>;
  /** @internal */ readonly logDb: Database<Buffer, UidKey>;
  private readonly maps = new Map<string, LmdbMailboxUidMap>();
  private closed = false;

  private constructor(
    private readonly env: RootDatabase,
    private readonly sideFile: string,
    private readonly logger: Logger,
    private readonly now: Clock,
  ) {
    this.storeDb = env.openDB<number, string>('store', {});
    this.mailboxesDb = env.openDB<MailboxRecord, string>('mailboxes', {});
    this.byMsgidDb = env.openDB<number, IdKey>('byMsgid', {});
    this.byUidDb = env.openDB<UidRecord, UidKey>('byUid', {});
    this.logDb = env.openDB<Buffer, UidKey>('log', { encoding: 'binary' });
  }

  /**
   * Opens (creating if needed) the store at `opts.path`. Throws `STORAGE` when
   * LMDB cannot open the file or it has another layout version.
   */
  static async open(opts: LmdbUidMapStoreOptions): Promise<LmdbUidMapStore> {
    const logger = opts.logger.child({ component: 'uidmap' });
    let env: RootDatabase;
    try {
      mkdirSync(dirname(opts.path), { recursive: true });
      env = openLmdb({ path: opts.path, maxDbs: 8, compression: false });
    } catch (err) {
      throw storageError(`cannot open UID map ${opts.path}`, err);
    }
    const store = new LmdbUidMapStore(env, `${opts.path}.uidvalidity`, logger, opts.now ?? systemClock);
    try {
      await store.write('open', () => {
        const format = store.storeDb.get('format');
        if (format === undefined || UPGRADES.has(format)) store.storeDb.put('format', FORMAT);
        else if (format !== FORMAT) {
          throw new UidMapError('STORAGE', `UID map ${opts.path} has format ${format}; this build reads ${FORMAT}`);
        }
      });
    } catch (err) {
      await env.close().catch(() => undefined);
      throw err;
    }
    logger.debug({ path: opts.path }, 'UID map store opened');
    return store;
  }

  /** @internal */
  get isClosed(): boolean {
    return this.closed;
  }

  /** @internal */
  warn(fields: Record<string, unknown>, msg: string): void {
    this.logger.warn(fields, msg);
  }

  /** @internal Throws `CLOSED` after `close()`. */
  assertOpen(): void {
    if (this.closed) throw new UidMapError('CLOSED', 'UID map store is closed');
  }

  /** @internal Runs a read, wrapping LMDB failures as `STORAGE`. */
  guard<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw storageError(what, err);
    }
  }

  /**
   * @internal Runs `fn` in its own (child) write transaction: a throw aborts
   * just this change. Resolves once committed and flushed to disk.
   */
  async write<T>(what: string, fn: () => T): Promise<T> {
    this.assertOpen();
    try {
      const result = await this.env.childTransaction(fn);
      await this.env.flushed;
      return result;
    } catch (err) {
      throw storageError(what, err);
    }
  }

  async open(mailbox: string): Promise<MailboxUidMap> {
    this.assertOpen();
    checkMailbox(mailbox);
    const cached = this.maps.get(mailbox);
    if (cached !== undefined) return cached;
    let rec = this.guard('open', () => this.mailboxesDb.get(mailbox));
    if (rec === undefined) {
      let created = false;
      rec = await this.write('create map', (): MailboxRecord => {
        const existing = this.mailboxesDb.get(mailbox);
        if (existing !== undefined) return existing; // another process (or call) was first
        const last = Math.max(this.storeDb.get('lastUidValidity') ?? 0, readSideFile(this.sideFile, this.logger));
        const uidValidity = nextUidValidity(this.now(), last);
        const id = (this.storeDb.get('lastMailboxId') ?? 0) + 1;
        writeSideFile(this.sideFile, uidValidity);
        this.storeDb.put('lastUidValidity', uidValidity);
        this.storeDb.put('lastMailboxId', id);
        const fresh: MailboxRecord = [id, uidValidity, 1, 0];
        this.mailboxesDb.put(mailbox, fresh);
        created = true;
        return fresh;
      });
      if (created) this.logger.info({ mailbox, uidValidity: rec[1] }, 'created UID map');
    }
    const again = this.maps.get(mailbox);
    if (again !== undefined) return again;
    const map = new LmdbMailboxUidMap(mailbox, rec[0], rec[1], this);
    this.maps.set(mailbox, map);
    map.log.scheduleFold(); // a log left by a process that stopped before folding it
    return map;
  }

  mailboxes(): string[] {
    this.assertOpen();
    return this.guard('mailboxes', () => [...this.mailboxesDb.getKeys()]);
  }

  /** Waits for pending writes, then closes the environment. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.maps.clear();
    await this.env.close();
  }
}
