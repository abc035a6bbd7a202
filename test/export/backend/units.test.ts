/**
 * Unit tests of the backend's small parts: the byte-bounded LRU, the saved-view
 * codec (round trip, garbage refused), the metadata store (reads see writes
 * before commit, forget, persistence across reopen) and date parsing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ByteLru } from '../../../src/util/lru.js';
import { decodeView, decodeViewBytes, encodeView, encodeViewBytes } from '../../../src/export/backend/table-codec.js';
import { rowOf, TableBuilder } from '../../../src/export/backend/table.js';
import { rowAfter } from '../../../src/export/backend/reader-deps.js';
import { open as openLmdb } from 'lmdb';
import { MetaStore } from '../../../src/export/backend/meta-store.js';
import { StoredSinceEmpty } from '../../../src/export/backend/meta-keys.js';
import { META_WRITE_BATCH } from '../../../src/export/backend/limits.js';
import { parseDate } from '../../../src/export/backend/dates.js';
import { parseStructure } from '../../../src/mime/structure.js';
import { silentLogger } from '../../../src/util/log.js';
import { makeArticle } from './fake-source.js';

describe('ByteLru', () => {
  it('keeps the total cost within the bound, evicting least recently used first', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 1, max: 40 }), fc.boolean())), (ops) => {
        const evicted: number[] = [];
        const lru = new ByteLru<number, number>(100, (k) => evicted.push(k));
        const model: { k: number; c: number }[] = []; // least recent first
        for (const [k, c, isGet] of ops) {
          if (isGet) {
            const i = model.findIndex((e) => e.k === k);
            expect(lru.get(k)).toBe(i < 0 ? undefined : model[i]!.c);
            if (i >= 0) model.push(...model.splice(i, 1));
          } else {
            lru.set(k, c, c);
            const i = model.findIndex((e) => e.k === k);
            if (i >= 0) model.splice(i, 1);
            model.push({ k, c });
            let total = model.reduce((a, e) => a + e.c, 0);
            while (total > 100) total -= model.shift()!.c;
          }
          expect(lru.cost).toBe(model.reduce((a, e) => a + e.c, 0));
          expect(lru.cost).toBeLessThanOrEqual(100);
          expect(lru.size).toBe(model.length);
        }
      }),
    );
  });

  it('evicts others when an entry grows', () => {
    const out: string[] = [];
    const lru = new ByteLru<string, number>(10, (k) => out.push(k));
    lru.set('a', 1, 4);
    lru.set('b', 2, 4);
    lru.addCost('b', 3);
    expect(out).toEqual(['a']);
    expect(lru.cost).toBe(7);
  });

  it('reports an entry larger than the bound as evicted at once', () => {
    const out: string[] = [];
    const lru = new ByteLru<string, number>(10, (k) => out.push(k));
    lru.set('big', 1, 11);
    expect(lru.size).toBe(0);
    expect(out).toEqual(['big']);
  });
});

describe('TableBuilder', () => {
  it('builds rows sorted by UID, one per UID, the last pushed winning', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 1000 }))), (rows) => {
        const b = new TableBuilder();
        rows.forEach(([uid, num]) => b.push(uid, num, num * 2, num * 3));
        const t = b.build();
        const want = new Map<number, number>();
        for (const [uid, num] of rows) want.set(uid, num);
        const uids = [...want.keys()].sort((x, y) => x - y);
        expect([...t.uids]).toEqual(uids);
        expect([...t.numbers]).toEqual(uids.map((u) => want.get(u)!));
        expect([...t.sizes]).toEqual(uids.map((u) => want.get(u)! * 2));
      }),
    );
  });
});

describe('saved view codec', () => {
  it('round-trips a table and refuses damaged records', () => {
    const b = new TableBuilder();
    b.push(3, 3, 100, 1.5e12);
    b.push(7, 9, -1, NaN);
    const v = { uidValidity: 42, carrier: 'nntp://a', high: 9, low: 3, table: b.build() };
    const rec = encodeView(v);
    const back = decodeView(structuredClone(rec).map((x) => (x instanceof Uint8Array ? Buffer.from(x) : x)));
    expect(back?.uidValidity).toBe(42);
    expect(back?.carrier).toBe('nntp://a');
    expect([...back!.table.uids]).toEqual([3, 7]);
    expect([...back!.table.numbers]).toEqual([3, 9]);
    expect(back!.table.sizes[1]).toBe(-1);
    expect(Number.isNaN(back!.table.dates[1])).toBe(true);
    expect(decodeView(undefined)).toBeUndefined();
    expect(decodeView([1, ...rec.slice(1)])).toBeUndefined();
    expect(decodeView([2, ...rec.slice(1)])).toBeUndefined(); // format 2 may hold collapsed archive duplicates: read afresh
    expect(decodeView([...rec.slice(0, 2), 7, ...rec.slice(3)])).toBeUndefined(); // carrier not a string
    expect(decodeView([...rec.slice(0, 5), Buffer.alloc(3), ...rec.slice(6)])).toBeUndefined();
    const desc = Buffer.alloc(8);
    desc.writeUInt32LE(5, 0);
    desc.writeUInt32LE(4, 4);
    expect(decodeView([rec[0], 42, 'nntp://a', 9, 3, desc, rec[6], rec[7], rec[8]])).toBeUndefined(); // not ascending
  });

  it('format 4 (one binary value) round-trips at an odd offset and refuses damaged values', () => {
    const b = new TableBuilder();
    b.push(3, 3, 100, 1.5e12);
    b.push(7, 9, -1, NaN);
    const v = { uidValidity: 42, carrier: 'nntp://é', high: 9, low: 3, table: b.build() };
    const bytes = encodeViewBytes(v);
    const odd = Buffer.alloc(bytes.length + 1);
    bytes.copy(odd, 1); // a read buffer need not be aligned
    const back = decodeViewBytes(odd.subarray(1));
    expect(back).toMatchObject({ uidValidity: 42, carrier: 'nntp://é', high: 9, low: 3 });
    expect([...back!.table.uids]).toEqual([3, 7]);
    expect([...back!.table.numbers]).toEqual([3, 9]);
    expect([...back!.table.sizes]).toEqual([100, -1]);
    expect(back!.table.dates[0]).toBe(1.5e12);
    expect(Number.isNaN(back!.table.dates[1])).toBe(true);
    expect(decodeViewBytes(undefined)).toBeUndefined();
    expect(decodeViewBytes(bytes.subarray(0, bytes.length - 1))).toBeUndefined(); // truncated
    const other = Buffer.from(bytes);
    other.writeUInt32LE(3, 0);
    expect(decodeViewBytes(other)).toBeUndefined(); // another format
    const desc = Buffer.from(bytes);
    desc.writeUInt32LE(9, desc.length - 8); // UIDs 9, 7: not ascending
    expect(decodeViewBytes(desc)).toBeUndefined();
  });
});

describe('MetaStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nf-meta-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a view saved by an earlier version (format 3, msgpack) and saves it as format 4', async () => {
    const path = join(dir, 'meta.lmdb');
    const t = new TableBuilder();
    t.push(5, 5, 10, 1e12);
    const v = { uidValidity: 7, carrier: 'nntp://a', high: 5, low: 5, table: t.build() };
    const { open } = await import('lmdb');
    const env = open({ path, maxDbs: 12, compression: false });
    await env.openDB('views', {}).put('g', encodeView(v));
    await env.close();
    const s = new MetaStore({ path, logger: silentLogger(), memoryBytes: 1 << 20 });
    expect([...s.loadView('g')!.table.uids]).toEqual([5]);
    await s.saveView('g', { ...v, high: 6 });
    expect(s.loadView('g')?.high).toBe(6);
    await s.close();
    const env2 = open({ path, maxDbs: 12, compression: false });
    expect(env2.openDB('views', {}).get('g')).toBeUndefined(); // the old record went
    expect(decodeViewBytes(env2.openDB<Buffer, string>('view-tables', { encoding: 'binary' }).get('g'))?.high).toBe(6);
    await env2.close();
  });

  it('answers writes at once, forgets on request and keeps data across reopen', async () => {
    const path = join(dir, 'meta.lmdb');
    const a = makeArticle(1, { subject: 'hello' });
    const header = a.subarray(0, a.indexOf('\r\n\r\n') + 4);
    const s = new MetaStore({ path, logger: silentLogger(), memoryBytes: 1 }); // memory LRU keeps nothing
    s.putHeader('k1', header);
    s.putHeader('k2', header);
    s.putExactSize('k1', 123);
    s.putStructure('k1', parseStructure(a));
    expect(s.header('k1')?.envelope.subject?.toString()).toBe('hello');
    expect(s.exactSize('k1')).toBe(123);
    expect(s.structure('k1')).toEqual(parseStructure(a));
    expect([s.hasStructure('k1'), s.hasStructure('k2')]).toEqual([true, false]);
    s.forget('k2');
    expect(s.header('k2')).toBeUndefined();
    await s.close();
    const t = new MetaStore({ path, logger: silentLogger(), memoryBytes: 1 << 20 });
    expect(t.header('k1')?.header).toEqual(header);
    expect(t.header('k2')).toBeUndefined();
    expect(t.exactSize('k1')).toBe(123);
    expect(t.structure('k1')).toEqual(parseStructure(a));
    expect([t.hasStructure('k1'), t.hasStructure('k2')]).toEqual([true, false]); // from disk
    await t.close();
  });

  it('knows which groups have crossposted articles, across reopen and from an earlier version\'s records', async () => {
    const path = join(dir, 'meta.lmdb');
    const s = new MetaStore({ path, logger: silentLogger(), memoryBytes: 1 << 20 });
    expect(s.hasCrossposts('comp.a')).toBe(false);
    s.putCrossposts('<x@example>', ['comp.a', 'comp.b']);
    expect([s.hasCrossposts('comp.a'), s.hasCrossposts('comp.b'), s.hasCrossposts('comp.c')]).toEqual([true, true, false]);
    await s.close();
    const t = new MetaStore({ path, logger: silentLogger(), memoryBytes: 1 << 20 });
    expect([t.hasCrossposts('comp.a'), t.hasCrossposts('comp.b'), t.hasCrossposts('comp.c')]).toEqual([true, true, false]);
    await t.close();
    // a data dir written before the groups were kept: only the records
    const oldPath = join(dir, 'old.lmdb');
    const old = openLmdb({ path: oldPath, maxDbs: 8 });
    await old.openDB<string[], string>('xposts', {}).put('<y@example>', ['alt.x', 'alt.y']);
    await old.close();
    const u = new MetaStore({ path: oldPath, logger: silentLogger(), memoryBytes: 1 << 20 });
    expect([u.hasCrossposts('alt.x'), u.hasCrossposts('alt.y'), u.hasCrossposts('comp.a')]).toEqual([true, true, false]);
    expect(u.crossposts('<y@example>')).toEqual(['alt.x', 'alt.y']);
    await u.close();
  });

  it('empties the databases of earlier versions (hdr, sizes, env) at open and keeps the others', async () => {
    const path = join(dir, 'meta.lmdb');
    const old = openLmdb({ path, maxDbs: 8 });
    for (const name of ['hdr', 'sizes', 'env']) await old.openDB<string, string>(name, {}).put('k', 'old');
    await old.openDB<unknown, string>('views', {}).put('g', { kept: true });
    await old.close();
    const s = new MetaStore({ path, logger: silentLogger(), memoryBytes: 1 << 20 });
    await s.close();
    const check = openLmdb({ path, maxDbs: 8 });
    for (const name of ['hdr', 'sizes', 'env']) expect(check.openDB<string, string>(name, {}).getKeysCount()).toBe(0);
    expect(check.openDB<unknown, string>('views', {}).get('g')).toEqual({ kept: true });
    await check.close();
  });

  it('writes records in batches (more than one batch, a forget in between, a partly filled last one) and keeps them all across reopen', async () => {
    const path = join(dir, 'meta.lmdb');
    const n = META_WRITE_BATCH * 2 + 17;
    const headerOf = (i: number): Buffer => Buffer.from(`Subject: s${i}\r\n\r\n`);
    const s = new MetaStore({ path, logger: silentLogger(), memoryBytes: 1 }); // nothing stays in memory: reads come from pending or disk
    for (let i = 0; i < n; i++) s.putHeader(`k${i}`, headerOf(i), i);
    s.forget('k5'); // queued, then forgotten: must not come back once the queue is written
    s.putHeader('k5b', headerOf(5), 5);
    expect(s.header(`k${n - 1}`)?.header).toEqual(headerOf(n - 1));
    await new Promise((r) => setTimeout(r, 200)); // the timer writes the partial batch
    expect(s.exactSize('k7')).toBe(7);
    await s.close();
    const t = new MetaStore({ path, logger: silentLogger(), memoryBytes: 1 });
    for (const i of [0, 1, META_WRITE_BATCH, n - 1]) {
      expect(t.header(`k${i}`)?.header).toEqual(headerOf(i));
      expect(t.exactSize(`k${i}`)).toBe(i);
    }
    expect(t.header('k5')).toBeUndefined();
    expect(t.exactSize('k5b')).toBe(5);
    await t.close();
  });
});

describe('rowAfter', () => {
  it('finds the row rowOf finds, whatever row it is told to look after', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 60 })), fc.integer({ min: 0, max: 61 }), fc.integer({ min: -1, max: 40 }), (us, uid, prev) => {
        const b = new TableBuilder();
        for (const u of us) b.push(u, u * 2, 10, 0);
        const t = b.build();
        expect(rowAfter(t, uid, Math.min(prev, t.uids.length - 1))).toBe(rowOf(t, uid));
      }),
    );
  });
});

describe('StoredSinceEmpty', () => {
  it('never rules out a key it was told of (model: the set of marked keys)', () => {
    const key = fc.tuple(fc.constantFrom('s\u0000a', 's\u0000b', 't\u0000a'), fc.integer({ min: 0, max: 50 })).map(([p, n]) => `${p}\u0000${n}`);
    fc.assert(
      fc.property(fc.array(fc.tuple(key, fc.boolean())), (ops) => {
        const s = new StoredSinceEmpty();
        const marked = new Set<string>();
        for (const [k, mark] of ops) {
          if (mark) {
            s.mark(k);
            marked.add(k);
          } else if (marked.has(k)) expect(s.ruledOut(k)).toBe(false);
        }
        for (const k of marked) expect(s.ruledOut(k)).toBe(false);
      }),
    );
  });

  it('rules out other groups and numbers outside the stored range, and nothing once a non-article key is stored', () => {
    const s = new StoredSinceEmpty();
    s.mark('s\u0000g\u000010');
    s.mark('s\u0000g\u000020');
    expect(['s\u0000g\u00009', 's\u0000g\u000021', 's\u0000h\u000015', 's\u0000g\u0000x'].map((k) => s.ruledOut(k))).toEqual([true, true, true, true]);
    expect(s.ruledOut('s\u0000g\u000015')).toBe(false); // inside the range: maybe stored
    s.mark('not-an-article-key');
    expect(s.ruledOut('s\u0000h\u000015')).toBe(false);
  });
});

describe('MetaStore on a fresh data dir', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nf-meta-fresh-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads no record it never stored, finds committed ones, and reads the disk again after a reopen', async () => {
    const path = join(dir, 'meta.lmdb');
    const s = new MetaStore({ path, logger: silentLogger(), memoryBytes: 1 }); // no memory hits
    const gets = countGets(s);
    s.putExactSize('s\u0000g\u00005', 50);
    s.putExactSize('s\u0000g\u00009', 90);
    await new Promise((r) => setTimeout(r, 300)); // written and committed: no longer pending
    expect([s.exactSize('s\u0000g\u00005'), s.exactSize('s\u0000g\u00009')]).toEqual([50, 90]); // from disk
    const before = gets.n;
    expect([s.exactSize('s\u0000g\u000012'), s.exactSize('s\u0000h\u00005'), s.lookup('s\u0000g\u00001').entry]).toEqual([undefined, undefined, undefined]);
    expect(gets.n).toBe(before);
    await s.close();
    const t = new MetaStore({ path, logger: silentLogger(), memoryBytes: 1 });
    const again = countGets(t);
    expect([t.exactSize('s\u0000g\u00009'), t.exactSize('s\u0000h\u00005')]).toEqual([90, undefined]);
    expect(again.n).toBe(2); // it held records at open: every key is looked up
    await t.close();
  });
});

/** Counts the article-record reads of a MetaStore (its `articles` database). */
function countGets(s: MetaStore): { n: number } {
  const db = (s as unknown as { articles: { get: (k: string) => unknown } }).articles;
  const c = { n: 0 };
  const get = db.get.bind(db);
  db.get = (k: string) => {
    c.n++;
    return get(k);
  };
  return c;
}

describe('parseDate', () => {
  it('parses RFC 5322 dates with comments and obsolete forms, NaN for junk', () => {
    expect(parseDate('Tue, 1 Jan 2019 00:00:00 -0500 (EST)')).toBe(Date.UTC(2019, 0, 1, 5));
    expect(parseDate('23 Nov 26 16:16:51 GMT')).toBe(Date.UTC(2026, 10, 23, 16, 16, 51));
    expect(parseDate('')).toBeNaN();
    expect(parseDate('not a date')).toBeNaN();
  });
});
