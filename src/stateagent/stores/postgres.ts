/**
 * FlagStore on PostgreSQL, `persistent = true`: the per-user flags of many
 * front-ends (and state agents) on many machines sharing one database
 * (DESIGN "Scale"). Layout and migrations: postgres-schema.ts (applied under
 * an advisory lock at open); statements: postgres-sql.ts; change feed:
 * postgres-notify.ts.
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
 * (`SELECT … FOR UPDATE`), so no change is ever lost. A change that changes
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
 * statement fails or times out (PG_QUERY_TIMEOUT_MS), or the store is closed.
 * Messages never contain the connection URL. The caller owns the store and
 * must `close()` it.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Logger } from '../../util/log.js';
import { migrate, schemaVersion } from '../../util/pg-migrate.js';
import { expandRuns, subtractRuns, type Run } from '../../util/rangeset.js';
import {
  FlagStoreError, type ChangeEvent, type FlagChange, type FlagKey, type FlagOp, type FlagStore,
  type FlagView, type UpdateOptions, type UpdateResult,
} from '../flagstore.js';
import { checkFlags, checkKey, checkModseq, checkUids, checkUser } from '../validate.js';
import { changesSince, expandBounded, runChanges, updateResult, type MailboxFlags, type RunChange } from './mailbox-state.js';
import { HotRecords } from './hot-records.js';
import { perUidEvent, Watchers, type RunChangeEvent } from './watchers.js';
import { FLAGS_CHANNEL, FLAGS_COMPONENT, FLAGS_MIGRATIONS } from './postgres-schema.js';
import { loadMany, writeMany, written, type PgLoaded, type Query } from './postgres-sql.js';
import { decodeNotice, encodeChange, encodeResync, PgListener, type Notice } from './postgres-notify.js';
import { applyOp, Lost, prepare, type Prepared, type Step } from './postgres-apply.js';
import { PgSubscriptions } from './postgres-subs.js';
import type { RunUpdate } from './local.js';

/** Connections kept per store: one per update in flight (each is one short statement). */
export const PG_POOL_SIZE = 8;
/** Time to open a connection before the call fails UNAVAILABLE (a dead host must not hang STORE). */
export const PG_CONNECT_TIMEOUT_MS = 5_000;
/** Time one statement may take before the call fails UNAVAILABLE (as REMOTE_REQUEST_TIMEOUT_MS). */
export const PG_QUERY_TIMEOUT_MS = 15_000;
/** Locked retries of a change that keeps meeting a concurrent creator of the same mailbox row. */
const LOCKED_ATTEMPTS = 5;

export interface PgFlagStoreOptions {
  /** `postgres://user:password@host:port/database` (or `postgresql://`), as the `pg` driver reads it. */
  url: string;
  logger: Logger;
  poolSize?: number;
  /** Apply missing migrations at open (default true); false requires the schema to be current. */
  migrate?: boolean;
  /** NOTIFY channel (default FLAGS_CHANNEL); stores that should hear each other share it. */
  channel?: string;
}

const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? (t: string) => Number(t) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export function unavailable(what: string, err: unknown): FlagStoreError {
  if (err instanceof FlagStoreError) return err;
  return new FlagStoreError('UNAVAILABLE', `${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

const keyString = (k: FlagKey): string => `${k.user}\0${k.mailbox}\0${k.uidValidity}`;

export class PgFlagStore implements FlagStore {
  readonly persistent = true;
  /** @internal Statements sent (tests count round trips with it). */
  statements = 0;
  /** This store's name in NOTIFY payloads (it ignores its own). */
  private readonly origin = randomBytes(6).toString('hex');
  private readonly cache = new HotRecords();
  private readonly watchers: Watchers<RunChangeEvent>;
  private readonly watched = new Map<string, number>();
  private readonly queues = new Map<string, Promise<void>>();
  private inbound: Promise<void> = Promise.resolve();
  private readonly subs: PgSubscriptions;
  private listener!: PgListener;
  private closed = false;

  private constructor(private readonly pool: pg.Pool, private readonly channel: string, private readonly log: Logger) {
    this.watchers = new Watchers(log);
    this.subs = new PgSubscriptions((what, text, values) => this.query(what, text, values), (what, fn) => this.tx(what, fn));
  }

  /** Connect, migrate (or check the schema), start listening. Throws UNAVAILABLE. */
  static async open(opts: PgFlagStoreOptions): Promise<PgFlagStore> {
    const log = opts.logger.child({ component: 'flagstore-pg' });
    const pool = new pg.Pool({
      connectionString: opts.url, max: opts.poolSize ?? PG_POOL_SIZE, types, application_name: 'newsfront flags',
      connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS, query_timeout: PG_QUERY_TIMEOUT_MS, keepAlive: true,
    });
    // an idle connection that breaks (server restart) must not crash the process; the next call reconnects
    pool.on('error', (err) => log.warn({ err: err.message }, 'flag database connection lost'));
    const store = new PgFlagStore(pool, opts.channel ?? FLAGS_CHANNEL, log);
    try {
      if (opts.migrate === false) {
        const v = await schemaVersion(pool, FLAGS_COMPONENT);
        if (v !== FLAGS_MIGRATIONS.length) throw new Error(`flag schema is at version ${v}, this build needs ${FLAGS_MIGRATIONS.length}`);
      } else {
        await migrate(pool, FLAGS_COMPONENT, FLAGS_MIGRATIONS, log);
      }
      store.listener = new PgListener({
        url: opts.url, channel: store.channel, logger: log,
        onPayload: (p) => store.heard(p),
        onReconnect: () => store.resyncAll(),
      });
      await store.listener.start();
    } catch (err) {
      await store.listener?.close();
      await pool.end().catch(() => undefined);
      throw unavailable('cannot open the flag database', err);
    }
    return store;
  }

  private live(): void {
    if (this.closed) throw new FlagStoreError('UNAVAILABLE', 'flag store is closed');
  }

  /** One statement outside a transaction. Throws UNAVAILABLE. */
  private async query(what: string, text: string, values?: unknown[]): Promise<unknown[][]> {
    this.live();
    this.statements++;
    try {
      return (await this.pool.query({ text, values, rowMode: 'array' })).rows as unknown[][];
    } catch (err) {
      throw unavailable(what, err);
    }
  }

  /** `fn` inside BEGIN … COMMIT on one connection; a throw rolls back. Errors other than FlagStoreError and Lost become UNAVAILABLE. */
  private async tx<T>(what: string, fn: (q: Query) => Promise<T>): Promise<T> {
    this.live();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw unavailable(`${what}: cannot connect`, err);
    }
    const q: Query = async (text, values) => {
      this.statements++;
      return (await client.query({ text, values, rowMode: 'array' })).rows as unknown[][];
    };
    let broken: Error | undefined;
    try {
      await q('BEGIN');
      const out = await fn(q);
      await q('COMMIT');
      return out;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (e) {
        broken = e as Error; // unusable: the pool destroys it
      }
      if (err instanceof Lost) throw err;
      throw unavailable(what, err);
    } finally {
      client.release(broken);
    }
  }

  private held(k: string): PgLoaded | undefined {
    return this.cache.get(k) as PgLoaded | undefined;
  }

  /** The current state of `keys` (one statement), remembered in the cache. */
  private async load(keys: readonly FlagKey[], q?: Query, lock = false): Promise<PgLoaded[]> {
    const ks = keys.map(keyString);
    const query: Query = q ?? ((text, values) => this.query('read flags', text, values));
    try {
      const out = await loadMany(query, keys, ks.map((k) => this.held(k)), lock);
      if (!lock) out.forEach((l, i) => this.cache.remember(ks[i]!, l));
      return out;
    } catch (err) {
      this.cache.clear();
      throw unavailable('read flags', err);
    }
  }

  // ------------------------------------------------------------ FlagStore

  /** The whole mailbox's flags, current as of this call. */
  async view(key: FlagKey, _lo?: number, _hi?: number): Promise<FlagView> {
    return this.flagsOf(key);
  }

  /** The current flags of `key` (for the agent too). Throws INVALID / UNAVAILABLE. */
  async flagsOf(key: FlagKey): Promise<MailboxFlags> {
    this.live();
    checkKey(key);
    return (await this.load([key]))[0]!.mf;
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
    this.live();
    return this.subs.list(user);
  }

  async setSubscribed(user: string, mailbox: string, subscribed: boolean): Promise<void> {
    this.live();
    await this.subs.set(user, mailbox, subscribed);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.allSettled([...this.queues.values()]);
    this.closed = true;
    this.watchers.clear();
    this.watched.clear();
    this.cache.clear();
    await this.listener.close();
    await this.pool.end().catch((err: unknown) => this.log.warn({ err }, 'closing the flag database pool'));
  }

  // ------------------------------------------------------- run-based API (agent)

  /** Like `watch`, with changes as runs. */
  watchRuns(user: string, fn: (e: RunChangeEvent) => void): () => void {
    checkUser(user);
    const off = this.watchers.on(user, fn);
    this.watched.set(user, (this.watched.get(user) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      off();
      const n = (this.watched.get(user) ?? 1) - 1;
      if (n > 0) this.watched.set(user, n);
      else this.watched.delete(user);
    };
  }

  /** True while this store hears other stores' changes (its LISTEN connection is up). */
  get listening(): boolean {
    return this.listener.isListening;
  }

  /** Apply `op` to the UIDs of `runs` (sorted, disjoint). Resolves after COMMIT with the flags it set; then notifies. */
  async updateRuns(key: FlagKey, runs: readonly Run[], op: FlagOp, flags: readonly string[], unchangedSince?: number): Promise<RunUpdate> {
    this.live();
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
      cur = (await this.load([step.key]))[0]!;
      checked = true;
    }
    let p = prepare(step, cur);
    if (!p.plan && !checked) {
      // "nothing to change" must hold for the database, not just for the copy
      const now = (await this.load([step.key]))[0]!;
      if (now !== cur) p = prepare(step, now);
    }
    if (!p.plan) return p;
    const q: Query = (text, values) => this.query('update flags', text, values);
    const ids = await this.write(q, [p], true);
    if (ids.size === 1) {
      this.settle([p], ids, true);
      return p;
    }
    return (await this.commitLocked([step], true))[0]!;
  }

  /** `steps` (distinct keys) in one transaction holding their mailbox rows; retried when a concurrent creator won. */
  private async commitLocked(steps: readonly Step[], notify: boolean): Promise<Prepared[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await this.tx('update flags', async (q) => {
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

  /** After COMMIT: remember the new states and (unless deferred) tell watchers. */
  private settle(preps: readonly Prepared[], ids: ReadonlyMap<number, number>, notify: boolean): void {
    preps.forEach((p, i) => {
      const id = ids.get(i);
      if (id === undefined) return;
      this.cache.remember(p.step.k, written(p.item(), id, p.mf));
    });
    if (notify) for (const p of preps) this.notifyLocal(p.out.events);
  }

  private notifyLocal(events: readonly RunChangeEvent[]): void {
    for (const e of events) this.watchers.emit(e.key.user, e);
  }

  /**
   * Make \Seen exactly `runs` in each of `items` (a `.newsrc` import batch,
   * agent/newsrc-import.ts) in one transaction; per mailbox one change for
   * the UIDs that lose \Seen and one for those that gain it. Resolves with the
   * change events; with `defer` nobody has heard of them yet (pass them to
   * `notify`, or replace them by `notifyResync`).
   */
  async setSeen(items: ReadonlyArray<{ key: FlagKey; runs: readonly Run[] }>, opts: { defer?: boolean } = {}): Promise<RunChangeEvent[]> {
    this.live();
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
    this.notifyLocal(events);
    await this.broadcast(events.map((e) => encodeChange(this.origin, e)));
  }

  /** Tell `user`'s watchers on every store that many of their mailboxes changed (ChangeEvent `resync`). */
  async notifyResync(user: string): Promise<void> {
    this.watchers.emit(user, resyncEvent(user));
    await this.broadcast([encodeResync(this.origin, user)]);
  }

  private async broadcast(payloads: readonly string[]): Promise<void> {
    if (payloads.length === 0) return;
    try {
      await this.query('notify', 'SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p', [this.channel, payloads]);
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
    this.live();
    await this.subs.replace(user, mailboxes);
  }

  /** Every (mailbox, uidValidity) the user has flags for, ascending by mailbox. */
  async keysOf(user: string): Promise<Array<{ mailbox: string; uidValidity: number; highestModseq: number }>> {
    checkUser(user);
    const rows = await this.query(
      'list mailboxes',
      'SELECT mailbox, uid_validity, highest_modseq FROM flag_mailboxes WHERE user_name = $1 ORDER BY mailbox, uid_validity',
      [user],
    );
    return rows.map(([mailbox, uidValidity, highestModseq]) => ({ mailbox, uidValidity, highestModseq }) as { mailbox: string; uidValidity: number; highestModseq: number });
  }

  // ------------------------------------------------------- other stores' changes

  /** A NOTIFY payload arrived: queue it, so watchers hear changes in commit order. */
  private heard(payload: string): void {
    const n = decodeNotice(payload);
    if (!n) {
      this.log.warn('ignoring a malformed flag change notification');
      return;
    }
    if (n.origin === this.origin || !this.watched.has(n.user)) return;
    this.inbound = this.inbound.then(() => this.deliver(n));
  }

  private async deliver(n: Notice): Promise<void> {
    if (this.closed) return;
    if ('resync' in n) {
      this.watchers.emit(n.user, resyncEvent(n.user));
      return;
    }
    const key = { user: n.user, mailbox: n.mailbox, uidValidity: n.uidValidity };
    let changes = n.runs;
    if (changes === null) {
      // too many runs for a payload: read the runs this change left
      try {
        const mf = await this.flagsOf(key);
        changes = runChanges(mf, [...mf.modseqs.runs()].filter(([, , ms]) => ms === n.modseq));
      } catch (err) {
        this.log.warn({ err: (err as Error).message, user: n.user }, 'could not read a notified change; watchers resync');
        this.watchers.emit(n.user, resyncEvent(n.user));
        return;
      }
      if (changes.length === 0) return; // overwritten since: a later notice tells
    }
    this.watchers.emit(n.user, { key, changes, highestModseq: n.modseq });
  }

  /** The listener was down: whatever changed meanwhile went unheard. */
  private resyncAll(): void {
    for (const user of this.watched.keys()) this.inbound = this.inbound.then(() => this.watchers.emit(user, resyncEvent(user)));
  }
}

function resyncEvent(user: string): RunChangeEvent {
  return { key: { user, mailbox: '', uidValidity: 0 }, changes: [], highestModseq: 0, resync: true };
}
