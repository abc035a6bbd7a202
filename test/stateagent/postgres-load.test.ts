/**
 * PgFlagStore under load (the bench's "Many front-ends" rows): calls for many
 * users at once share statements (reads of many mailboxes in one `loadMany`,
 * writes of many mailboxes in one `writeMany` — one transaction, one WAL
 * flush), each caller still gets its own answer, every change is durable and
 * heard by another store; and a front-end's 1,000 users stay in its cache.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/util/log.js';
import type { ChangeEvent, FlagKey } from '../../src/stateagent/flagstore.js';
import { PgFlagStore } from '../../src/stateagent/stores/postgres.js';
import { postgresForFile } from '../harness/postgres-suite.js';
import { until } from './contract.js';

const key = (i: number): FlagKey => ({ user: `user${i}`, mailbox: 'comp.lang.misc', uidValidity: 1700000000 });

const postgres = postgresForFile();

describe('PgFlagStore under load', () => {
  let a: PgFlagStore;
  let b: PgFlagStore;
  let db: string;
  beforeEach(async () => {
    const url = await postgres.server.createDatabase();
    db = new URL(url).pathname.slice(1);
    a = await PgFlagStore.open({ url, logger: silentLogger() });
    b = await PgFlagStore.open({ url, logger: silentLogger() });
  });
  afterEach(async () => {
    await a.close();
    await b.close();
    await postgres.server.dropDatabase(db);
  });

  it('300 users storing at once share statements; each gets its own result; all durable and heard', async () => {
    const N = 300;
    const heard: ChangeEvent[] = [];
    const stops = Array.from({ length: N }, (_, i) => b.watch(key(i).user, (e) => heard.push(e)));
    const before = a.statements;
    const results = await Promise.all(Array.from({ length: N }, (_, i) => a.update(key(i), [i + 1, i + 2], 'add', ['\\Seen'])));
    // each update is a read (no copy yet) and a write: 600 statements one at a time
    expect(a.statements - before).toBeLessThan(60);
    results.forEach((r, i) => {
      expect(r.bumped).toBe(true);
      expect(r.changes.map((c) => c.uid)).toEqual([i + 1, i + 2]);
    });
    // durable in the database: another store's views (read together too)
    const v0 = b.statements;
    const views = await Promise.all(Array.from({ length: N }, (_, i) => b.view(key(i), 1, N + 2)));
    expect(b.statements - v0).toBeLessThan(30);
    views.forEach((v, i) => {
      expect(v.has(i + 1, '\\Seen') && v.has(i + 2, '\\Seen')).toBe(true);
      expect(v.has(i + 3, '\\Seen')).toBe(false); // not another user's change
      expect(v.highestModseq).toBe(results[i]!.modseq);
    });
    await until(() => heard.length >= N, 'every change by NOTIFY', 10_000);
    expect(new Set(heard.map((e) => e.key.user)).size).toBe(N);
    for (const stop of stops) stop();
  });

  it("a front-end's 1,000 users stay in its cache: a current copy is kept, not read again whole", async () => {
    await Promise.all(Array.from({ length: 1000 }, (_, i) => a.update(key(i), [1], 'add', ['\\Seen'])));
    const first = await a.view(key(0), 1, 10);
    for (let i = 1; i < 1000; i++) await a.view(key(i), 1, 10);
    expect(await a.view(key(0), 1, 10)).toBe(first); // the held copy, confirmed current by one short row
  });
});

describe('PgFlagStore connections', () => {
  it('opens its whole pool at start and keeps it while idle (no handshake under load)', async () => {
    const url = await postgres.server.createDatabase();
    const db = new URL(url).pathname.slice(1);
    const count = async (): Promise<number> =>
      Number((await postgres.server.admin<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'newsfront flags'", [db])).rows[0]!.n);
    const s = await PgFlagStore.open({ url, logger: silentLogger(), poolSize: 3 });
    try {
      expect(await count()).toBe(3);
      await new Promise((r) => setTimeout(r, 11_000)); // past pg-pool's default idle timeout (10 s)
      expect(await count()).toBe(3);
      expect((await s.view(key(1), 1, 10)).has(1, '\\Seen')).toBe(false);
    } finally {
      await s.close();
      await postgres.server.dropDatabase(db);
    }
  }, 30_000);
});
