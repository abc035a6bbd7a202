/**
 * PgUidMapStore: the shared contract suite against a private PostgreSQL
 * (test/harness/postgres.ts; one fresh database per harness), plus what is
 * particular to it: round trips per batch, the copy following the database,
 * and the bulk figure. Several front-ends on one database: postgres-shared.test.ts.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { benchAssign } from '../../bench/uidmap.js';
import { silentLogger } from '../../src/util/log.js';
import { UidMapError } from '../../src/uidmap/errors.js';
import { PgUidMapStore } from '../../src/uidmap/postgres.js';
import type { SeenArticle } from '../../src/uidmap/types.js';
import { postgresForFile } from '../harness/postgres-suite.js';
import { uidMapContract, type HarnessOptions } from './contract.js';

const postgres = postgresForFile();

let dbSeq = 0;
async function freshDb(): Promise<{ name: string; url: string }> {
  const name = `uidmap_${++dbSeq}`;
  return { name, url: await postgres.server.createDatabase(name) };
}

function openAt(url: string, opts?: HarnessOptions): Promise<PgUidMapStore> {
  return PgUidMapStore.open({ url, logger: silentLogger(), ...(opts?.now ? { now: opts.now } : {}) });
}

async function sql(url: string, text: string, values?: unknown[]): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(text, values);
  } finally {
    await c.end();
  }
}

uidMapContract(
  'PgUidMapStore',
  async (opts) => {
    const { name, url } = await freshDb();
    let store = await openAt(url, opts);
    return {
      store,
      reopen: async () => {
        await store.close();
        store = await openAt(url, opts);
        return store;
      },
      lose: async () => {
        await store.close();
        // The maps are lost (every mailbox row and its entries); the store-wide UIDVALIDITY record stays.
        await sql(url, 'DELETE FROM uidmap_entries; DELETE FROM uidmap_mailboxes');
        store = await openAt(url, opts);
        return store;
      },
      cleanup: async () => {
        await store.close();
        await postgres.server.dropDatabase(name);
      },
    };
  },
  { persistent: true },
);

const art = (n: number, id = `<${n}@a>`, upstream = 'nntp://a', group = 'g'): SeenArticle => ({ messageId: id, upstream, group, number: n });

describe('PgUidMapStore specifics', () => {
  it('assigns and removes a 5,000-article batch in a few statements, and answers a re-poll with one', async () => {
    const { url } = await freshDb();
    const store = await openAt(url);
    try {
      const map = await store.open('g');
      const batch = Array.from({ length: 5000 }, (_, i) => art(i + 1));
      let before = store.statements;
      expect(await map.assign(batch, true)).toEqual(batch.map((a) => a.number));
      const assignStatements = store.statements - before;
      expect(assignStatements).toBeLessThanOrEqual(5);

      before = store.statements;
      expect((await map.assign(batch, true))[4999]).toBe(5000);
      expect(store.statements - before).toBe(1); // nothing changed anywhere: the copy answers

      before = store.statements;
      await map.remove(batch.map((a) => a.number));
      expect(store.statements - before).toBeLessThanOrEqual(5);
      expect(map.count()).toBe(0);
      expect(map.uidNext()).toBe(5001);
      console.log(`PostgreSQL: assign of 5,000 new articles took ${assignStatements} statements`);
    } finally {
      await store.close();
    }
  });

  it('stores Message-IDs with quotes, backslashes, braces, commas and the word NULL exactly', async () => {
    const { url } = await freshDb();
    const ids = ['<"q"@a>', '<back\\slash@a>', '<{br,ace}@a>', 'NULL', '<ü€😀@a>', "<it's@a>", '<  spaced  @a>'];
    const store = await openAt(url);
    const map = await store.open('odd');
    const uids = await map.assign(ids.map((id, i) => art(i + 1, id)), true);
    expect(uids).toEqual([1, 2, 3, 4, 5, 6, 7]);
    await store.close();
    const store2 = await openAt(url);
    const again = await store2.open('odd');
    for (const [i, id] of ids.entries()) {
      expect(again.uidOf(id)).toBe(i + 1);
      expect(again.lookup(i + 1)?.messageId).toBe(id);
    }
    await store2.close();
    const rows = await sql(url, 'SELECT message_id FROM uidmap_entries ORDER BY uid');
    expect(rows.rows.map((r: { message_id: string }) => r.message_id)).toEqual(ids);
  });

  it('recovers when its copy disagrees with the database: reloads under the lock and retries once', async () => {
    const { url } = await freshDb();
    const store = await openAt(url);
    try {
      const map = await store.open('g');
      await map.assign([art(1), art(2), art(3)], true);
      // Changes written behind the store's back, without a new change number: its copy cannot see them.
      await sql(url, "INSERT INTO uidmap_entries (mailbox_id, uid, message_id, upstream, grp, number, changed) SELECT id, 7, '<hidden@z>', 'u', 'g', 7, seq FROM uidmap_mailboxes");
      await sql(url, "UPDATE uidmap_mailboxes SET uid_next = 8");
      await sql(url, 'UPDATE uidmap_entries SET message_id = NULL, upstream = NULL, grp = NULL, number = NULL WHERE uid = 2');
      expect(map.uidOf('<hidden@z>')).toBeUndefined();
      // Planned as new (UID 8), the insert meets the stored Message-ID; after the reload it is known at 7.
      expect(await map.assign([art(3, '<hidden@z>')], true)).toEqual([7]);
      expect(map.lookup(7)?.location.number).toBe(3);
      expect(map.lookup(2)).toBeUndefined();
      expect([...map.uids()]).toEqual([1, 3, 7]);
      expect(map.uidNext()).toBe(8);
    } finally {
      await store.close();
    }
  });

  it('removes what is still there when its copy lists a UID the database already removed', async () => {
    const { url } = await freshDb();
    const store = await openAt(url);
    try {
      const map = await store.open('g');
      await map.assign([art(1), art(2), art(3)], true);
      await sql(url, 'UPDATE uidmap_entries SET message_id = NULL, upstream = NULL, grp = NULL, number = NULL WHERE uid = 2');
      await map.remove([2, 3]);
      expect([...map.uids()]).toEqual([1]);
      const rows = await sql(url, 'SELECT uid FROM uidmap_entries WHERE message_id IS NOT NULL');
      expect(rows.rows.map((r: { uid: string }) => Number(r.uid))).toEqual([1]);
    } finally {
      await store.close();
    }
  });

  it('refuses to open without migrating when asked not to migrate, naming the command', async () => {
    const { url } = await freshDb();
    const err = await PgUidMapStore.open({ url, logger: silentLogger(), migrate: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UidMapError);
    expect((err as UidMapError).code).toBe('STORAGE');
    expect((err as Error).message).toMatch(/version 0.*newsfront db migrate/);
    await (await openAt(url)).close(); // migrates
    await (await PgUidMapStore.open({ url, logger: silentLogger(), migrate: false })).close();
  });

  it('reports an unreachable database or a wrong password as STORAGE without echoing the URL', async () => {
    const wrong = postgres.server.url.replace(`:${postgres.server.password}@`, ':not-the-password@');
    const err = await openAt(wrong).catch((e: unknown) => e);
    expect((err as UidMapError).code).toBe('STORAGE');
    expect((err as Error).message).toMatch(/password authentication failed/);
    expect((err as Error).message).not.toContain('not-the-password');
  });

  it('fails a write cleanly while the database is unreachable and recovers after', async () => {
    const { url } = await freshDb();
    const store = await openAt(url);
    try {
      const map = await store.open('g');
      await map.assign([art(1), art(2)], true);
      // End every session of this store; the pool's idle connections break.
      await postgres.server.admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'newsfront uidmap' AND datname = $1", [url.split('/').pop()]);
      // The first write may meet a dead connection (STORAGE); the map is unchanged either way.
      const first = await map.assign([art(3)], true).catch((e: unknown) => e);
      if (first instanceof UidMapError) expect(first.code).toBe('STORAGE');
      expect(await map.assign([art(3), art(4)], true)).toEqual([3, 4]);
      expect([...map.uids()]).toEqual([1, 2, 3, 4]);
    } finally {
      await store.close();
    }
  });

  it('assigns 100,000 articles in 5,000-article batches (figure printed, not asserted)', async () => {
    const { url } = await freshDb();
    const store = await openAt(url);
    try {
      const { seconds, mailbox } = await benchAssign(store, 100_000, 5_000);
      const map = await store.open(mailbox);
      expect(map.count()).toBe(100_000);
      expect(map.uidNext()).toBe(100_001);
      expect([...map.uids(99_999)]).toEqual([99_999, 100_000]);
      console.log(`benchAssign PostgreSQL 100k/5k (fsync off): ${seconds.toFixed(3)} s`);
    } finally {
      await store.close();
    }
  });
});
