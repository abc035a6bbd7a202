/**
 * The backend's search index over an archive (ArchiveSource, 3 groups with
 * crossposts from the test corpus generator), through `MailboxHandle.search`:
 * - the overview goes into the index at ingest: SUBJECT/FROM are answered
 *   right away, and every answer equals the scan (sound, complete up to
 *   `unknown`); `unknown` lists every article whose body is not indexed, for
 *   BODY, and the articles known by their overview only, for TO;
 * - an article a client reads (article cache download) has its body indexed;
 * - the crawler (`buildIndex`) indexes every header and body: answers then
 *   equal the scan exactly, nothing unknown; a crosspost's body indexed in
 *   one group is found in the others;
 * - SORT and THREAD through the handle equal the src/search algorithms on
 *   records built from HEAD (raw header values), before and after the crawl,
 *   for the whole group and a subset.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchiveSource } from '../../../src/export/archive/archive-source.js';
import { formatMboxrdMessage } from '../../../src/export/archive/mboxrd-writer.js';
import { createBackend, type NewsBackendHandle } from '../../../src/export/backend/index.js';
import { MemoryUidMapStore } from '../../../src/uidmap/memory.js';
import { SearchIndex, overviewValueExact } from '../../../src/search/index.js';
import { silentLogger } from '../../../src/util/log.js';
import type { MailboxHandle, SortCriterion } from '../../../src/export/interface.js';
import { articlesByGroup, generateCorpus } from '../../corpus/generate.js';
import { THREADS, checkSearch, checkSortThread as checkSorting, needles, oracleSort, oracleThread, plain, rawRecords } from './search-oracle.js';
import { readAll } from './helpers.js';
import { parseStructure, type MimePart } from '../../../src/mime/index.js';

const GROUPS = ['s.one', 's.two', 's.three'];
const corpus = generateCorpus({ seed: 77, groups: GROUPS, perGroup: 40, crosspostRate: 0.2 });
const byGroup = articlesByGroup(corpus);

let dir: string;
let index: SearchIndex;
let source: ArchiveSource;
let uidmaps: MemoryUidMapStore;
let backend: NewsBackendHandle;
/** Article bytes per group and UID, read from a source of our own (not through the backend: no cache, no index). */
const articles = new Map<string, Map<number, Buffer>>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nf-search-'));
  await mkdir(join(dir, 'archive'));
  const d = new Date(Date.UTC(2024, 0, 1));
  for (const g of GROUPS) await writeFile(join(dir, 'archive', `${g}.mbox`), Buffer.concat(byGroup.get(g)!.map((a) => formatMboxrdMessage(a.bytes, 'x@y', d))));
  const reading = new ArchiveSource({ dir: join(dir, 'archive'), logger: silentLogger() });
  for (const g of GROUPS) {
    const m = new Map<number, Buffer>();
    for (let n = 1; n <= byGroup.get(g)!.length; n++) m.set(n, await readAll(await reading.article(g, n)));
    articles.set(g, m);
  }
  await reading.close();
  source = new ArchiveSource({ dir: join(dir, 'archive'), logger: silentLogger() });
  uidmaps = new MemoryUidMapStore();
  index = await SearchIndex.open(join(dir, 'search.db'));
  backend = await createBackend({
    source, uidmaps, cacheDir: join(dir, 'cache'), cacheMaxBytes: 64 << 20, pollIntervalMs: 0, logger: silentLogger(), index,
    indexOptions: { crawl: false, crawlConcurrency: 4, crawlBatch: 25, crawlQuietMs: 0, maxArticleBytes: 8 << 20, keysMemoryBytes: 64 << 20 },
  });
});

afterAll(async () => {
  await backend?.close();
  await index?.close();
  await uidmaps?.close();
  await source?.close();
  await rm(dir, { recursive: true, force: true });
});

async function open(g: string): Promise<MailboxHandle> {
  const h = await backend.open(g);
  expect(h.search).toBeDefined();
  return h;
}

/** The needles drawn from the group's articles, over all UIDs and the odd ones (checkSearch); returns the unknown count. */
const checkAll = (g: string, h: MailboxHandle): Promise<number> => checkSearch(h, articles.get(g)!, needles([...articles.get(g)!.values()]), (u) => u % 2 === 1);
const checkSortThread = (h: MailboxHandle): Promise<void> => checkSorting(h, (u) => u % 3 !== 0);

describe('search index in the backend (archive)', () => {
  it('has the overview at ingest: answers equal the scan, unknown lists what is not indexed', async () => {
    const g = 's.one';
    const h = await open(g);
    const uids = h.current().uids;
    expect(uids.length).toBe(byGroup.get(g)!.length);
    await checkAll(g, h); // each command waits for the group's overview records to be written
    expect(h.search!.progress()).toEqual({ total: uids.length, headers: uids.length, bodies: 0 });
    // no body indexed: BODY leaves every article to the scan; TO every article known by its overview only
    expect([...(await h.search!.match([{ field: 'body', needle: 'the' }])).unknown]).toEqual([...uids]);
    expect([...(await h.search!.match([{ field: 'to', needle: 'x' }])).unknown]).toEqual([...uids]);
    // SUBJECT: only an overview value that may differ from the header's is left to the scan
    const over = new Map<number, string>();
    for await (const o of source.overview(g, 1, uids.length)) over.set(o.number, o.subject);
    for (const w of ['Re', 'the', 'of']) {
      for (const u of (await h.search!.match([{ field: 'subject', needle: w }])).unknown) expect(overviewValueExact(over.get(u)!), `UID ${u}`).toBe(false);
    }
    h.release();
  });

  it('indexes the body of an article a client reads', async () => {
    const h = await open('s.one');
    const read = [2, 5, 7];
    for (const uid of read) await readAll(await h.content(uid));
    await backend.indexing!.flush();
    await new Promise((r) => setTimeout(r, 300)); // the cache hook reads the file back, then queues it
    await backend.indexing!.flush();
    const unknown = new Set((await h.search!.match([{ field: 'body', needle: 'the' }])).unknown);
    for (const uid of h.current().uids) expect(unknown.has(uid), `UID ${uid}`).toBe(!read.includes(uid));
    await checkAll('s.one', h);
    h.release();
  });

  it('SORT and THREAD equal the algorithms on records from HEAD, before the crawl', async () => {
    for (const g of GROUPS) {
      const h = await open(g);
      await checkSortThread(h);
      h.release();
    }
  });

  it('crawls a group: every answer then equals the scan; a crosspost body counts in every group', async () => {
    const told: Array<{ mailbox: string; uidValidity: number; uid: number; part: MimePart }> = [];
    const unhook = backend.onStructure((mailbox, uidValidity, uid, part) => void told.push({ mailbox, uidValidity, uid, part }));
    const r = await backend.buildIndex('s.one');
    unhook();
    expect(r.articles).toBeGreaterThan(0);
    const h = await open('s.one');
    // each structure the crawl parsed was told to the listener (the IMAP layer renders it ahead);
    // articles whose structure an earlier test stored are not parsed again
    expect(told.length).toBeGreaterThan(h.current().uids.length / 2);
    expect(new Set(told.map((t) => t.uid)).size).toBe(told.length);
    for (const t of told) {
      expect(h.current().uids).toContain(t.uid);
      expect(t.mailbox).toBe('s.one');
      expect(t.uidValidity).toBe(h.current().uidValidity);
      expect(t.part).toEqual(parseStructure(articles.get('s.one')!.get(t.uid)!));
    }
    const n = h.current().uids.length;
    // progress() counts again at most once a second while the index is written to
    for (let i = 0; i < 50 && h.search!.progress().bodies < n; i++) await new Promise((r) => setTimeout(r, 100));
    expect(h.search!.progress()).toEqual({ total: n, headers: n, bodies: n });
    expect(await checkAll('s.one', h)).toBe(0);
    // asked again on the same snapshot: the kept answer, not merged again; another scope gets its own
    const again = () => h.search!.match([{ field: 'body', needle: 'the' }]);
    const a = await again();
    expect(a.uids.length).toBeGreaterThan(0);
    expect((await again()).uids).toBe(a.uids);
    const odd = h.current().uids.filter((u) => u % 2 === 1);
    expect([...(await h.search!.match([{ field: 'body', needle: 'the' }], odd)).uids]).toEqual([...a.uids].filter((u) => u % 2 === 1));
    expect([...(await again()).uids]).toEqual([...a.uids]);
    // the crawl stored each article's MIME structure: BODYSTRUCTURE now reads nothing upstream
    const reads = vi.spyOn(source, 'article'); // the archive's only way to an article's bytes
    for (const uid of h.current().uids) expect(await h.structure(uid)).toEqual(parseStructure(articles.get('s.one')!.get(uid)!));
    expect(reads).not.toHaveBeenCalled();
    reads.mockRestore();
    h.release();
    // s.two: not crawled, but the articles crossposted from s.one have their body indexed
    const h2 = await open('s.two');
    const fromOne = new Set(byGroup.get('s.one')!.map((a) => a.messageId));
    const two = byGroup.get('s.two')!;
    const unknown = new Set((await h2.search!.match([{ field: 'body', needle: 'the' }])).unknown);
    two.forEach((a, i) => expect(unknown.has(i + 1), a.messageId).toBe(!fromOne.has(a.messageId)));
    expect(two.some((a) => fromOne.has(a.messageId))).toBe(true);
    await checkAll('s.two', h2);
    h2.release();
    for (const g of GROUPS.slice(1)) await backend.buildIndex(g);
    for (const g of GROUPS) {
      const hg = await open(g);
      expect(await checkAll(g, hg)).toBe(0);
      await checkSortThread(hg);
      hg.release();
    }
  });

  it('answers whole-group SORT and THREAD from the answers the writer stored, without reading the columns', async () => {
    const uidValidity = new Map<string, number>();
    for (const g of GROUPS) {
      const h = await open(g);
      uidValidity.set(g, h.current().uidValidity);
      h.release();
    }
    // the writer thread stores them once a group's writes have been quiet (src/search sort-store-refresh.ts)
    const stored = (): boolean => GROUPS.every((g) => index.storedAnswers(g, uidValidity.get(g)!) !== undefined);
    for (let waited = 0; !stored() && waited < 30_000; waited += 250) await new Promise((r) => setTimeout(r, 250));
    expect(stored()).toBe(true);
    // a second backend on the same index and UID map: no keys held, as after a restart
    const b = await createBackend({
      source, uidmaps, cacheDir: join(dir, 'cache-stored'), cacheMaxBytes: 64 << 20, pollIntervalMs: 0, logger: silentLogger(), index,
      indexOptions: { crawl: false, crawlConcurrency: 4, crawlBatch: 25, crawlQuietMs: 0, maxArticleBytes: 8 << 20, keysMemoryBytes: 64 << 20 },
    });
    const columns = vi.spyOn(index, 'sortColumns');
    try {
      for (const g of GROUPS) {
        const h = await b.open(g);
        const all = h.current().uids;
        const sorts: SortCriterion[][] = [[{ key: 'DATE' }], [{ key: 'DATE', reverse: true }], [{ key: 'SUBJECT' }]];
        const sorted: number[][] = [];
        for (const c of sorts) sorted.push([...(await h.search!.sort(c, all))]);
        const some = all.filter((u) => u % 2 === 0);
        const part = [...(await h.search!.sort([{ key: 'SUBJECT' }], some))];
        const threads: unknown[][] = [];
        for (const alg of THREADS) threads.push(plain(await h.search!.thread(alg, all)));
        expect(columns).not.toHaveBeenCalled();
        const keys = await rawRecords(h);
        sorts.forEach((c, i) => expect(sorted[i], JSON.stringify(c)).toEqual(oracleSort(keys, c, all)));
        expect(part).toEqual(oracleSort(keys, [{ key: 'SUBJECT' }], some));
        THREADS.forEach((alg, i) => expect(threads[i], alg).toEqual(plain(oracleThread(keys, alg, all))));
        h.release();
      }
    } finally {
      columns.mockRestore();
      await b.close();
    }
  }, 60_000);

  it('lets fresh articles wait for crawlDelayMs (newsfront index does not)', async () => {
    const src = new ArchiveSource({ dir: join(dir, 'archive'), logger: silentLogger() });
    let reads = 0; // the archive has no articleInto: every read goes through article()
    const art = src.article.bind(src);
    src.article = (...a: Parameters<typeof art>) => (reads++, art(...a));
    const maps = new MemoryUidMapStore();
    const idx = await SearchIndex.open(join(dir, 'delay.db'));
    const b = await createBackend({
      source: src, uidmaps: maps, cacheDir: join(dir, 'cache-delay'), cacheMaxBytes: 64 << 20, pollIntervalMs: 0, logger: silentLogger(), index: idx,
      indexOptions: { crawl: true, crawlDelayMs: 3_600_000, crawlConcurrency: 4, crawlBatch: 25, crawlQuietMs: 0, maxArticleBytes: 8 << 20, keysMemoryBytes: 1 << 20 },
    });
    try {
      const h = await b.open('s.three');
      await h.search!.match([]);
      await new Promise((r) => setTimeout(r, 300)); // a crawler not waiting would be reading by now
      expect(reads).toBe(0);
      const r = await b.buildIndex('s.three');
      expect(r.articles).toBe(h.current().uids.length);
      expect(reads).toBe(r.articles);
      h.release();
    } finally {
      await b.close();
      await idx.close();
      await maps.close();
      await src.close();
    }
  });
});
