/**
 * Versioned migrations (src/util/pg-migrate.ts) against a private PostgreSQL,
 * and `newsfront db migrate` as a process: the UID map schema (`--uidmap`)
 * and the flag schema (`--state`, `agent.store`), so an operator can migrate
 * every schema ahead of a roll-out.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/util/log.js';
import { migrate, MigrationError, schemaVersion, type Migration } from '../../src/util/pg-migrate.js';
import { UIDMAP_MIGRATIONS } from '../../src/uidmap/pg-schema.js';
import { FLAGS_MIGRATIONS } from '../../src/stateagent/stores/postgres-schema.js';
import { PgFlagStore } from '../../src/stateagent/stores/postgres.js';
import { silentLogger } from '../../src/util/log.js';
import { postgresForFile } from '../harness/postgres-suite.js';
import { runCli } from '../harness/cli-run.js';

const postgres = postgresForFile();

const pools: pg.Pool[] = [];
afterEach(async () => {
  for (const p of pools.splice(0)) await p.end();
});

let dbSeq = 0;
async function freshPool(): Promise<{ pool: pg.Pool; url: string }> {
  const url = await postgres.server.createDatabase(`mig_${++dbSeq}`);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pools.push(pool);
  return { pool, url };
}

function recordingLogger(warns: string[]): Logger {
  const log = { warn: (_o: unknown, msg: string) => warns.push(msg), info: () => undefined, debug: () => undefined, child: () => log };
  return log as unknown as Logger;
}

const three: Migration[] = [
  { version: 1, name: 'one', sql: 'CREATE TABLE t1 (x int)' },
  // Slow on purpose, so concurrent callers really overlap inside the lock window.
  { version: 2, name: 'two', sql: 'SELECT pg_sleep(0.3); CREATE TABLE t2 (x int)' },
  { version: 3, name: 'three', sql: 'ALTER TABLE t1 ADD COLUMN y text; INSERT INTO t1 VALUES (1, $$a$$)' },
];

async function tables(pool: pg.Pool): Promise<string[]> {
  const r = await pool.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
  return r.rows.map((x) => x.t);
}

describe('pg-migrate', () => {
  it('applies missing migrations in order, records them, and does nothing the second time', async () => {
    const { pool } = await freshPool();
    expect(await schemaVersion(pool, 'demo')).toBe(0);
    expect(await migrate(pool, 'demo', three.slice(0, 2))).toEqual({ applied: [1, 2], version: 2 });
    expect(await migrate(pool, 'demo', three)).toEqual({ applied: [3], version: 3 });
    expect(await migrate(pool, 'demo', three)).toEqual({ applied: [], version: 3 });
    expect(await schemaVersion(pool, 'demo')).toBe(3);
    expect((await pool.query('SELECT x, y FROM t1')).rows).toEqual([{ x: 1, y: 'a' }]);
    expect(await schemaVersion(pool, 'other')).toBe(0);
  });

  it('lets many callers race on a fresh database: each migration is applied exactly once', async () => {
    const { url } = await freshPool();
    const racers = Array.from({ length: 6 }, () => {
      const p = new pg.Pool({ connectionString: url, max: 1 });
      pools.push(p);
      return p;
    });
    const results = await Promise.all(racers.map((p) => migrate(p, 'demo', three)));
    expect(results.flatMap((r) => r.applied).sort()).toEqual([1, 2, 3]);
    expect(results.every((r) => r.version === 3)).toBe(true);
    const rows = await racers[0]!.query('SELECT version FROM schema_migrations WHERE component = $1 ORDER BY version', ['demo']);
    expect(rows.rows.map((r: { version: number }) => r.version)).toEqual([1, 2, 3]);
  });

  it('rolls back the whole call when a migration fails, naming it', async () => {
    const { pool } = await freshPool();
    const bad: Migration[] = [three[0]!, { version: 2, name: 'broken', sql: 'CREATE TABLE t2 (x int); CREATE TABLE oops (' }];
    const err = await migrate(pool, 'demo', bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationError);
    expect((err as MigrationError).code).toBe('FAILED');
    expect((err as Error).message).toMatch(/migration 2 \(broken\)/);
    expect(await tables(pool)).toEqual([]); // not even schema_migrations or t1
    expect(await migrate(pool, 'demo', three.slice(0, 1))).toEqual({ applied: [1], version: 1 });
  });

  it('refuses a database migrated by a newer build, and a malformed list', async () => {
    const { pool } = await freshPool();
    await migrate(pool, 'demo', three);
    const newer = await migrate(pool, 'demo', three.slice(0, 2)).catch((e: unknown) => e);
    expect((newer as MigrationError).code).toBe('NEWER_SCHEMA');
    expect((newer as Error).message).toMatch(/version 3.*\(2\)/);
    const gap = await migrate(pool, 'demo', [three[1]!]).catch((e: unknown) => e);
    expect((gap as MigrationError).code).toBe('BAD_MIGRATIONS');
  });

  it('keeps components apart and warns when an applied migration was edited', async () => {
    const { pool } = await freshPool();
    await migrate(pool, 'a', [{ version: 1, name: 'a1', sql: 'CREATE TABLE a1 (x int)' }]);
    expect(await migrate(pool, 'b', [{ version: 1, name: 'b1', sql: 'CREATE TABLE b1 (x int)' }])).toEqual({ applied: [1], version: 1 });
    const warns: string[] = [];
    const edited = [{ version: 1, name: 'a1', sql: 'CREATE TABLE a1 (x bigint)' }];
    expect(await migrate(pool, 'a', edited, recordingLogger(warns))).toEqual({ applied: [], version: 1 });
    expect(warns).toHaveLength(1);
    expect(warns[0]).toMatch(/differs/);
    expect(await tables(pool)).toEqual(['a1', 'b1', 'schema_migrations']);
  });
});

describe('newsfront db migrate', () => {
  it('migrates the uidmap database once, then reports it current; the password is never printed', async () => {
    const { pool, url } = await freshPool();
    const first = await runCli(['db', 'migrate', '--uidmap', url, '--log-level', 'silent']);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(first.out).toMatch(new RegExp(`version ${UIDMAP_MIGRATIONS.length} \\(applied 1`));
    expect(first.out).not.toContain(postgres.server.password);
    expect(await schemaVersion(pool, 'uidmap')).toBe(UIDMAP_MIGRATIONS.length);
    const again = await runCli(['db', 'migrate', '--log-level', 'silent'], { env: { NEWSFRONT_UIDMAP: url } });
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/already current/);
  });

  it('migrates the flag schema too (--state, NEWSFRONT_STATE, agent.store): a store that must not migrate then opens', async () => {
    const { pool, url } = await freshPool();
    // an empty database: a flag store that may not migrate refuses it
    await expect(PgFlagStore.open({ url, logger: silentLogger(), migrate: false })).rejects.toThrow(/flag schema is at version 0/);
    const both = await runCli(['db', 'migrate', '--uidmap', url, '--state', url, '--log-level', 'silent']);
    expect(both.err).toBe('');
    expect(both.code).toBe(0);
    expect(both.out.split('\n').filter((l) => l !== '')).toEqual([
      expect.stringMatching(new RegExp(`^uidmap schema at version ${UIDMAP_MIGRATIONS.length} \\(applied 1`)),
      expect.stringMatching(new RegExp(`^flags schema at version ${FLAGS_MIGRATIONS.length} \\(applied 1`)),
    ]);
    expect(both.out).not.toContain(postgres.server.password);
    expect(await schemaVersion(pool, 'flags')).toBe(FLAGS_MIGRATIONS.length);
    const store = await PgFlagStore.open({ url, logger: silentLogger(), migrate: false });
    await store.close();

    // flags alone, from the environment, then as the agent's store: once applied, current
    const other = await freshPool();
    const env = await runCli(['db', 'migrate', '--log-level', 'silent'], { env: { NEWSFRONT_STATE: other.url } });
    expect(env.code).toBe(0);
    expect(env.out).toMatch(new RegExp(`^flags schema at version ${FLAGS_MIGRATIONS.length} \\(applied 1[^)]*\\) in postgres://\\S+\n$`));
    const agent = await runCli(['db', 'migrate', '--log-level', 'silent'], { env: { NEWSFRONT_AGENT_STORE: other.url } });
    expect(agent.code).toBe(0);
    expect(agent.out).toMatch(/^flags schema at version \d+ \(already current\)/);
    expect(await schemaVersion(other.pool, 'uidmap')).toBe(0);
    // flags kept elsewhere and no uidmap: nothing to migrate
    const local = await runCli(['db', 'migrate', '--state', 'local']);
    expect(local.code).toBe(2);
    expect(local.err).toMatch(/^config: uidmap: not set, and state is not a postgres:\/\/ URL/);
  });

  it('exits 2 without a PostgreSQL URL or with another scheme, and 1 when the database refuses', async () => {
    const none = await runCli(['db', 'migrate']);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/^config: uidmap: not set/);
    const other = await runCli(['db', 'migrate', '--uidmap', 'mysql://u:secret@h/db']);
    expect(other.code).toBe(2);
    expect(other.err).toMatch(/^config: uidmap: expected null or postgres:\/\/.*\(from --uidmap\)/);
    expect(other.err).not.toContain('secret');
    const refused = await runCli(['db', 'migrate', '--uidmap', postgres.server.url.replace(`:${postgres.server.password}@`, ':wrong@'), '--log-level', 'silent']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/password authentication failed/);
  });
});
