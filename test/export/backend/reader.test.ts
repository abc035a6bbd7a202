/**
 * Message data over a FakeSource: meta (exact sizes, headers, envelopes,
 * dates, order, vanished UIDs), content (full, ranged, shared fetch, following
 * a download in progress), the cache bound, structures that survive eviction,
 * and a cache directory deleted under a running backend. The cache itself is
 * tested on its own in article-cache.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { headerEnd } from '../../../src/mime/header.js';
import { parseStructure } from '../../../src/mime/structure.js';
import { FakeSource, makeArticle } from './fake-source.js';
import { collect, duBytes, readAll, rig, type Rig } from './helpers.js';
import { storedCost } from '../../../src/export/backend/article-cache.js';
import { SMALL_ARTICLE_BYTES } from '../../../src/export/backend/limits.js';

let r: Rig | null = null;
afterEach(async () => {
  await r?.close();
  r = null;
});

const MULTIPART = (n: number, attachment = 3000): Buffer =>
  makeArticle(n, {
    extraHeaders: ['MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b1"'],
    body: `preamble\r\n--b1\r\nContent-Type: text/plain\r\n\r\npart one ${n}\r\n--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.alloc(attachment, n).toString('base64').replace(/(.{76})/g, '$1\r\n')}\r\n--b1--\r\n`,
  });

describe('meta', () => {
  it('returns exact size, header, envelope and date in the order asked', async () => {
    const src = new FakeSource();
    src.fill('g.x', 5, (n) => ({ subject: `subject ${n}`, date: `Tue, 0${n} Jan 2019 10:00:00 +0100 (CET)` }));
    r = await rig(src);
    const h = await r.backend.open('g.x');
    const metas = await collect(h.meta([4, 2, 5]));
    expect(metas.map((m) => m.uid)).toEqual([4, 2, 5]);
    for (const m of metas) {
      const a = src.bytesOf('g.x', m.uid);
      expect(m.size).toBe(a.length);
      expect(m.header).toEqual(a.subarray(0, headerEnd(a)));
      expect(m.envelope.subject?.toString()).toBe(`subject ${m.uid}`);
      expect(m.internalDate.toISOString()).toBe(`2019-01-0${m.uid}T09:00:00.000Z`);
    }
    expect(src.calls.head).toBe(3);
    await collect(h.meta([2, 4, 5]));
    expect(src.calls.head).toBe(3); // cached
    h.release();
  });

  it('skips UIDs not in the mailbox and articles gone upstream', async () => {
    const src = new FakeSource();
    src.fill('g.x', 4);
    r = await rig(src);
    const h = await r.backend.open('g.x');
    src.expire('g.x', 3); // gone upstream, not yet noticed by a refresh
    expect((await collect(h.meta([1, 3, 99, 4]))).map((m) => m.uid)).toEqual([1, 4]);
    h.release();
  });

  it('throws UNAVAILABLE when the upstream is down and nothing is cached', async () => {
    const src = new FakeSource();
    src.fill('g.x', 2);
    r = await rig(src);
    const h = await r.backend.open('g.x');
    await collect(h.meta([1]));
    src.failing = true;
    expect((await collect(h.meta([1]))).length).toBe(1); // from cache
    await expect(collect(h.meta([1, 2]))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    h.release();
  });

  it("with sizes:'download' corrects an inexact overview size by downloading once", async () => {
    const src = new FakeSource();
    src.fill('g.x', 2, (n) => ({ body: n === 1 ? '.starts with a dot\r\n' : 'plain\r\n' }));
    src.bytesSkew = (a) => (a.includes('\r\n\r\n.') ? -1 : 0);
    r = await rig(src, { sizes: 'download' });
    const h = await r.backend.open('g.x');
    const m = await collect(h.meta([1, 2]));
    expect(m.map((x) => x.size)).toEqual([src.bytesOf('g.x', 1).length, src.bytesOf('g.x', 2).length]);
    const fetched = src.calls.article;
    expect(fetched).toBe(2);
    await collect(h.meta([1, 2]));
    expect(src.calls.article).toBe(fetched);
    h.release();
  });

  it("with sizes:'download' takes the header from the article it read (no HEAD), byte-identical to HEAD's", async () => {
    const src = new FakeSource();
    src.fill('g.x', 3, (n) => ({ body: n === 2 ? '' : `body ${n}\r\n`, extraHeaders: n === 3 ? ['X-Folded: a\r\n\tb'] : [] }));
    r = await rig(src, { sizes: 'download' });
    const h = await r.backend.open('g.x');
    const m = await collect(h.meta([1, 2, 3]));
    expect(src.calls.head).toBe(0);
    expect(src.calls.article).toBe(3);
    for (const x of m) expect(x.header).toEqual(await src.head('g.x', x.uid));
    expect(m.map((x) => x.envelope.subject?.toString())).toEqual(m.map((x) => `article ${x.uid}`));
    h.release();
  });

  it("with sizes:'download' trusts the overview above downloadSizesUpTo", async () => {
    const src = new FakeSource();
    src.fill('g.x', 2, (n) => ({ body: n === 1 ? 'short\r\n' : 'long '.repeat(1000) + '\r\n' }));
    src.bytesSkew = () => 7;
    r = await rig(src, { sizes: () => 'download', downloadSizesUpTo: 1000 });
    const h = await r.backend.open('g.x');
    const m = await collect(h.meta([1, 2]));
    expect(m.map((x) => x.size)).toEqual([src.bytesOf('g.x', 1).length, src.bytesOf('g.x', 2).length + 7]);
    expect(src.calls.article).toBe(1);
    h.release();
  });
});

describe('content', () => {
  it('streams the whole article and byte ranges, cached after the first fetch', async () => {
    const src = new FakeSource();
    src.fill('g.x', 1, () => ({ body: 'x'.repeat(50_000) + '\r\n' }));
    r = await rig(src);
    const h = await r.backend.open('g.x');
    const a = src.bytesOf('g.x', 1);
    expect(await readAll(await h.content(1, { start: 100, end: 2100 }))).toEqual(a.subarray(100, 2100)); // during fetch
    expect(await readAll(await h.content(1))).toEqual(a);
    expect(await readAll(await h.content(1, { start: 49_000, end: 60_000 }))).toEqual(a.subarray(49_000));
    expect(await readAll(await h.content(1, { start: a.length + 5, end: a.length + 10 }))).toEqual(Buffer.alloc(0));
    expect(src.calls.article).toBe(1);
    h.release();
  });

  it('serves N concurrent readers with one upstream fetch, following the download', async () => {
    const src = new FakeSource();
    src.fill('g.x', 1, () => ({ body: 'y'.repeat(20_000) + '\r\n' }));
    r = await rig(src);
    const h = await r.backend.open('g.x');
    src.holdArticles(); // the download stalls after its first chunk
    const opening = Array.from({ length: 10 }, (_, i) => h.content(1, i % 2 === 1 ? { start: 10, end: 15_000 } : undefined));
    await new Promise((res) => setTimeout(res, 20));
    expect(src.calls.article).toBe(1);
    src.releaseGate();
    const got = await Promise.all(opening.map(async (p) => readAll(await p)));
    const a = src.bytesOf('g.x', 1);
    got.forEach((b, i) => expect(b).toEqual(i % 2 === 0 ? a : a.subarray(10, 15_000)));
    expect(src.calls.article).toBe(1);
    h.release();
  });

  it('an upstream cut mid-article rejects content() before any byte is handed out, and the next try works', async () => {
    // An IMAP literal cannot be taken back: the bytes must be on disk before the stream is given out.
    const src = new FakeSource();
    src.fill('g.x', 1, () => ({ body: 'c'.repeat(100_000) + '\r\n' }));
    r = await rig(src);
    const h = await r.backend.open('g.x');
    src.cutArticles = true;
    await expect(h.content(1)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(h.content(1, { start: 70_000, end: 70_010 })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    src.cutArticles = false;
    expect(await readAll(await h.content(1))).toEqual(src.bytesOf('g.x', 1));
    h.release();
  });

  it('throws NONEXISTENT for an article gone upstream and UNAVAILABLE when down', async () => {
    const src = new FakeSource();
    src.fill('g.x', 2);
    r = await rig(src);
    const h = await r.backend.open('g.x');
    src.expire('g.x', 1);
    await expect(h.content(1)).rejects.toMatchObject({ code: 'NONEXISTENT' });
    src.failing = true;
    await expect(h.content(2)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    src.failing = false;
    expect(await readAll(await h.content(2))).toEqual(src.bytesOf('g.x', 2));
    h.release();
  });

  it('keeps the cache within its byte bound', async () => {
    const src = new FakeSource();
    src.fill('g.x', 30, () => ({ body: 'z'.repeat(4000) + '\r\n' }));
    const bound = 5 * storedCost(src.bytesOf('g.x', 1).length, true);
    r = await rig(src, { cacheMaxBytes: bound });
    const h = await r.backend.open('g.x');
    for (let uid = 1; uid <= 30; uid++) {
      expect(await readAll(await h.content(uid))).toEqual(src.bytesOf('g.x', uid));
      await new Promise((res) => setImmediate(res)); // let evictions run
    }
    expect(r.backend.cache.bytes).toBeLessThanOrEqual(bound);
    expect(r.backend.cache.articles).toBe(5);
    // The most recent article is still cached; the first was evicted.
    const before = src.calls.article;
    await readAll(await h.content(30));
    expect(src.calls.article).toBe(before);
    await readAll(await h.content(1));
    expect(src.calls.article).toBe(before + 1);
    h.release();
  });

  it('serves correct bytes under concurrent reads, joins and evictions (random schedule)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 12 }), fc.nat({ max: 9000 }), fc.nat({ max: 9000 })), { minLength: 1, maxLength: 40 }),
        async (reqs) => {
          const src = new FakeSource();
          src.fill('g.x', 12, (n) => ({ body: `${n}`.repeat(800 + n * 300) + '\r\n' }));
          const rr = await rig(src, { cacheMaxBytes: 3 * 4000 });
          try {
            const h = await rr.backend.open('g.x');
            const got = await Promise.all(
              reqs.map(async ([uid, a, b]) => {
                const range = a === b ? undefined : { start: Math.min(a, b), end: Math.max(a, b) };
                return { uid, range, bytes: await readAll(await h.content(uid, range)) };
              }),
            );
            for (const g of got) {
              const full = src.bytesOf('g.x', g.uid);
              expect(g.bytes).toEqual(g.range === undefined ? full : full.subarray(g.range.start, g.range.end));
            }
            expect(rr.backend.cache.bytes).toBeLessThanOrEqual(3 * 4000);
            h.release();
          } finally {
            await rr.close();
          }
        },
      ),
      { numRuns: 15 },
    );
  });

  it('aborts downloads in progress at close and leaves no temp file', async () => {
    const src = new FakeSource();
    // one small article (kept in memory while downloading) and one long (written to a temp file)
    src.fill('g.x', 2, (n) => ({ body: 'q'.repeat(n === 1 ? 20_000 : 2 * SMALL_ARTICLE_BYTES) + '\r\n' }));
    r = await rig(src);
    const h = await r.backend.open('g.x');
    src.holdArticles();
    const reading = [1, 2].map((uid) => h.content(uid).then(readAll));
    await new Promise((res) => setTimeout(res, 30));
    await r.backend.close();
    for (const p of reading) await expect(p).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    src.releaseGate();
    // The copy loop notices the destroyed upstream and removes its temp file; nothing was cached.
    for (let i = 0; i < 100 && (await duBytes(join(r.cacheDir, 'articles', 'tmp'))) > 0; i++) await new Promise((res) => setTimeout(res, 20));
    expect(await duBytes(join(r.cacheDir, 'articles', 'tmp'))).toBe(0);
    expect(r.backend.cache.articles).toBe(0);
  });

  it('recovers when the cache directory is deleted under it', async () => {
    // long articles (files) are fetched again; small ones stay readable in the open LMDB store
    const src = new FakeSource();
    src.fill('g.x', 3, (n) => ({ body: (n === 3 ? 's' : 'L').repeat(n === 3 ? 100 : 2 * SMALL_ARTICLE_BYTES) + '\r\n' }));
    r = await rig(src);
    const h = await r.backend.open('g.x');
    await readAll(await h.content(1));
    await readAll(await h.content(3));
    await rm(r.cacheDir, { recursive: true, force: true });
    expect(await readAll(await h.content(1))).toEqual(src.bytesOf('g.x', 1));
    expect(await readAll(await h.content(2))).toEqual(src.bytesOf('g.x', 2));
    expect(await readAll(await h.content(3))).toEqual(src.bytesOf('g.x', 3));
    expect(src.calls.article).toBe(4);
    expect(await readAll(await h.content(2))).toEqual(src.bytesOf('g.x', 2));
    expect(await readAll(await h.content(3))).toEqual(src.bytesOf('g.x', 3));
    expect(src.calls.article).toBe(4);
    h.release();
  });
});

describe('structure', () => {
  it('is computed during the download and survives eviction of the bytes', async () => {
    const src = new FakeSource();
    src.post('g.x', MULTIPART(1));
    src.post('g.x', MULTIPART(2));
    src.post('g.x', MULTIPART(3, 2 * SMALL_ARTICLE_BYTES));
    r = await rig(src, { cacheMaxBytes: 1 }); // nothing stays cached
    const h = await r.backend.open('g.x');
    const s1 = await h.structure(1);
    expect(s1).toEqual(parseStructure(src.bytesOf('g.x', 1)));
    expect(s1.parts?.length).toBe(2);
    expect(src.calls.article).toBe(1);
    const again = await h.structure(1);
    expect(again).toEqual(s1);
    expect(src.calls.article).toBe(1);
    expect(r.backend.cache.articles).toBe(0);
    // A long article downloaded for content: parsed as it came, no second read.
    await readAll(await h.content(3));
    expect(await h.structure(3)).toEqual(parseStructure(src.bytesOf('g.x', 3)));
    expect(src.calls.article).toBe(2);
    h.release();
  });

  it('of a small article downloaded for content is parsed from the cache, once', async () => {
    const src = new FakeSource();
    src.post('g.x', MULTIPART(1));
    r = await rig(src);
    const h = await r.backend.open('g.x');
    await readAll(await h.content(1));
    const s1 = await h.structure(1);
    expect(s1).toEqual(parseStructure(src.bytesOf('g.x', 1)));
    expect(await h.structure(1)).toBe(s1); // kept in the metadata cache
    expect(src.calls.article).toBe(1);
    h.release();
  });
});
