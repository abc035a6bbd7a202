/**
 * FlagStore on LMDB (lmdb-js v3), `persistent = true`: the per-user flags of
 * one machine, used by a front-end directly or by the state agent.
 *
 * Layout (one environment at `path`, sub-databases; see chunks.ts):
 *   flags   K = `user \0 mailbox \0 uidValidity` → head [2, highestModseq, splits],
 *           entry version = HIGHESTMODSEQ
 *   chunks  `K \0 startUid` → the flag ranges and modseq runs of one UID span
 *   subs    `user` → sorted mailbox names (absent: never set, all subscribed)
 * User and mailbox names carry no control characters (validate.ts), so `\0`
 * separates them and `user \0` .. `user \1` is the key range of one user.
 * An update rewrites the head and the chunks its UIDs fall in, nothing else.
 *
 * Concurrency: several processes may open the same path. Every change runs in
 * one LMDB write transaction (the writer lock is process-shared) and re-reads
 * the record inside it, so another process's change is never lost. Decoded
 * records are kept in a bounded LRU (hot-records.ts); a cached record is used only
 * while the stored entry still has its version (`doesExist(key, version)`,
 * no decode), so a view is never older than the read snapshot, which lmdb-js
 * renews every event turn.
 *
 * Views are immutable snapshots: an update builds a new MailboxFlags and
 * never mutates one handed out. Callers must not pass a view to `applyRuns`.
 *
 * Durability: `update`, `setSubscribed` and the agent's bulk writes resolve
 * only after the transaction is committed and flushed (`flushed`), never with
 * `noSync` (invariant 4).
 *
 * Notifications: `watch` is in-process only (watchers.ts).
 * Sessions in another process sharing this LMDB path do not hear of the
 * change; cross-process notification needs the state agent's SSE feed.
 *
 * Errors: `FlagStoreError('INVALID')` for bad input (nothing stored),
 * `FlagStoreError('UNAVAILABLE')` if LMDB fails or the store is closed.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { open as openLmdb, type Database, type RootDatabase } from 'lmdb';
import type { Logger } from '../../util/log.js';
import { expandRuns, RangeSet, subtractRuns, type Run } from '../../util/rangeset.js';
import {
  FlagStoreError, type ChangeEvent, type FlagChange, type FlagKey, type FlagOp, type FlagStore,
  type FlagView, type UpdateOptions, type UpdateResult,
} from '../flagstore.js';
import { MAX_SUBSCRIPTIONS } from '../limits.js';
import {
  applyRuns, changesOf, changesSince, expandBounded, MailboxFlags, reachedChanges, updateResult, type RunChange, type RunUpdateResult,
} from './mailbox-state.js';
import { assemble, decodeHead, encodeHead, planWrite, type ChunkRecord, type HeadRecord } from './chunks.js';
import { HotRecords, type Loaded } from './hot-records.js';
import { perUidEvent, Watchers, type RunChangeEvent } from './watchers.js';

export type { RunChangeEvent } from './watchers.js';
import { checkFlags, checkKey, checkMailbox, checkModseq, checkUids, checkUser } from '../validate.js';

export interface LmdbFlagStoreOptions {
  /**
   * The LMDB environment: a directory, or a data file if the name has an
   * extension (`flags.lmdb`, lock file beside it) — lmdb-js's rule. Parents are created.
   */
  path: string;
  logger: Logger;
}

/** Result of a run-based update, for the agent. */
export interface RunUpdate {
  modseq: number;
  highestModseq: number;
  modified: Run[];
  /** The UIDs reached (all not in `modified`) with their flags and modseqs right after the change. */
  changes: RunChange[];
  /** Some UID changed and got `modseq` (else nothing was stored or notified). */
  bumped: boolean;
}

/** Mailboxes changed in the current transaction: the new state and the UIDs changed. */
type Fresh = Map<string, { loaded: Loaded; touched: RangeSet }>;

function keyString(k: FlagKey): string {
  return `${k.user}\0${k.mailbox}\0${k.uidValidity}`;
}

function unavailable(what: string, err: unknown): FlagStoreError {
  if (err instanceof FlagStoreError) return err;
  return new FlagStoreError('UNAVAILABLE', `${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

export class LmdbFlagStore implements FlagStore {
  readonly persistent = true;
  private readonly root: RootDatabase;
  private readonly flagsDb: Database<HeadRecord, string>;
  private readonly chunksDb: Database<ChunkRecord, string>;
  private readonly subsDb: Database<string[], string>;
  private readonly cache = new HotRecords();
  private readonly watchers: Watchers<RunChangeEvent>;
  private readonly log: Logger;
  private closed = false;

  private constructor(opts: LmdbFlagStoreOptions) {
    mkdirSync(dirname(opts.path), { recursive: true });
    this.root = openLmdb({ path: opts.path, maxDbs: 4 });
    this.flagsDb = this.root.openDB<HeadRecord, string>({ name: 'flags', useVersions: true });
    this.chunksDb = this.root.openDB<ChunkRecord, string>({ name: 'chunks' });
    this.subsDb = this.root.openDB<string[], string>({ name: 'subs' });
    this.log = opts.logger.child({ component: 'flagstore-lmdb' });
    this.watchers = new Watchers(this.log);
  }

  /** Open (or create) the store at `opts.path`. The caller must `close()` it. */
  static async open(opts: LmdbFlagStoreOptions): Promise<LmdbFlagStore> {
    try {
      return new LmdbFlagStore(opts);
    } catch (err) {
      throw unavailable(`open ${opts.path}`, err);
    }
  }

  private live(): void {
    if (this.closed) throw new FlagStoreError('UNAVAILABLE', 'flag store is closed');
  }

  /** The current flags of `k` in the read snapshot (or inside the write txn). */
  private load(k: string): Loaded {
    const hit = this.cache.get(k);
    if (hit && this.flagsDb.doesExist(k, hit.mf.highestModseq)) return hit;
    const raw = this.flagsDb.get(k);
    if (raw === undefined) return { mf: new MailboxFlags(), splits: [1] };
    const head = decodeHead(raw);
    const loaded = { mf: assemble(head, head.splits.map((st) => this.chunksDb.get(`${k}\0${st}`))), splits: head.splits };
    this.cache.remember(k, loaded);
    return loaded;
  }

  /**
   * Run `fn` in one write transaction, then wait until it is on disk.
   * lmdb-js batches the callbacks of one event turn into one transaction and
   * does NOT roll back the puts of a callback that throws (measured), so every
   * `fn` here validates and computes first and writes last (`putAll`).
   */
  private async write<T>(what: string, fn: () => T): Promise<T> {
    this.live();
    let out: T;
    try {
      out = await this.root.transaction(fn);
      await this.root.flushed;
    } catch (err) {
      // the cache may hold states of this (batched) transaction that were never committed
      this.cache.clear();
      throw unavailable(what, err);
    }
    return out;
  }

  // ------------------------------------------------------------ FlagStore

  /** The whole mailbox's flags (records are compact); `lo`/`hi` are not needed locally. */
  async view(key: FlagKey, _lo?: number, _hi?: number): Promise<FlagView> {
    return this.flagsOf(key);
  }

  /** Synchronous view for the agent. Throws INVALID / UNAVAILABLE. */
  flagsOf(key: FlagKey): MailboxFlags {
    this.live();
    checkKey(key);
    try {
      return this.load(keyString(key)).mf;
    } catch (err) {
      throw unavailable('read flags', err);
    }
  }

  /** The per-UID `changes` are no more than `uids`, so they need no MAX_EXPANDED_UIDS bound. */
  async update(key: FlagKey, uids: readonly number[], op: FlagOp, flags: readonly string[], opts: UpdateOptions = {}): Promise<UpdateResult> {
    const r = await this.updateRuns(key, checkUids(uids), op, flags, opts.unchangedSince);
    return updateResult(expandRuns(r.modified), r.changes, r.modseq, r.highestModseq, r.bumped);
  }

  async changedSince(key: FlagKey, modseq: number): Promise<FlagChange[]> {
    checkModseq(modseq, 'modseq');
    return expandBounded(changesSince(this.flagsOf(key), modseq));
  }

  /**
   * In-process only (see the file comment). `fn` hears every change of `user`
   * made through this store, including the caller's own; a throwing listener
   * is logged and does not affect the update or other listeners.
   */
  watch(user: string, fn: (e: ChangeEvent) => void): () => void {
    return this.watchRuns(user, (e) => fn(perUidEvent(e, this.log)));
  }



  async subscriptions(user: string): Promise<string[] | null> {
    this.live();
    checkUser(user);
    try {
      const v = this.subsDb.get(user);
      return v ? [...v] : null;
    } catch (err) {
      throw unavailable('read subscriptions', err);
    }
  }

  async setSubscribed(user: string, mailbox: string, subscribed: boolean): Promise<void> {
    checkUser(user);
    checkMailbox(mailbox);
    await this.write('subscribe', () => {
      const cur = new Set(this.subsDb.get(user) ?? []);
      if (subscribed) cur.add(mailbox);
      else cur.delete(mailbox);
      if (cur.size > MAX_SUBSCRIPTIONS) throw new FlagStoreError('INVALID', `at most ${MAX_SUBSCRIPTIONS} subscriptions`);
      this.subsDb.putSync(user, [...cur].sort());
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watchers.clear();
    this.cache.clear();
    try {
      await this.root.close();
    } catch (err) {
      this.log.warn({ err }, 'closing LMDB');
    }
  }

  // ------------------------------------------------------- run-based API (agent)

  /** Like `watch`, with changes as runs (no per-UID expansion). */
  watchRuns(user: string, fn: (e: RunChangeEvent) => void): () => void {
    return this.watchers.on(user, fn);
  }

  private emit(e: RunChangeEvent): void {
    this.watchers.emit(e.key.user, e);
  }

  /**
   * Apply `op` to the UIDs of `runs` (sorted, disjoint). Resolves after the
   * change is durable, with the flags it set; then notifies watchers.
   */
  async updateRuns(key: FlagKey, runs: readonly Run[], op: FlagOp, flags: readonly string[], unchangedSince?: number): Promise<RunUpdate> {
    checkKey(key);
    const fl = checkFlags(flags);
    if (op !== 'add' && op !== 'remove' && op !== 'set') throw new FlagStoreError('INVALID', 'op must be add, remove or set');
    if (unchangedSince !== undefined) checkModseq(unchangedSince, 'unchangedSince');
    if (runs.length === 0) {
      const h = this.flagsOf(key).highestModseq;
      return { modseq: h, highestModseq: h, modified: [], changes: [], bumped: false };
    }
    const notes: RunChangeEvent[] = [];
    const fresh: Fresh = new Map();
    const r = await this.write('update flags', () => {
      notes.length = 0;
      fresh.clear();
      const { res, mf } = this.applyInTxn(key, runs, op, fl, unchangedSince, notes, fresh);
      this.putAll(fresh);
      return { res, changes: reachedChanges(mf, res.reached) };
    });
    for (const n of notes) this.emit(n);
    const { res } = r;
    return { modseq: res.modseq, highestModseq: res.highestModseq, modified: res.modified, changes: r.changes, bumped: res.changed.length > 0 };
  }

  /**
   * Inside a write txn: read, apply on a copy; the copy joins `fresh`, which
   * `putAll` writes once every part of the change has been computed (so a
   * throw leaves nothing half-written).
   */
  private applyInTxn(
    key: FlagKey, runs: readonly Run[], op: FlagOp, flags: readonly string[], unchangedSince: number | undefined,
    notes: RunChangeEvent[], fresh: Fresh,
  ): { res: RunUpdateResult; mf: MailboxFlags } {
    const k = keyString(key);
    let f = fresh.get(k);
    if (!f) {
      const cur = this.load(k);
      f = { loaded: { mf: cur.mf.clone(), splits: cur.splits }, touched: new RangeSet() };
    }
    const mf = f.loaded.mf;
    const res = applyRuns(mf, runs, op, flags, unchangedSince);
    if (res.changed.length > 0) {
      for (const [lo, hi] of res.changed) f.touched.add(lo, hi);
      fresh.set(k, f);
      notes.push({ key, changes: changesOf(mf, res.changed, res.modseq), highestModseq: mf.highestModseq });
    }
    return { res, mf };
  }

  /** Write the head and the touched chunks of every changed mailbox. */
  private putAll(fresh: Fresh): void {
    for (const [k, f] of fresh) {
      const plan = planWrite(f.loaded.mf, f.loaded.splits, [...f.touched.ranges()]);
      for (const st of plan.removes) this.chunksDb.removeSync(`${k}\0${st}`);
      for (const [st, chunk] of plan.puts) this.chunksDb.putSync(`${k}\0${st}`, chunk);
      f.loaded.splits = plan.splits;
      this.flagsDb.putSync(k, encodeHead({ highestModseq: f.loaded.mf.highestModseq, splits: plan.splits }), f.loaded.mf.highestModseq);
      // The next update of this key in the same batched transaction finds it here (its version
      // is in the txn). Should the commit fail, `write` clears the cache.
      this.cache.remember(k, f.loaded);
    }
  }

  /**
   * Make \Seen exactly `runs` in each of `items` (one batch of a `.newsrc`
   * import, agent/newsrc-import.ts), all in one transaction: per mailbox one
   * change for the UIDs that lose \Seen and one for those that gain it.
   * Throws INVALID before storing anything. Resolves with the change events,
   * which watchers hear at once unless `defer` (then the caller passes them
   * to `notify`, or replaces them by `notifyResync`).
   */
  async setSeen(items: ReadonlyArray<{ key: FlagKey; runs: readonly Run[] }>, opts: { defer?: boolean } = {}): Promise<RunChangeEvent[]> {
    for (const it of items) checkKey(it.key);
    if (items.length === 0) return [];
    const notes: RunChangeEvent[] = [];
    const fresh: Fresh = new Map();
    await this.write('import seen', () => {
      notes.length = 0;
      fresh.clear();
      for (const { key, runs } of items) {
        const k = keyString(key);
        const cur = fresh.get(k)?.loaded.mf ?? this.load(k).mf;
        const seen = [...(cur.byFlag.get('\\Seen')?.ranges() ?? [])];
        const lose = subtractRuns(seen, runs);
        const gain = subtractRuns(runs, seen);
        if (lose.length > 0) this.applyInTxn(key, lose, 'remove', ['\\Seen'], undefined, notes, fresh);
        if (gain.length > 0) this.applyInTxn(key, gain, 'add', ['\\Seen'], undefined, notes, fresh);
      }
      this.putAll(fresh);
    });
    if (!opts.defer) this.notify(notes);
    return notes;
  }

  /** Tell watchers of committed changes (those `setSeen` deferred). */
  notify(events: readonly RunChangeEvent[]): void {
    for (const n of events) this.emit(n);
  }

  /** Tell `user`'s watchers that many of their mailboxes changed: re-read what you show (ChangeEvent `resync`). */
  notifyResync(user: string): void {
    this.emit({ key: { user, mailbox: '', uidValidity: 0 }, changes: [], highestModseq: 0, resync: true });
  }

  /** Changes with modseq > `since`, as runs, and every flag in use in the mailbox. */
  changesRuns(key: FlagKey, since: number): { highestModseq: number; keywords: string[]; changes: RunChange[] } {
    checkModseq(since, 'since');
    const mf = this.flagsOf(key);
    return { highestModseq: mf.highestModseq, keywords: [...mf.keywords()], changes: changesSince(mf, since) };
  }

  /** Replace the user's subscription list (null: forget it, all count as subscribed). */
  async setSubscriptions(user: string, mailboxes: readonly string[] | null): Promise<void> {
    checkUser(user);
    if (mailboxes) {
      for (const m of mailboxes) checkMailbox(m);
      if (mailboxes.length > MAX_SUBSCRIPTIONS) throw new FlagStoreError('INVALID', `at most ${MAX_SUBSCRIPTIONS} subscriptions`);
    }
    await this.write('set subscriptions', () => {
      if (mailboxes) this.subsDb.putSync(user, [...new Set(mailboxes)].sort());
      else this.subsDb.removeSync(user);
    });
  }

  /** Every (mailbox, uidValidity) the user has flags for, ascending by mailbox. */
  keysOf(user: string): Array<{ mailbox: string; uidValidity: number; highestModseq: number }> {
    this.live();
    checkUser(user);
    const out: Array<{ mailbox: string; uidValidity: number; highestModseq: number }> = [];
    try {
      for (const { key, version } of this.flagsDb.getRange({ start: `${user}\0`, end: `${user}\u0001`, versions: true })) {
        const parts = (key as string).split('\0');
        out.push({ mailbox: parts[1]!, uidValidity: Number(parts[2]), highestModseq: version ?? 1 });
      }
    } catch (err) {
      throw unavailable('list mailboxes', err);
    }
    return out;
  }
}
