/**
 * Versioned schema migrations for the PostgreSQL stores (UID map, flag store).
 *
 * Each component (`uidmap`, `flags`, …) owns an ordered list of migrations
 * numbered 1, 2, 3 … without gaps; a migration is SQL (one or more statements)
 * that is never edited once released: a change is a new migration. What was
 * applied is recorded in one shared table:
 *
 *   schema_migrations (component, version, name, checksum, applied_at)
 *
 * `migrate` runs at every start of a store (and from `newsfront db migrate`):
 * in ONE transaction it takes a transaction-level advisory lock (so two
 * front-ends starting at once apply each migration once: the second waits,
 * then finds nothing left to do), creates `schema_migrations` if missing,
 * applies the missing migrations in order and records them. PostgreSQL DDL is
 * transactional, so a failing migration leaves the database as it was.
 * Running it again is a no-op (idempotent).
 *
 * A database whose recorded version is higher than the highest migration this
 * build knows is refused (`NEWER_SCHEMA`): an older build must not write into a
 * layout it does not understand. A recorded migration whose SQL differs from
 * this build's (checksum) is logged as a warning and otherwise ignored.
 *
 * Errors: `MigrationError` with a stable `code`; the driver error is the `cause`.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from './log.js';

export interface Migration {
  /** 1, 2, 3 … in list order. */
  readonly version: number;
  /** Short description, recorded with the version. */
  readonly name: string;
  /** One or more SQL statements, run as one simple query inside the transaction. */
  readonly sql: string;
}

export type MigrationErrorCode =
  /** The migration list itself is malformed (not numbered 1..n in order). */
  | 'BAD_MIGRATIONS'
  /** The database was migrated by a newer build. */
  | 'NEWER_SCHEMA'
  /** A statement failed or the database could not be reached; see `cause`. */
  | 'FAILED';

export class MigrationError extends Error {
  readonly code: MigrationErrorCode;
  constructor(code: MigrationErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MigrationError';
    this.code = code;
  }
}

export interface MigrateResult {
  /** Versions applied by this call, ascending (empty when the schema was current). */
  applied: number[];
  /** The schema version after the call. */
  version: number;
}

/**
 * Key of the advisory lock all newsfront migrations take ("nfmigr" in ASCII):
 * one lock for every component keeps the rule simple; migrations are rare.
 */
export const MIGRATION_LOCK_KEY = 0x6e666d69677273n;

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  component text COLLATE "C" NOT NULL,
  version integer NOT NULL CHECK (version >= 1),
  name text NOT NULL,
  checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (component, version)
)`;

function checksum(sql: string): string {
  return createHash('sha256').update(sql, 'utf8').digest('hex');
}

function checkList(component: string, migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new MigrationError('BAD_MIGRATIONS', `${component} migration #${i} has version ${m.version}; expected ${i + 1} (numbered 1..n in order)`);
    }
  });
}

/**
 * Applies the missing migrations of `component`; see the file comment. Takes
 * one connection from `pool` for the duration and returns it.
 */
export async function migrate(pool: pg.Pool, component: string, migrations: readonly Migration[], logger?: Logger): Promise<MigrateResult> {
  checkList(component, migrations);
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw new MigrationError('FAILED', `cannot connect to migrate ${component}: ${(err as Error).message}`, { cause: err });
  }
  let failed: Error | undefined;
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
    await client.query(CREATE_TABLE);
    const done = await client.query<{ version: number; checksum: string }>(
      'SELECT version, checksum FROM schema_migrations WHERE component = $1 ORDER BY version',
      [component],
    );
    const recorded = new Map(done.rows.map((r) => [Number(r.version), r.checksum]));
    const highest = Math.max(0, ...recorded.keys());
    if (highest > migrations.length) {
      throw new MigrationError(
        'NEWER_SCHEMA',
        `${component} schema is at version ${highest}, newer than this build knows (${migrations.length}); upgrade newsfront`,
      );
    }
    const applied: number[] = [];
    for (const m of migrations) {
      const sum = checksum(m.sql);
      const had = recorded.get(m.version);
      if (had !== undefined) {
        if (had !== sum) logger?.warn({ component, version: m.version }, 'applied migration differs from this build (checksum); not re-applied');
        continue;
      }
      try {
        await client.query(m.sql);
      } catch (err) {
        throw new MigrationError('FAILED', `${component} migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, { cause: err });
      }
      await client.query('INSERT INTO schema_migrations (component, version, name, checksum) VALUES ($1, $2, $3, $4)', [
        component,
        m.version,
        m.name,
        sum,
      ]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
    if (applied.length > 0) logger?.info({ component, applied, version: migrations.length }, 'schema migrated');
    return { applied, version: Math.max(highest, migrations.length) };
  } catch (err) {
    failed = err as Error;
    await client.query('ROLLBACK').catch(() => undefined);
    if (err instanceof MigrationError) throw err;
    throw new MigrationError('FAILED', `migrating ${component}: ${(err as Error).message}`, { cause: err });
  } finally {
    client.release(failed);
  }
}

/** The recorded schema version of `component` (0 when nothing was applied yet). */
export async function schemaVersion(pool: pg.Pool, component: string): Promise<number> {
  try {
    const exists = await pool.query<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t");
    if (exists.rows[0]?.t == null) return 0;
    const r = await pool.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations WHERE component = $1', [component]);
    return Number(r.rows[0]?.v ?? 0);
  } catch (err) {
    throw new MigrationError('FAILED', `reading the ${component} schema version: ${(err as Error).message}`, { cause: err });
  }
}
