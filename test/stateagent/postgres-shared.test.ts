/**
 * PgFlagStore beyond the contract: several stores (front-ends) on one
 * database. A change through one reaches the others' watchers (NOTIFY) and
 * views; stale copies never lose a change; users stay apart; a big STORE is
 * one statement; a change too large for a NOTIFY payload still arrives whole.
 */
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/util/log.js';
import type { ChangeEvent, FlagKey } from '../../src/stateagent/flagstore.js';
import { PgFlagStore } from '../../src/stateagent/stores/postgres.js';
import { postgresForFile } from '../harness/postgres-suite.js';
import { until } from './contract.js';

const K: FlagKey = { user: 'alice', mailbox: 'comp.lang.misc', uidValidity: 1700000000 };

const postgres = postgresForFile();

function range(lo: number, hi: number, step = 1): number[] {
  const out: number[] = [];
  for (let u = lo; u <= hi; u += step) out.push(u);
  return out;
}

describe('PgFlagStore: several stores on one database', () => {
  let a: PgFlagStore;
  let b: PgFlagStore;
  let db: string;
  let url: string;
  beforeEach(async () => {
    url = await postgres.server.createDatabase();
    db = new URL(url).pathname.slice(1);
    a = await PgFlagStore.open({ url, logger: silentLogger() });
    b = await PgFlagStore.open({ url, logger: silentLogger() });
  });
  afterEach(async () => {
    await a.close();
    await b.close();
    await postgres.server.dropDatabase(db);
  });

  it("a change through one store reaches the other's watcher and views", async () => {
    const heard: ChangeEvent[] = [];
    const stop = b.watch('alice', (e) => heard.push(e));
    expect((await b.view(K, 1, 10)).has(3, '\\Seen')).toBe(false); // b holds a copy now
    const r = await a.update(K, [1, 2, 3, 7], 'add', ['\\Seen']);
    await until(() => heard.length >= 1, 'change event', 10_000);
    expect(heard[0]!.key).toEqual(K);
    expect(heard[0]!.highestModseq).toBe(r.modseq);
    expect(heard[0]!.modseq).toBe(r.modseq);
    expect(heard[0]!.changes).toEqual([1, 2, 3, 7].map((uid) => ({ uid, flags: ['\\Seen'], modseq: r.modseq })));
    const v = await b.view(K, 1, 10);
    expect(v.highestModseq).toBe(r.modseq);
    expect([1, 2, 3, 4, 7].map((u) => v.has(u, '\\Seen'))).toEqual([true, true, true, false, true]);
    expect((await b.changedSince(K, 1)).map((c) => c.uid)).toEqual([1, 2, 3, 7]);
    stop();
    // the writer does not hear its own change twice (once at once, never again by NOTIFY)
    const own: ChangeEvent[] = [];
    const stopOwn = a.watch('alice', (e) => own.push(e));
    await a.update(K, [9], 'add', ['\\Flagged']);
    await b.update(K, [10], 'add', ['\\Flagged']); // ordered after a's on the channel
    await until(() => own.length >= 2, 'both events', 10_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(own.map((e) => e.changes.map((c) => c.uid))).toEqual([[9], [10]]);
    stopOwn();
  });

  it('stale copies lose no change: the write is redone on the current state', async () => {
    await a.view(K, 1, 10);
    await b.view(K, 1, 10);
    const r1 = await a.update(K, [1], 'add', ['\\Seen']);
    const r2 = await b.update(K, [2], 'add', ['\\Flagged']); // b's copy is older than r1
    expect(r2.modseq).toBe(r1.modseq + 1);
    expect(r2.changes).toEqual([{ uid: 2, flags: ['\\Flagged'], modseq: r2.modseq }]);
    // many at once from both sides, one UID each
    const all = await Promise.all(range(11, 50).map((u) => (u % 2 ? a : b).update(K, [u], 'add', ['\\Seen'])));
    const modseqs = all.map((r) => r.modseq).sort((x, y) => x - y);
    expect(modseqs).toEqual(range(r2.modseq + 1, r2.modseq + 40));
    for (const s of [a, b]) {
      const v = await s.view(K, 1, 60);
      expect(v.highestModseq).toBe(r2.modseq + 40);
      expect(v.has(1, '\\Seen') && v.has(2, '\\Flagged')).toBe(true);
      expect(range(11, 50).every((u) => v.has(u, '\\Seen'))).toBe(true);
    }
  });

  it('"nothing to change" is decided on the database, not on a stale copy', async () => {
    await a.update(K, [5], 'add', ['\\Seen']);
    await b.view(K, 1, 10); // b: 5 is \Seen
    const gone = await a.update(K, [5], 'remove', ['\\Seen']);
    const r = await b.update(K, [5], 'add', ['\\Seen']);
    expect(r.bumped).toBe(true);
    expect(r.modseq).toBe(gone.modseq + 1);
    await a.view(K, 1, 10); // a: 5 is \Seen again
    const x = await b.update(K, [5], 'remove', ['\\Seen']);
    const y = await a.update(K, [5], 'remove', ['\\Seen']); // a's copy says there is something to remove
    expect(y.bumped).toBe(false);
    expect(y.modseq).toBe(x.modseq);
    expect(y.changes).toEqual([{ uid: 5, flags: [], modseq: x.modseq }]);
  });

  it("users stay apart: another user's watcher, views and lists never show alice's flags", async () => {
    const bobHeard: ChangeEvent[] = [];
    const aliceHeard: ChangeEvent[] = [];
    const stopBob = b.watch('bob', (e) => bobHeard.push(e));
    const stopAlice = b.watch('alice', (e) => aliceHeard.push(e));
    await a.update(K, [1, 2], 'add', ['\\Seen', '$Secret']);
    await a.setSubscribed('alice', K.mailbox, true);
    await a.update({ ...K, user: 'bob' }, [9], 'add', ['\\Flagged']);
    await until(() => aliceHeard.length >= 1 && bobHeard.length >= 1, 'both users', 10_000);
    expect(bobHeard.map((e) => e.key.user)).toEqual(['bob']);
    expect(bobHeard[0]!.changes.map((c) => c.uid)).toEqual([9]);
    const bobView = await b.view({ ...K, user: 'bob' }, 1, 10);
    expect(bobView.has(1, '\\Seen')).toBe(false);
    expect([...bobView.keywords()]).toEqual(['\\Flagged']);
    expect((await b.changedSince({ ...K, user: 'bob' }, 0)).map((c) => c.uid)).toEqual([9]);
    expect(await b.subscriptions('bob')).toBeNull();
    expect((await b.keysOf('bob')).map((k) => k.mailbox)).toEqual([K.mailbox]);
    expect(await b.keysOf('carol')).toEqual([]);
    stopBob();
    stopAlice();
  });

  it('UID STORE 1:50000 is one statement on a current copy, and one NOTIFY of one run', async () => {
    const heard: ChangeEvent[] = [];
    const stop = b.watch('alice', (e) => heard.push(e));
    await a.view(K, 1, 50000);
    const before = a.statements;
    const r = await a.update(K, range(1, 50000), 'add', ['\\Seen']);
    expect(a.statements - before).toBe(1);
    expect(r.bumped).toBe(true);
    await until(() => heard.length >= 1, 'change event', 10_000);
    expect(heard[0]!.changes).toHaveLength(50000);
    expect(heard[0]!.changes[49999]).toEqual({ uid: 50000, flags: ['\\Seen'], modseq: r.modseq });
    // a view of a current copy is one short statement too
    const v0 = b.statements;
    expect((await b.view(K, 1, 50000)).has(50000, '\\Seen')).toBe(true);
    expect((await b.view(K, 1, 50000)).has(50000, '\\Seen')).toBe(true);
    expect(b.statements - v0).toBe(2);
    stop();
  });

  it('a change too large for a NOTIFY payload still reaches the other store whole', async () => {
    const heard: ChangeEvent[] = [];
    const stop = b.watch('alice', (e) => heard.push(e));
    await a.update(K, range(1, 100), 'add', ['\\Flagged']);
    await until(() => heard.length >= 1, 'first event', 10_000);
    heard.length = 0;
    const odd = range(1, 6001, 2); // 3001 separate runs: far over 8000 bytes
    const r = await a.update(K, odd, 'add', ['\\Seen', '$Label1']);
    await until(() => heard.length >= 1, 'change event', 10_000);
    const ch = heard[0]!.changes;
    expect(ch.map((c) => c.uid)).toEqual(odd);
    expect(ch.every((c) => c.modseq === r.modseq)).toBe(true);
    expect([...ch[0]!.flags].sort()).toEqual(['$Label1', '\\Flagged', '\\Seen']);
    expect([...ch[100]!.flags].sort()).toEqual(['$Label1', '\\Seen']);
    stop();
  });

  it('a fragmented mailbox is cut into chunks: a one-UID change rewrites one', async () => {
    await a.update(K, range(1, 40000, 2), 'add', ['\\Seen']); // 20,000 ranges
    const before = await b.view(K, 1, 40000);
    const r = await a.update(K, [20001], 'remove', ['\\Seen']);
    const after = await b.view(K, 1, 40000);
    expect(before.has(20001, '\\Seen')).toBe(true);
    expect(after.has(20001, '\\Seen')).toBe(false);
    expect(after.has(19999, '\\Seen') && after.has(39999, '\\Seen')).toBe(true);
    expect(after.modseqOf(20001)).toBe(r.modseq);
    expect(after.modseqOf(20003)).toBe(r.modseq - 1);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const q = await c.query<{ total: string; rewritten: string }>(
        'SELECT count(*) AS total, count(*) FILTER (WHERE modseq = $1) AS rewritten FROM flag_chunks', [r.modseq],
      );
      expect(Number(q.rows[0]!.total)).toBeGreaterThan(4);
      expect(Number(q.rows[0]!.rewritten)).toBe(1);
    } finally {
      await c.end();
    }
  });
});
