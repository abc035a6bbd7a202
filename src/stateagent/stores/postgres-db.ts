/**
 * The PostgreSQL flag store's connections: a pool for short statements and
 * transactions, the schema check or migration at open, and one error rule —
 * every driver failure (refused or lost connection, timeout, failed
 * statement) becomes `FlagStoreError('UNAVAILABLE')` with the driver error as
 * `cause`; messages never contain the connection URL.
 */
import pg from 'pg';
import type { Logger } from '../../util/log.js';
import { migrate, schemaVersion, type MigrateResult } from '../../util/pg-migrate.js';
import { guardPool } from '../../util/pg-pool.js';
import { FlagStoreError } from '../flagstore.js';
import { FLAGS_COMPONENT, FLAGS_MIGRATIONS } from './postgres-schema.js';
import type { Query } from './postgres-sql.js';

/** Connections kept per store: one per update in flight (each is one short statement). */
export const PG_POOL_SIZE = 8;
/**
 * Statements of each kind a store keeps out at once (reads: `loadMany`; writes:
 * `writeMany`), each ≤ half the pool so reads never wait behind writes. Calls
 * arriving beyond go out together in the next statement (coalesce.ts): under
 * load a front-end with 1,000 busy sessions sent one statement per FETCH FLAGS
 * and STORE, and with every round trip costing a turn of its busy event loop,
 * calls waited > PG_CONNECT_TIMEOUT_MS for a pooled connection and failed
 * UNAVAILABLE while PostgreSQL sat idle (bench: "Many front-ends").
 */
export const PG_READS_IN_FLIGHT = 4;
export const PG_WRITES_IN_FLIGHT = 4;
/** Mailboxes per coalesced statement: reads return small rows; a write carries its chunks' JSON. */
export const PG_READ_BATCH = 500;
export const PG_WRITE_BATCH = 100;
/** Time to open a connection before the call fails UNAVAILABLE (a dead host must not hang a STORE). */
export const PG_CONNECT_TIMEOUT_MS = 5_000;
/** Time one statement may take before the call fails UNAVAILABLE (as REMOTE_REQUEST_TIMEOUT_MS). */
export const PG_QUERY_TIMEOUT_MS = 15_000;

const INT8_OID = 20;
/** bigint columns hold UIDs (< 2^32), ids and modseqs (< 2^53): exact as JavaScript numbers. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? (t: string) => Number(t) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export function unavailable(what: string, err: unknown): FlagStoreError {
  if (err instanceof FlagStoreError) return err;
  return new FlagStoreError('UNAVAILABLE', `${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

/**
 * Applies the missing flag schema migrations to the database at `url` on one
 * connection of its own, and returns what was done (`newsfront db migrate`;
 * a store also migrates at open). Throws UNAVAILABLE with the cause.
 */
export async function migrateFlagSchema(opts: { url: string; logger: Logger }): Promise<MigrateResult> {
  const pool = new pg.Pool({ connectionString: opts.url, max: 1, application_name: 'newsfront migrate', connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS });
  pool.on('error', (err) => opts.logger.warn({ err: err.message }, 'flag database connection lost'));
  guardPool(pool, opts.logger, 'flags migrate');
  try {
    return await migrate(pool, FLAGS_COMPONENT, FLAGS_MIGRATIONS, opts.logger);
  } catch (err) {
    throw unavailable('cannot migrate the flag database', err);
  } finally {
    await pool.end().catch(() => undefined);
  }
}

/** Raised inside `tx` to roll back and let the caller try again; passed through unwrapped. */
export class Lost extends Error {
  constructor() {
    super('the mailbox row changed meanwhile');
    this.name = 'Lost';
  }
}

export class PgDb {
  /** Statements sent (tests count round trips with it). */
  statements = 0;
  private closed = false;

  private constructor(private readonly pool: pg.Pool) {}

  /**
   * Connect and migrate (or, with `migrate: false`, require the current schema),
   * then open the whole pool: its connections are made at start and kept while
   * idle (no idle timeout), so a front-end under load never waits for a new
   * connection's handshake (under 1,000 busy sessions those took over
   * PG_CONNECT_TIMEOUT_MS and failed STOREs). Throws UNAVAILABLE.
   */
  static async open(opts: { url: string; logger: Logger; poolSize?: number; migrate?: boolean }): Promise<PgDb> {
    const max = opts.poolSize ?? PG_POOL_SIZE;
    const pool = new pg.Pool({
      connectionString: opts.url, max, types, application_name: 'newsfront flags', idleTimeoutMillis: 0,
      connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS, query_timeout: PG_QUERY_TIMEOUT_MS, keepAlive: true,
    });
    // an idle connection that breaks (server restart) must not crash the process; the next call reconnects
    pool.on('error', (err) => opts.logger.warn({ err: err.message }, 'flag database connection lost'));
    guardPool(pool, opts.logger, 'flags');
    try {
      if (opts.migrate === false) {
        const v = await schemaVersion(pool, FLAGS_COMPONENT);
        if (v !== FLAGS_MIGRATIONS.length) throw new Error(`flag schema is at version ${v}, this build needs ${FLAGS_MIGRATIONS.length}`);
      } else {
        await migrate(pool, FLAGS_COMPONENT, FLAGS_MIGRATIONS, opts.logger);
      }
      const clients = await Promise.all(Array.from({ length: max }, () => pool.connect()));
      for (const c of clients) c.release();
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw unavailable('cannot open the flag database', err);
    }
    return new PgDb(pool);
  }

  live(): void {
    if (this.closed) throw new FlagStoreError('UNAVAILABLE', 'flag store is closed');
  }

  /** One statement outside a transaction (its own transaction); rows as arrays. Throws UNAVAILABLE. */
  async query(what: string, text: string, values?: unknown[]): Promise<unknown[][]> {
    this.live();
    this.statements++;
    try {
      return (await this.pool.query({ text, values, rowMode: 'array' })).rows as unknown[][];
    } catch (err) {
      throw unavailable(what, err);
    }
  }

  /** `query` as a `Query` for the statements of postgres-sql.ts. */
  runner(what: string): Query {
    return (text, values) => this.query(what, text, values);
  }

  /**
   * `fn` inside BEGIN … COMMIT on one connection; a throw rolls back. Errors
   * other than FlagStoreError and Lost become UNAVAILABLE.
   */
  async tx<T>(what: string, fn: (q: Query) => Promise<T>): Promise<T> {
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

  /** End the pool; later calls fail UNAVAILABLE. */
  async close(logger: Logger): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end().catch((err: unknown) => logger.warn({ err }, 'closing the flag database pool'));
  }
}
