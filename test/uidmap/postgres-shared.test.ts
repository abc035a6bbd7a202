/**
 * Several front-ends on one PostgreSQL UID map (DESIGN "Scale", invariant 2):
 * each front-end is a PgUidMapStore with its own connection pool and its own
 * in-memory copy, so the database sees truly concurrent sessions. Whatever
 * their start times, what they have seen and in which order, they must give
 * every article the same UID and every mailbox the same UIDVALIDITY.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/util/log.js';
import { PgUidMapStore } from '../../src/uidmap/postgres.js';
import { UIDMAP_MIGRATIONS } from '../../src/uidmap/pg-schema.js';
import type { MailboxUidMap, SeenArticle } from '../../src/uidmap/types.js';
import { postgresForFile } from '../harness/postgres-suite.js';
import { POOL, runWorkload } from './peer-workload.js';

const postgres = postgresForFile();

const open: PgUidMapStore[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

let dbSeq = 0;
const freshUrl = (): Promise<string> => postgres.server.createDatabase(`shared_${++dbSeq}`);

async function frontEnd(url: string, now?: () => number): Promise<PgUidMapStore> {
  const s = await PgUidMapStore.open({ url, logger: silentLogger(), ...(now ? { now } : {}) });
  open.push(s);
  return s;
}

const A = 'nntp://a';
const B = 'nntp://b';
const art = (n: number, id = `<${n}@a>`, upstream = A, group = 'g'): SeenArticle => ({ messageId: id, upstream, group, number: n });

/** Everything a front-end's copy says, via the public interface. */
function snapshot(map: MailboxUidMap) {
  return { v: map.uidValidity, uidNext: map.uidNext(), count: map.count(), entries: [...map.uids()].map((u) => map.lookup(u)) };
}

/** Brings a front-end's copy up to date the way the server does: by its next write (here an empty re-poll). */
async function repoll(map: MailboxUidMap): Promise<void> {
  await map.assign([], false);
}

describe('several front-ends on one PostgreSQL UID map', () => {
  it('assigning overlapping batches at the same time in opposite orders, they agree on every UID', async () => {
    const url = await freshUrl();
    const [fa, fb] = [await frontEnd(url), await frontEnd(url)];
    const [ma, mb] = await Promise.all([fa.open('shared.race'), fb.open('shared.race')]);
    expect(mb.uidValidity).toBe(ma.uidValidity);
    const span = (f: () => Promise<[string, number][]>) => async () => {
      const startedMs = Date.now();
      const assigned = await f();
      return { assigned, startedMs, endedMs: Date.now() };
    };
    // A is the primary (numbers 1..600, ascending), B a secondary (10,000+, descending), both with ids of their own.
    const [ra, rb] = await Promise.all([span(() => runWorkload(ma, 'parent'))(), span(() => runWorkload(mb, 'child'))()]);
    const overlapMs = Math.min(ra.endedMs, rb.endedMs) - Math.max(ra.startedMs, rb.startedMs);
    expect(overlapMs).toBeGreaterThan(0);

    const uidOf = new Map<string, number>();
    for (const [id, uid] of [...ra.assigned, ...rb.assigned]) {
      expect(uidOf.get(id) ?? uid).toBe(uid);
      uidOf.set(id, uid);
    }
    const byUid = new Map<number, string>();
    for (const [id, uid] of uidOf) {
      expect(byUid.get(uid) ?? id).toBe(id);
      byUid.set(uid, id);
    }
    expect(uidOf.size).toBe(POOL + 2 * (POOL / 3));

    // After one more write each, both copies and a front-end started now hold the same map.
    await repoll(ma);
    await repoll(mb);
    const late = await (await frontEnd(url)).open('shared.race');
    expect(snapshot(ma)).toEqual(snapshot(late));
    expect(snapshot(mb)).toEqual(snapshot(late));
    for (const [id, uid] of uidOf) expect(late.uidOf(id)).toBe(uid);
  });

  it('a front-end that has not seen articles yet gives them the same UIDs when it catches up', async () => {
    const url = await freshUrl();
    const fa = await frontEnd(url);
    const fb = await frontEnd(url);
    const ma = await fa.open('g');
    const mb = await fb.open('g'); // opened before A assigns anything
    expect(await ma.assign(Array.from({ length: 50 }, (_, i) => art(i + 1)), true)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(mb.uidOf('<1@a>')).toBeUndefined(); // B has not written since: its copy is older
    expect(mb.count()).toBe(0);

    // B sees 40..60 on another upstream (other numbers): 40..50 are A's, 51..60 new to everyone.
    const fromB = Array.from({ length: 21 }, (_, i) => art(900 + i, `<${40 + i}@a>`, B));
    const got = await mb.assign(fromB, false);
    expect(got).toEqual([...Array.from({ length: 11 }, (_, i) => 40 + i), ...Array.from({ length: 10 }, (_, i) => 51 + i)]);
    // B's copy now holds everything A stored, too.
    expect(mb.count()).toBe(60);
    expect(mb.lookup(1)).toEqual(ma.lookup(1));
    expect(mb.lookup(45)?.location).toEqual({ upstream: B, group: 'g', number: 905 });

    // A, on its next poll, sees B's articles with B's UIDs and B's locations.
    expect(await ma.assign([art(51, '<51@a>')], true)).toEqual([51]);
    expect(ma.count()).toBe(60);
    expect(ma.lookup(45)?.location.upstream).toBe(B);
    expect(ma.lookup(51)?.location.upstream).toBe(A); // A saw it on its upstream: the location moved
    await repoll(mb);
    expect(mb.lookup(51)?.location.upstream).toBe(A);
    expect(snapshot(ma)).toEqual(snapshot(mb));
  });

  it('after an upstream renumbers, every front-end keeps the UIDs and learns the new locations', async () => {
    const url = await freshUrl();
    const ma = await (await frontEnd(url)).open('g');
    const mb = await (await frontEnd(url)).open('g');
    await ma.assign([1, 2, 3, 4, 5].map((n) => art(n)), true);
    await repoll(mb);
    expect(mb.count()).toBe(5);
    // The upstream renumbered (101..105) and has a new article; B polls first.
    const renumbered = [...[1, 2, 3, 4, 5].map((n) => art(n + 100, `<${n}@a>`)), art(106, '<new@a>')];
    expect(await mb.assign(renumbered, true)).toEqual([1, 2, 3, 4, 5, 106]);
    expect(ma.lookup(3)?.location.number).toBe(3); // A has not written since
    expect(await ma.assign(renumbered, true)).toEqual([1, 2, 3, 4, 5, 106]);
    expect(ma.lookup(3)?.location.number).toBe(103);
    expect(snapshot(ma)).toEqual(snapshot(mb));
  });

  it('a UID removed by one front-end is gone for the other after its next write, and never reused', async () => {
    const url = await freshUrl();
    const ma = await (await frontEnd(url)).open('g');
    await ma.assign([1, 2, 3, 4].map((n) => art(n)), true);
    const mb = await (await frontEnd(url)).open('g');
    expect(mb.count()).toBe(4);
    await ma.remove([2]);
    expect(mb.lookup(2)?.messageId).toBe('<2@a>'); // not yet
    // The expired article shows up again at B: it is a new article now, at UIDNEXT.
    expect(await mb.assign([art(2)], true)).toEqual([5]);
    expect(mb.lookup(2)).toBeUndefined();
    expect([...mb.uids()]).toEqual([1, 3, 4, 5]);
    await repoll(ma);
    expect(snapshot(ma)).toEqual(snapshot(mb));
  });

  it('front-ends creating the same mailbox at once, with different clocks, get one UIDVALIDITY', async () => {
    const url = await freshUrl();
    const fronts = await Promise.all([1_000_000, 2_000_000, 3_000_000].map((t) => frontEnd(url, () => t)));
    const names = ['m1', 'm2', 'm3', 'm4'];
    const maps = await Promise.all(fronts.flatMap((f) => names.map((n) => f.open(n))));
    for (const [i, n] of names.entries()) {
      const vs = new Set(maps.filter((m) => m.mailbox === n).map((m) => m.uidValidity));
      expect(vs.size, `mailbox ${n}`).toBe(1);
      expect(maps[i]!.uidValidity).toBeGreaterThanOrEqual(1_000_000);
    }
    // And each mailbox's UIDVALIDITY differs from the others'.
    expect(new Set(maps.map((m) => m.uidValidity)).size).toBe(names.length);
  });

  it('several front-ends migrating a fresh database at once apply each migration once', async () => {
    const url = await freshUrl();
    const fronts = await Promise.all(Array.from({ length: 5 }, () => frontEnd(url)));
    const maps = await Promise.all(fronts.map((f) => f.open('g')));
    expect(new Set(maps.map((m) => m.uidValidity)).size).toBe(1);
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const rows = await c.query('SELECT component, version FROM schema_migrations ORDER BY version');
      expect(rows.rows).toEqual(UIDMAP_MIGRATIONS.map((m) => ({ component: 'uidmap', version: m.version })));
    } finally {
      await c.end();
    }
  });
});
