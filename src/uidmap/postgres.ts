/**
 * UidMapStore on PostgreSQL, for several front-ends on several machines that
 * share nothing else (DESIGN "Scale"). Layout and migrations: `pg-schema.ts`;
 * they are applied (under an advisory lock) when the store opens. This file
 * holds the store (connections, transactions, opening maps); one mailbox's
 * map is `pg-map.ts`, its in-memory copy `pg-mirror.ts`.
 *
 * PostgreSQL is authoritative, so every front-end gives every article the same
 * UID whatever its start time, cache or upstream order:
 * - `assign` and `remove` run as one transaction that first locks the mailbox
 *   row (`SELECT … FOR UPDATE`: one writer per mailbox at a time, across all
 *   front-ends), then pulls every entry row changed by anyone since this
 *   front-end's copy (`changed > seq`, tombstones included), then plans with
 *   the shared first-sight rule (`plan.ts`) against that now-current copy and
 *   the locked UIDNEXT, and writes inserts, moves, UIDNEXT and the new change
 *   number in ONE statement (unnest arrays): a 5,000-article batch costs five
 *   round trips (BEGIN, lock, pull, write, COMMIT), not 5,000. Should the
 *   copy ever disagree with the database anyway (an insert meets an existing
 *   UID or Message-ID, or fewer rows change than planned), the transaction is
 *   rolled back, the copy reloaded whole under the lock and the call retried
 *   once; a second disagreement is thrown as `STORAGE` ("out of step").
 * - an `assign` of articles all known at their known locations (a re-poll)
 *   asks only for the mailbox's change number; if nothing changed since the
 *   copy, it is answered from the copy without a transaction.
 * - UIDVALIDITY is chosen once, by whichever front-end creates the mailbox row
 *   first (`max(its clock, highest ever + 1)`, serialised on the `uidmap_meta`
 *   row); every other front-end reads it.
 *
 * The synchronous reads (uidOf, lookup, uids, count, uidNext) are answered
 * from an in-memory copy of the mailbox (`pg-mirror.ts`) loaded when the map
 * is opened and brought up to date by every `assign`/`remove`: a front-end
 * sees what other front-ends added or removed once it next writes to that
 * mailbox (each front-end polls its upstreams, so within a poll interval).
 * Calls on one map are serialised in this process.
 *
 * Durability: `assign`, `remove` and map creation resolve after COMMIT
 * (durable under PostgreSQL's default synchronous_commit). A failed or
 * ambiguous COMMIT leaves the copy as it was; the next call pulls whatever
 * was committed.
 *
 * Errors: `UidMapError` (`INVALID_INPUT`, `UID_EXHAUSTED`,
 * `UIDVALIDITY_EXHAUSTED`, `CLOSED`); driver and migration errors are wrapped
 * as `STORAGE` with `cause`. Messages never contain the connection URL. The
 * caller owns the store and must `close()` it (waits for calls in flight, ends
 * the pool); maps opened from it become unusable (`CLOSED`) then.
 */
import pg from 'pg';
import type { Logger } from '../util/log.js';
import { migrate, type MigrateResult, schemaVersion } from '../util/pg-migrate.js';
import { guardPool } from '../util/pg-pool.js';
import { UidMapError } from './errors.js';
import { PgMailboxUidMap, type Query } from './pg-map.js';
import { type EntryRow, Mirror } from './pg-mirror.js';
import { UIDMAP_COMPONENT, UIDMAP_MIGRATIONS } from './pg-schema.js';
import type { MailboxUidMap, UidMapStore } from './types.js';
import { type Clock, nextUidValidity, systemClock } from './uidvalidity.js';
import { checkMailbox } from './validate.js';

export interface PgUidMapStoreOptions {
  /** `postgres://user:password@host:port/database` (or `postgresql://`), as the `pg` driver reads it. */
  url: string;
  logger: Logger;
  /** Clock for new UIDVALIDITYs (unix seconds); defaults to the system clock. */
  now?: Clock;
  /** Connections kept open (default 4: one write per mailbox at a time, a few mailboxes at once). */
  poolSize?: number;
  /** Apply missing migrations at open (default true); false requires the schema to be current already. */
  migrate?: boolean;
}

/** Rows per page when a mailbox is loaded at open. */
const LOAD_PAGE = 50_000;
const INT8_OID = 20;

/** bigint columns hold UIDs (< 2^32) and article numbers (≤ 2^53-1): exact as JavaScript numbers. */
function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new UidMapError('STORAGE', `bigint ${text} from the database is beyond 2^53-1`);
  return n;
}

const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export function storageError(what: string, err: unknown): UidMapError {
  if (err instanceof UidMapError) return err;
  return new UidMapError('STORAGE', `${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

export class PgUidMapStore implements UidMapStore {
  /** @internal Statements sent to the server (tests count round trips with it). */
  statements = 0;
  private readonly maps = new Map<string, PgMailboxUidMap>();
  private readonly opening = new Map<string, Promise<PgMailboxUidMap>>();
  private readonly names: Set<string>;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    names: string[],
    /** @internal */ readonly logger: Logger,
    private readonly now: Clock,
  ) {
    this.names = new Set(names);
  }

  /**
   * Connects, applies missing migrations (unless `migrate: false`, which then
   * requires the current schema) and lists the mailboxes. Throws `STORAGE`.
   */
  static async open(opts: PgUidMapStoreOptions): Promise<PgUidMapStore> {
    const logger = opts.logger.child({ component: 'uidmap' });
    const pool = new pg.Pool({ connectionString: opts.url, max: opts.poolSize ?? 4, types, application_name: 'newsfront uidmap' });
    // An idle connection that breaks (server restart) must not crash the process; the next query reconnects.
    pool.on('error', (err) => logger.warn({ err: err.message }, 'UID map database connection lost'));
    guardPool(pool, logger, 'uidmap');
    try {
      if (opts.migrate === false) {
        const v = await schemaVersion(pool, UIDMAP_COMPONENT);
        if (v !== UIDMAP_MIGRATIONS.length) {
          throw new UidMapError('STORAGE', `UID map schema is at version ${v}, this build needs ${UIDMAP_MIGRATIONS.length}: run "newsfront db migrate"`);
        }
      } else {
        await migrate(pool, UIDMAP_COMPONENT, UIDMAP_MIGRATIONS, logger);
      }
      const r = await pool.query<{ name: string }>('SELECT name FROM uidmap_mailboxes');
      const store = new PgUidMapStore(pool, r.rows.map((x) => x.name), logger, opts.now ?? systemClock);
      logger.debug({ mailboxes: r.rows.length }, 'UID map store opened (PostgreSQL)');
      return store;
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw storageError('cannot open the UID map database', err);
    }
  }

  /**
   * Applies the missing UID map migrations to the database at `url` and
   * returns what was done (`newsfront db migrate`). Throws `STORAGE`.
   */
  static async migrate(opts: { url: string; logger: Logger }): Promise<MigrateResult> {
    const logger = opts.logger.child({ component: 'uidmap' });
    const pool = new pg.Pool({ connectionString: opts.url, max: 1, application_name: 'newsfront migrate' });
    pool.on('error', (err) => logger.warn({ err: err.message }, 'UID map database connection lost'));
    guardPool(pool, logger, 'uidmap migrate');
    try {
      return await migrate(pool, UIDMAP_COMPONENT, UIDMAP_MIGRATIONS, logger);
    } catch (err) {
      throw storageError('cannot migrate the UID map database', err);
    } finally {
      await pool.end().catch(() => undefined);
    }
  }

  /** @internal Throws `CLOSED` after `close()`. */
  assertOpen(): void {
    if (this.closed) throw new UidMapError('CLOSED', 'UID map store is closed');
  }

  /** @internal One statement outside a transaction; rows as arrays. */
  async query(what: string, text: string, values?: unknown[]): Promise<unknown[][]> {
    this.assertOpen();
    this.statements++;
    try {
      return (await this.pool.query({ text, values, rowMode: 'array' })).rows as unknown[][];
    } catch (err) {
      throw storageError(what, err);
    }
  }

  /** @internal The mailbox's change number, or -1 if the row is gone. */
  async seqOf(id: number): Promise<number> {
    const rows = await this.query('read change number', 'SELECT seq FROM uidmap_mailboxes WHERE id = $1', [id]);
    return rows.length === 0 ? -1 : (rows[0]![0] as number);
  }

  /**
   * @internal Runs `fn` inside BEGIN … COMMIT on one pooled connection; a
   * throw rolls back. Errors other than `UidMapError` become `STORAGE`.
   */
  async tx<T>(what: string, fn: (q: Query) => Promise<T>, mode = ''): Promise<T> {
    this.assertOpen();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw storageError(`${what}: cannot connect`, err);
    }
    const q: Query = async (text, values) => {
      this.statements++;
      return (await client.query({ text, values, rowMode: 'array' })).rows as unknown[][];
    };
    let broken: Error | undefined;
    try {
      await q(`BEGIN${mode}`);
      const result = await fn(q);
      await q('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        broken = rollbackErr as Error; // the connection is unusable: destroy it
      }
      throw storageError(what, err);
    } finally {
      client.release(broken);
    }
  }

  /** @internal Every live entry of a mailbox, in pages (inside the caller's transaction). */
  async allRows(q: Query, id: number): Promise<EntryRow[]> {
    const out: EntryRow[] = [];
    for (let after = 0; ; ) {
      const page = (await q(
        'SELECT uid, message_id, upstream, grp, number FROM uidmap_entries WHERE mailbox_id = $1 AND uid > $2 AND message_id IS NOT NULL ORDER BY uid LIMIT $3',
        [id, after, LOAD_PAGE],
      )) as EntryRow[];
      for (const r of page) out.push(r);
      if (page.length < LOAD_PAGE) return out;
      after = page[page.length - 1]![0];
    }
  }

  /** @internal Drops a cached map whose mailbox row vanished, so the next `open` looks again. */
  forget(mailbox: string, map: PgMailboxUidMap): void {
    if (this.maps.get(mailbox) === map) this.maps.delete(mailbox);
  }

  async open(mailbox: string): Promise<MailboxUidMap> {
    this.assertOpen();
    checkMailbox(mailbox);
    const cached = this.maps.get(mailbox);
    if (cached !== undefined) return cached;
    let pending = this.opening.get(mailbox);
    if (pending === undefined) {
      pending = this.load(mailbox).finally(() => this.opening.delete(mailbox));
      this.opening.set(mailbox, pending);
    }
    return pending;
  }

  /** Finds or creates the mailbox row, then loads its copy in one consistent snapshot. */
  private async load(mailbox: string): Promise<PgMailboxUidMap> {
    let row = (await this.query('open', 'SELECT id, uid_validity FROM uidmap_mailboxes WHERE name = $1', [mailbox]))[0];
    if (row === undefined) {
      let created = false;
      row = await this.tx('create map', async (q) => {
        const meta = await q('SELECT last_uid_validity FROM uidmap_meta FOR UPDATE');
        if (meta.length === 0) throw new UidMapError('STORAGE', 'uidmap_meta row is missing');
        const again = (await q('SELECT id, uid_validity FROM uidmap_mailboxes WHERE name = $1', [mailbox]))[0];
        if (again !== undefined) return again; // another front-end (or call) was first
        const uidValidity = nextUidValidity(this.now(), meta[0]![0] as number);
        const [fresh] = await q('INSERT INTO uidmap_mailboxes (name, uid_validity) VALUES ($1, $2) RETURNING id, uid_validity', [mailbox, uidValidity]);
        await q('UPDATE uidmap_meta SET last_uid_validity = $1', [uidValidity]);
        created = true;
        return fresh!;
      });
      if (created) this.logger.info({ mailbox, uidValidity: row[1] }, 'created UID map');
    }
    const [id, uidValidity] = row as [number, number];
    const mirror = new Mirror();
    await this.tx(
      'load map',
      async (q) => {
        const head = (await q('SELECT uid_next, seq FROM uidmap_mailboxes WHERE id = $1', [id]))[0];
        if (head === undefined) throw new UidMapError('STORAGE', `UID map of ${mailbox} vanished from the database`);
        mirror.uidNext = head[0] as number;
        mirror.seq = head[1] as number;
        mirror.applyRows(await this.allRows(q, id));
      },
      ' ISOLATION LEVEL REPEATABLE READ READ ONLY',
    );
    this.assertOpen();
    const map = new PgMailboxUidMap(mailbox, id, uidValidity, mirror, this);
    this.maps.set(mailbox, map);
    this.names.add(mailbox);
    return map;
  }

  /** Mailboxes with a map: those in the database when the store opened, plus those opened since. */
  mailboxes(): string[] {
    this.assertOpen();
    return [...this.names];
  }

  /** Waits for calls in flight on every map, then ends the pool. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const maps = [...this.maps.values()];
    this.maps.clear();
    await Promise.all([...maps.map((m) => m.settled()), ...[...this.opening.values()].map((p) => p.catch(() => undefined))]);
    await this.pool.end();
  }
}
