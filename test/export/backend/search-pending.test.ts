/**
 * SEARCH, SORT and THREAD of a group just opened, before the index writer has
 * written its overview (index-feed.ts `pending`): the records queued for the
 * writer stand in for the index's rows, so the answers come at once and
 * equal the algorithms on records from HEAD — and equal the answers of a
 * backend that waited for the index. In-Reply-To is asked for (NNTP HDR,
 * here a source wrapper answering from the articles) only for articles whose
 * References names no msg-id, and an article threaded by In-Reply-To alone
 * lands under its parent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ArchiveSource } from '../../../src/export/archive/archive-source.js';
import { createBackend, type NewsBackendHandle } from '../../../src/export/backend/index.js';
import { MemoryUidMapStore } from '../../../src/uidmap/memory.js';
import { SearchIndex, type OverviewRecord } from '../../../src/search/index.js';
import { silentLogger } from '../../../src/util/log.js';
import type { MailboxHandle, SortCriterion, ThreadAlgorithm } from '../../../src/export/interface.js';
import { SORTS, THREADS, oracleSort, oracleThread, plain, rawRecords } from './search-oracle.js';
import { archiveWithIndex, hdrSource, type ArchiveIndex } from './archive-index.js';

const G = 'p.group';
const date = (i: number) => `Date: Mon, 1 Jan 2024 10:${String(i).padStart(2, '0')}:00 +0000`;
function article(i: number, fields: string[]): Buffer {
  return Buffer.from([`From: Poster ${i % 3} <p${i % 3}@example.org>`, `Newsgroups: ${G}`, date(i), ...fields, '', `body ${i}`, ''].join('\r\n'));
}
// 1–5: References names no msg-id (In-Reply-To matters); 6–12: replies by References only
const ARTICLES = [
  article(1, ['Subject: root', 'Message-ID: <a@t>']),
  article(2, ['Subject: Re: root', 'Message-ID: <b@t>', 'In-Reply-To: <a@t>']),
  article(3, ['Subject: Re: root', 'Message-ID: <c@t>', 'References: garbage-without-id', 'In-Reply-To: <b@t> (comment)']),
  article(4, ['Subject: other', 'Message-ID: <e@t>']),
  article(5, ['Subject: lost parent', 'Message-ID: <f@t>', 'In-Reply-To: <gone@t>']),
  ...Array.from({ length: 7 }, (_, k) =>
    article(6 + k, [`Subject: Re: ${k % 2 ? 'root' : 'other'}`, `Message-ID: <r${k}@t>`, `References: ${k % 2 ? '<a@t> <b@t>' : '<e@t>'}`, 'In-Reply-To: <nowhere@t>']),
  ),
];

let dir: string;
let index: SearchIndex;
let uidmaps: MemoryUidMapStore;
const asked: [number, number][] = [];
/** Articles and headers read from the source (not through HDR), and how many had been read when THREAD and the overview SORTs were answered. */
let reads = 0;
let readsBefore = -1;

/** The archive source, with HDR answered from the articles (the archive has none) and the ranges asked for noted. */
function source(): ArchiveSource {
  return hdrSource(join(dir, 'archive'), () => ARTICLES, () => reads++, (group, field, low, high) => {
    expect([group, field]).toEqual([G, 'In-Reply-To']);
    asked.push([low, high]);
  });
}

async function backendOn(src: ArchiveSource, cache: string): Promise<NewsBackendHandle> {
  return createBackend({
    source: src, uidmaps, cacheDir: join(dir, cache), cacheMaxBytes: 64 << 20, pollIntervalMs: 0, logger: silentLogger(), index,
    indexOptions: { crawl: false, crawlConcurrency: 4, crawlBatch: 25, crawlQuietMs: 0, maxArticleBytes: 8 << 20, keysMemoryBytes: 64 << 20 },
  });
}

/** Every THREAD and SORT over the whole group and a subset, answers in order. */
async function answers(h: MailboxHandle): Promise<{ what: string; uids: Uint32Array; answer: unknown }[]> {
  const all = h.current().uids;
  const some = all.filter((u) => u % 3 !== 0);
  const got: { what: string; uids: Uint32Array; answer: unknown }[] = [];
  for (const alg of THREADS) for (const uids of [all, some]) got.push({ what: alg, uids, answer: plain(await h.search!.thread(alg, uids)) });
  for (const c of SORTS.slice(0, 4)) for (const uids of [all, some]) got.push({ what: JSON.stringify(c), uids, answer: [...(await h.search!.sort(c, uids))] });
  readsBefore = reads;
  // TO and CC last: they read headers, which feeds the index
  for (const c of SORTS.slice(4)) for (const uids of [all, some]) got.push({ what: JSON.stringify(c), uids, answer: [...(await h.search!.sort(c, uids))] });
  return got;
}

/** SEARCH SUBJECT, FROM, and an AND with BODY decided false by its SUBJECT term: what queued records decide. */
async function searches(h: MailboxHandle): Promise<{ uids: number[]; unknown: number[] }[]> {
  const out: { uids: number[]; unknown: number[] }[] = [];
  for (const terms of [
    [{ field: 'subject', needle: 'ROOT' }],
    [{ field: 'from', needle: 'p1@' }],
    [{ field: 'subject', needle: 'nowhere' }, { field: 'body', needle: 'body' }],
  ] as const) {
    const m = await h.search!.match(terms);
    out.push({ uids: [...m.uids], unknown: [...m.unknown] });
  }
  return out;
}

let fx: ArchiveIndex;

beforeAll(async () => {
  fx = await archiveWithIndex('nf-search-pending-', { [G]: ARTICLES });
  ({ dir, index, uidmaps } = fx);
});

afterAll(async () => {
  await fx?.close();
});

describe('SEARCH, SORT and THREAD before the index writer caught up', () => {
  it('answer from the queued records, as the index answers later; In-Reply-To only where References has no msg-id', async () => {
    // hold every index write until released: everything the first commands read is queued, nothing written
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const addOverview = index.addOverview.bind(index);
    index.addOverview = async (records: readonly OverviewRecord[]) => {
      await gate;
      return addOverview(records);
    };
    const src1 = source();
    const b1 = await backendOn(src1, 'cache1');
    let early: Awaited<ReturnType<typeof answers>>;
    let searchedEarly: { uids: number[]; unknown: number[] }[] | undefined;
    try {
      const h = await b1.open(G);
      expect(index.indexedUids(G, h.current().uidValidity)).toHaveLength(0); // nothing written yet
      reads = 0;
      early = await answers(h);
      // THREAD and SORT before TO/CC/SIZE read no header: the queued overview and In-Reply-To sufficed
      expect(readsBefore).toBe(0);
      expect(index.indexedUids(G, h.current().uidValidity)).toHaveLength(0);
      // In-Reply-To was asked for articles 1–5 only
      expect(asked.length).toBeGreaterThan(0);
      for (const [lo, hi] of asked) expect(lo >= 1 && hi <= 5).toBe(true);
      // by In-Reply-To alone: <b@t> (2) under <a@t> (1), <c@t> (3) under <b@t>
      const refs = early.find((g) => g.what === 'REFERENCES' && g.uids.length === ARTICLES.length)!.answer as unknown[];
      const one = refs.find((t) => (t as [number])[0] === 1) as [number, [number, unknown[]][]];
      const two = one[1].find((c) => c[0] === 2)!;
      expect(two[1].map((c) => (c as [number])[0])).toContain(3);
      // SUBJECT/FROM SEARCH does not wait for the writer either (it would hang here): answered from the queued overview records
      searchedEarly = await searches(h);
      expect(searchedEarly).toEqual([
        { uids: [1, 2, 3, 7, 9, 11], unknown: [] },
        { uids: [1, 4, 7, 10], unknown: [] },
        { uids: [], unknown: [] }, // decided by its SUBJECT term; BODY alone (undecided) waits for the writer
      ]);
      expect(readsBefore).toBe(0);
      const keys = await rawRecords(h);
      for (const g of early) {
        const want = g.what.startsWith('[') ? oracleSort(keys, JSON.parse(g.what) as SortCriterion[], g.uids) : plain(oracleThread(keys, g.what as ThreadAlgorithm, g.uids));
        expect(g.answer, `${g.what} over ${g.uids.length}, before the writer`).toEqual(want);
      }
      h.release();
    } finally {
      release();
      index.addOverview = addOverview;
      await b1.close();
      await src1.close();
    }
    expect(index.indexedUids(G, (await uidmaps.open(G)).uidValidity)).toHaveLength(ARTICLES.length);
    // a second backend on the same index and UID map, once its writes are in: the same answers from the index
    const src2 = source();
    const b2 = await backendOn(src2, 'cache2');
    try {
      const h = await b2.open(G);
      await b2.indexing!.flush();
      await b2.indexing!.inReplyTo(G);
      await b2.indexing!.flush();
      const late = await answers(h);
      expect(late).toEqual(early);
      // the index, once written, decides what the queued records decided
      const searched = await searches(h);
      searchedEarly!.forEach((e, i) => {
        for (const uid of e.uids) expect(searched[i]!.uids).toContain(uid);
        for (const uid of searched[i]!.uids) expect([...e.uids, ...e.unknown]).toContain(uid);
      });
      h.release();
    } finally {
      await b2.close();
      await src2.close();
    }
  });
});
