/**
 * FlagStore on PostgreSQL, `persistent = true`: the per-user flags of many
 * front-ends (and state agents) on many machines sharing one database
 * (DESIGN "Scale"). Layout and migrations: postgres-schema.ts (applied under
 * an advisory lock at open); connections: postgres-db.ts; statements:
 * postgres-sql.ts; computing a change: postgres-apply.ts; change feed:
 * postgres-feed.ts and postgres-notify.ts; subscriptions: postgres-subs.ts.
 *
 * Flags are range sets per flag with per-UID modseqs as runs, cut into
 * chunks by UID span (the LMDB store's chunks.ts), and computed here with the
 * same `MailboxFlags`/`applyRuns` every store uses; PostgreSQL stores them and
 * decides who wins.
 *
 * Reads: each mailbox read is kept in a bounded cache (hot-records.ts) and
 * brought up to date by one statement per `view`/`changedSince` (a current
 * copy costs one short row; a stale one, the chunks written since).
 *
 * Writes: `update` computes the change on the cached copy and sends ONE
 * statement (postgres-sql.ts `writeMany`): compare-and-set of the mailbox row
 * on the copy's HIGHESTMODSEQ, the touched chunks, the NOTIFY — one round trip
 * and one transaction, whatever the number of UIDs (`UID STORE 1:50000` is a
 * few runs). If another process changed the mailbox since the copy, nothing
 * is written and the change is redone in a transaction that locks the row
 * (postgres-sql.ts `loadMany` with `lock`), so no change is ever lost. A change that changes
 * nothing takes no modseq and writes nothing; it is answered from a copy
 * checked current first. Updates of one key in this process run one at a time.
 *
 * Durability: an `update`/`setSubscribed` resolves after COMMIT (durable under
 * PostgreSQL's default synchronous_commit; invariant 4). A failed or ambiguous
 * commit rejects with UNAVAILABLE and empties the cache; the next read shows
 * what the database holds.
 *
 * Notifications: `watch` hears this store's own changes at once, and every
 * other store's on the same database through LISTEN/NOTIFY (postgres-notify.ts);
 * after the listening connection was lost, watchers get a `resync` event.
 *
 * Errors: `FlagStoreError('INVALID')` for bad input (nothing stored),
 * `FlagStoreError('UNAVAILABLE')` when the database cannot be reached, a
 * statement fails or times out (postgres-db.ts), or the store is closed.
 * Messages never contain the connection URL. The caller owns the store and
 * must `close()` it.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../util/log.js';
import { expandRuns, subtractRuns, type Run } from '../../util/rangeset.js';
import {
  FlagStoreError, type ChangeEvent, type FlagChange, type FlagKey, type FlagOp, type FlagStore,
  type FlagView, type UpdateOptions, type UpdateResult,
} from '../flagstore.js';
import { checkFlags, checkKey, checkModseq, checkUids, checkUser } from '../validate.js';
import { changesSince, expandBounded, updateResult, type MailboxFlags, type RunChange } from './mailbox-state.js';
import { HotRecords } from './hot-records.js';
import { perUidEvent, type RunChangeEvent } from './watchers.js';
import { FLAGS_CHANNEL } from './postgres-schema.js';
import { loadMany, writeMany, written, type PgLoaded, type Query } from './postgres-sql.js';
import { encodeChange, encodeResync } from './postgres-notify.js';
import { applyOp, prepare, type Prepared, type Step } from './postgres-apply.js';
import { Lost, migrateFlagSchema, PG_READ_BATCH, PG_READS_IN_FLIGHT, PG_WRITE_BATCH, PG_WRITES_IN_FLIGHT, PgDb, unavailable } from './postgres-db.js';
import type { MigrateResult } from '../../util/pg-migrate.js';
import { Coalescer } from './coalesce.js';
import { PgFeed, resyncEvent } from './postgres-feed.js';
import { PgSubscriptions } from './postgres-subs.js';
import type { RunUpdate } from './local.js';

export { PG_CONNECT_TIMEOUT_MS, PG_POOL_SIZE, PG_QUERY_TIMEOUT_MS } from './postgres-db.js';

/** Locked retries of a change that keeps meeting a concurrent creator of the same mailbox row. */
const LOCKED_ATTEMPTS = 5;

export interface PgFlagStoreOptions {
  /** `postgres://user:password@host:port/database` (or `postgresql://`), as the `pg` driver reads it. */
  url: string;
  logger: Logger;
  /** Connections kept (default PG_POOL_SIZE). */
  poolSize?: number;
  /** Apply missing migrations at open (default true); false requires the schema to be current. */
  migrate?: boolean;
  /** NOTIFY channel (default FLAGS_CHANNEL); stores that should hear each other share it. */
  channel?: string;
}

const keyString = (k: FlagKey): string => `${k.user}\0${k.mailbox}\0${k.uidValidity}`;

export class PgFlagStore implements FlagStore {
  readonly persistent = true;
  /** This store's name in NOTIFY payloads (it skips its own). */
  private readonly origin = randomBytes(6).toString('hex');
  private readonly cache = new HotRecords();
  private readonly queues = new Map<string, Promise<void>>();
  private readonly subs: PgSubscriptions;
  private readonly feed: PgFeed;
  /** Reads of single mailboxes, many per statement under load. */
  private readonly reads = new Coalescer<FlagKey, PgLoaded>(PG_READS_IN_FLIGHT, PG_READ_BATCH, (keys) => this.load(keys));
  /** Writes of prepared changes (distinct mailboxes: one update per key at a time), many per statement under load: row id or undefined (lost its compare-and-set). */
  private readonly writes = new Coalescer<Prepared, number | undefined>(PG_WRITES_IN_FLIGHT, PG_WRITE_BATCH, async (preps) => {
    const ids = await this.write(this.db.runner('update flags'), preps, true);
    return preps.map((_, i) => ids.get(i));
  });
  private closed = false;

  private constructor(private readonly db: PgDb, private readonly channel: string, url: string, private readonly log: Logger) {
    this.subs = new PgSubscriptions((what, text, values) => db.query(what, text, values), (what, fn) => db.tx(what, fn));
    this.feed = new PgFeed({ url, channel, origin: this.origin, logger: log, read: (key) => this.flagsOf(key) });
  }

  /** Connect, migrate (or check the schema), start listening. Throws UNAVAILABLE. */
  static async open(opts: PgFlagStoreOptions): Promise<PgFlagStore> {
    const log = opts.logger.child({ component: 'flagstore-pg' });
    const db = await PgDb.open({ url: opts.url, logger: log, poolSize: opts.poolSize, migrate: opts.migrate });
    const store = new PgFlagStore(db, opts.channel ?? FLAGS_CHANNEL, opts.url, log);
    try {
      await store.feed.start();
    } catch (err) {
      await store.feed.close();
      await db.close(log);
      throw unavailable('cannot listen for flag changes', err);
    }
    return store;
  }

  /** Applies the missing flag schema migrations to the database at `url` (`newsfront db migrate`). Throws UNAVAILABLE. */
  static migrate(opts: { url: string; logger: Logger }): Promise<MigrateResult> {
    return migrateFlagSchema({ url: opts.url, logger: opts.logger.child({ component: 'flagstore-pg' }) });
  }

  /** @internal Statements sent (tests count round trips with it). */
  get statements(): number {
    return this.db.statements;
  }

  /** True while this store hears other stores' changes (its LISTEN connection is up). */
  get listening(): boolean {
    return this.feed.listening;
  }

  private held(k: string): PgLoaded | undefined {
    return this.cache.get(k) as PgLoaded | undefined;
  }

  /**
   * The current state of `keys` (one statement; with `lock`, rows locked first),
   * remembered in the cache. A key given twice is read once.
   */
  private async load(keys: readonly FlagKey[], q?: Query, lock = false): Promise<PgLoaded[]> {
    const ks = keys.map(keyString);
    const first = new Map<string, number>();
    ks.forEach((k, i) => first.has(k) || first.set(k, i));
    const uniq = [...first.values()];
    try {
      const got = await loadMany(q ?? this.db.runner('read flags'), uniq.map((i) => keys[i]!), uniq.map((i) => this.held(ks[i]!)), lock);
      if (!lock) got.forEach((l, j) => this.cache.remember(ks[uniq[j]!]!, l));
      const byKey = new Map(uniq.map((i, j) => [ks[i]!, got[j]!]));
      return ks.map((k) => byKey.get(k)!);
    } catch (err) {
      this.cache.clear();
      throw unavailable('read flags', err);
    }
  }

  /** One mailbox's current state, read together with other callers' under load. */
  private loadOne(key: FlagKey): Promise<PgLoaded> {
    return this.reads.submit(key);
  }

  // ------------------------------------------------------------ FlagStore

  /** The whole mailbox's flags, current as of this call. */
  async view(key: FlagKey, _lo?: number, _hi?: number): Promise<FlagView> {
    return this.flagsOf(key);
  }

  /** The current flags of `key` (for the agent too). Throws INVALID / UNAVAILABLE. */
  async flagsOf(key: FlagKey): Promise<MailboxFlags> {
    this.db.live();
    checkKey(key);
    return (await this.loadOne(key)).mf;
  }

  async update(key: FlagKey, uids: readonly number[], op: FlagOp, flags: readonly string[], opts: UpdateOptions = {}): Promise<UpdateResult> {
    const r = await this.updateRuns(key, checkUids(uids), op, flags, opts.unchangedSince);
    return updateResult(expandRuns(r.modified), r.changes, r.modseq, r.highestModseq, r.bumped);
  }

  async changedSince(key: FlagKey, modseq: number): Promise<FlagChange[]> {
    checkModseq(modseq, 'modseq');
    return expandBounded(changesSince(await this.flagsOf(key), modseq));
  }

  /**
   * `fn` hears every change of `user`: made through this store (at once, the
   * caller's own included) or through any other store on the database (by
   * NOTIFY); `resync` after the listening connection was lost.
   */
  watch(user: string, fn: (e: ChangeEvent) => void): () => void {
    return this.watchRuns(user, (e) => fn(perUidEvent(e, this.log)));
  }

  async subscriptions(user: string): Promise<string[] | null> {
    return this.subs.list(user);
  }

  async setSubscribed(user: string, mailbox: string, subscribed: boolean): Promise<void> {
    await this.subs.set(user, mailbox, subscribed);
  }

  /** Waits for updates in flight, then stops listening and ends the pool. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.queues.values()]);
    this.cache.clear();
    await this.feed.close();
    await this.db.close(this.log);
  }

  // ------------------------------------------------------- run-based API (agent)

  /** Like `watch`, with changes as runs. */
  watchRuns(user: string, fn: (e: RunChangeEvent) => void): () => void {
    checkUser(user);
    return this.feed.on(user, fn);
  }

  /** Apply `op` to the UIDs of `runs` (sorted, disjoint). Resolves after COMMIT with the flags it set; then notifies. */
  async updateRuns(key: FlagKey, runs: readonly Run[], op: FlagOp, flags: readonly string[], unchangedSince?: number): Promise<RunUpdate> {
    this.db.live();
    checkKey(key);
    const fl = checkFlags(flags);
    if (op !== 'add' && op !== 'remove' && op !== 'set') throw new FlagStoreError('INVALID', 'op must be add, remove or set');
    if (unchangedSince !== undefined) checkModseq(unchangedSince, 'unchangedSince');
    if (runs.length === 0) {
      const h = (await this.flagsOf(key)).highestModseq;
      return { modseq: h, highestModseq: h, modified: [], changes: [], bumped: false };
    }
    const step: Step = { key, k: keyString(key), apply: (mf, out) => applyOp(key, mf, runs, op, fl, unchangedSince, out) };
    const p = await this.serial(step.k, () => this.commitOne(step));
    const res = p.out.results[0]!;
    return { modseq: res.modseq, highestModseq: res.highestModseq, modified: res.modified, changes: p.reached(), bumped: res.changed.length > 0 };
  }

  /** Run `fn` after every earlier call for `k` in this process settled. */
  private serial<T>(k: string, fn: () => Promise<T>): Promise<T> {
    const run = (this.queues.get(k) ?? Promise.resolve()).then(fn);
    const tail = run.then(() => undefined, () => undefined);
    this.queues.set(k, tail);
    void tail.then(() => {
      if (this.queues.get(k) === tail) this.queues.delete(k);
    });
    return run;
  }

  /** One mailbox's change: one statement on a current copy, else under the row lock. */
  private async commitOne(step: Step): Promise<Prepared> {
    let cur = this.held(step.k);
    let checked = false;
    if (!cur) {
      cur = await this.loadOne(step.key);
      checked = true;
    }
    let p = prepare(step, cur);
    if (!p.plan && !checked) {
      // "nothing to change" must hold for the database, not just for the copy
      const now = await this.loadOne(step.key);
      if (now !== cur) p = prepare(step, now);
    }
    if (!p.plan) return p;
    const id = await this.writes.submit(p);
    if (id !== undefined) {
      this.settle([p], new Map([[0, id]]), true);
      return p;
    }
    return (await this.commitLocked([step], true))[0]!;
  }

  /** `steps` (distinct keys) in one transaction holding their mailbox rows; retried when a concurrent creator won. */
  private async commitLocked(steps: readonly Step[], notify: boolean): Promise<Prepared[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await this.db.tx('update flags', async (q) => {
          const curs = await this.load(steps.map((s) => s.key), q, true);
          const preps = steps.map((s, i) => prepare(s, curs[i]!));
          const writes = preps.filter((p) => p.plan);
          const ids = writes.length === 0 ? new Map<number, number>() : await this.write(q, writes, notify);
          if (ids.size !== writes.length) throw new Lost();
          return { preps, writes, ids };
        });
        this.settle(r.writes, r.ids, notify);
        return r.preps;
      } catch (err) {
        if (!(err instanceof Lost)) throw err;
        if (attempt >= LOCKED_ATTEMPTS) throw new FlagStoreError('UNAVAILABLE', 'update flags: the mailbox row kept changing under the lock');
      }
    }
  }

  private async write(q: Query, preps: readonly Prepared[], notify: boolean): Promise<Map<number, number>> {
    try {
      return await writeMany(q, preps.map((p) => p.item(notify ? (e) => encodeChange(this.origin, e) : undefined)), this.channel);
    } catch (err) {
      this.cache.clear(); // the commit may or may not have happened
      throw unavailable('update flags', err);
    }
  }

  /** After COMMIT: remember the new states and (unless deferred) tell local watchers. */
  private settle(preps: readonly Prepared[], ids: ReadonlyMap<number, number>, notify: boolean): void {
    preps.forEach((p, i) => {
      const id = ids.get(i);
      if (id !== undefined) this.cache.remember(p.step.k, written(p.item(), id, p.mf));
    });
    if (notify) for (const p of preps) for (const e of p.out.events) this.feed.emit(e);
  }

  /**
   * Make \Seen exactly `runs` in each of `items` (a `.newsrc` import batch,
   * agent/newsrc-import.ts) in one transaction; per mailbox one change for
   * the UIDs that lose \Seen and one for those that gain it. Resolves with the
   * change events; with `defer` nobody has heard of them yet (pass them to
   * `notify`, or replace them by `notifyResync`).
   */
  async setSeen(items: ReadonlyArray<{ key: FlagKey; runs: readonly Run[] }>, opts: { defer?: boolean } = {}): Promise<RunChangeEvent[]> {
    this.db.live();
    for (const it of items) checkKey(it.key);
    const byKey = new Map<string, Step>();
    for (const { key, runs } of items) {
      const k = keyString(key);
      const prev = byKey.get(k);
      byKey.set(k, {
        key, k,
        apply: (mf, out) => {
          prev?.apply(mf, out);
          const seen = [...(mf.byFlag.get('\\Seen')?.ranges() ?? [])];
          const lose = subtractRuns(seen, runs);
          const gain = subtractRuns(runs, seen);
          if (lose.length > 0) applyOp(key, mf, lose, 'remove', ['\\Seen'], undefined, out);
          if (gain.length > 0) applyOp(key, mf, gain, 'add', ['\\Seen'], undefined, out);
        },
      });
    }
    if (byKey.size === 0) return [];
    const preps = await this.commitLocked([...byKey.values()], !opts.defer);
    return preps.flatMap((p) => p.out.events);
  }

  /** Tell every store's watchers of committed changes (those `setSeen` deferred). Failures are logged. */
  async notify(events: readonly RunChangeEvent[]): Promise<void> {
    for (const e of events) this.feed.emit(e);
    await this.broadcast(events.map((e) => encodeChange(this.origin, e)));
  }

  /** Tell `user`'s watchers on every store that many of their mailboxes changed (ChangeEvent `resync`). */
  async notifyResync(user: string): Promise<void> {
    this.feed.emit(resyncEvent(user));
    await this.broadcast([encodeResync(this.origin, user)]);
  }

  private async broadcast(payloads: readonly string[]): Promise<void> {
    if (payloads.length === 0) return;
    try {
      await this.db.query('notify', 'SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p', [this.channel, payloads]);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not notify other stores of committed changes');
    }
  }

  /** Changes with modseq > `since`, as runs, and every flag in use in the mailbox. */
  async changesRuns(key: FlagKey, since: number): Promise<{ highestModseq: number; keywords: string[]; changes: RunChange[] }> {
    checkModseq(since, 'since');
    const mf = await this.flagsOf(key);
    return { highestModseq: mf.highestModseq, keywords: [...mf.keywords()], changes: changesSince(mf, since) };
  }

  /** Replace the user's subscription list (null: forget it, all count as subscribed). */
  async setSubscriptions(user: string, mailboxes: readonly string[] | null): Promise<void> {
    await this.subs.replace(user, mailboxes);
  }

  /** Every (mailbox, uidValidity) the user has flags for, ascending by mailbox. */
  async keysOf(user: string): Promise<Array<{ mailbox: string; uidValidity: number; highestModseq: number }>> {
    checkUser(user);
    const rows = await this.db.query(
      'list mailboxes',
      'SELECT mailbox, uid_validity, highest_modseq FROM flag_mailboxes WHERE user_name = $1 ORDER BY mailbox, uid_validity',
      [user],
    );
    return rows.map(([mailbox, uidValidity, highestModseq]) => ({ mailbox: mailbox as string, uidValidity: uidValidity as number, highestModseq: highestModseq as number }));
  }
}
