/**
 * The index feed's overview bound and the backfill (index-feed.ts,
 * index-backfill.ts; issue 14): past the bound an ingest drops its batches
 * instead of waiting for the writer; those articles are not members of the
 * index, so SEARCH reports them unknown (the caller scans them: exact); the
 * backfill reads their overview again and feeds it until every article is a
 * member; a restart in the middle resumes from the index's members.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { OverviewRecord } from '../../../src/search/index.js';
import { INGEST_BATCH } from '../../../src/export/backend/limits.js';
import { BACKFILL_CHUNK } from '../../../src/export/backend/index-backfill.js';
import { archiveWithIndex, type ArchiveIndex } from './archive-index.js';

const G = 'b.fill';
const G2 = 'b.wait';
const G3 = 'b.quiet';
/** More than two ingest batches: the first is queued, the others dropped. */
const N = 2 * INGEST_BATCH + 700;
const subject = (i: number): string => (i % 7 === 0 ? `weekly ${i}` : `daily ${i}`);
const articles = (g: string): Buffer[] =>
  Array.from({ length: N }, (_, k) => {
    const i = k + 1;
    return Buffer.from(`From: p${i % 5}@example.org\r\nNewsgroups: ${g}\r\nSubject: ${subject(i)}\r\nMessage-ID: <${g}.${i}@t>\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\nbody ${i}\r\n`);
  });
/** UIDs (= article numbers) whose subject holds "weekly". */
const WEEKLY = Array.from({ length: N }, (_, k) => k + 1).filter((i) => i % 7 === 0);

let fx: ArchiveIndex;
/** Overview writes wait for this while closed (`gate.close()`). */
const gate = { open: true, waiting: [] as (() => void)[] };
const shut = (): void => void (gate.open = false);
const reopen = (): void => {
  gate.open = true;
  for (const w of gate.waiting.splice(0)) w();
};
let overviewWrites = 0;
/** Overview writes beyond this many close the gate themselves. */
let passing = Infinity;
/** While set, overview writes fail (what a process killed mid-way leaves: the queued records never written). */
let failing = false;

beforeAll(async () => {
  fx = await archiveWithIndex('nf-backfill-', { [G]: articles(G), [G2]: articles(G2), [G3]: articles(G3) });
  const add = fx.index.addOverview.bind(fx.index);
  fx.index.addOverview = async (records: readonly OverviewRecord[]) => {
    if (++overviewWrites > passing) gate.open = false;
    while (!gate.open) await new Promise<void>((r) => gate.waiting.push(r));
    if (failing) throw new Error('killed');
    return add(records);
  };
});

afterAll(async () => {
  reopen();
  await fx?.close();
});

/** Bodies none: no crawler; a bound of one byte: only the first batch queued fits. */
const OPTIONS = { bodies: () => 'none' as const, crawlConcurrency: 1, crawlBatch: 50, crawlQuietMs: 0, maxArticleBytes: 1 << 20, keysMemoryBytes: 16 << 20, maxOverviewBytes: 1 };

describe('index overview bound and backfill', () => {
  it('drops past the bound, answers SEARCH exactly meanwhile, backfills every article, and resumes after a restart', async () => {
    shut(); // the first batch stays queued: everything after it is dropped
    const { backend: b1 } = await fx.backend(OPTIONS);
    const h1 = await b1.open(G);
    const snap = h1.current();
    expect(snap.uids.length).toBe(N);
    const uv = snap.uidValidity;
    expect(fx.index.indexedUids(G, uv)).toHaveLength(0);

    // the writer goes on: the first batch is written, the backfill feeds one chunk, and is held at its write; a restart then
    await vi.waitFor(() => expect(overviewWrites).toBe(1), { timeout: 10_000, interval: 20 }); // the first batch's, at the gate
    passing = overviewWrites + 1; // the first batch's write (waiting at the gate) and one more pass; the next shuts the gate
    reopen();
    await vi.waitFor(() => expect(overviewWrites).toBeGreaterThan(passing), { timeout: 10_000, interval: 20 });
    passing = Infinity;
    // the first batch and the backfill's first chunk written; its second held at the gate
    const mid = INGEST_BATCH + BACKFILL_CHUNK;
    expect(mid).toBeLessThan(N);
    await vi.waitFor(() => expect(fx.index.indexedUids(G, uv)).toHaveLength(mid), { timeout: 10_000, interval: 20 });
    // meanwhile SEARCH is exact: the articles not written yet are answered from the backfill's records queued for the writer
    const between = await h1.search!.match([{ field: 'subject', needle: 'weekly' }]);
    expect(fx.index.indexedUids(G, uv)).toHaveLength(mid);
    expect([...between.uids]).toEqual(WEEKLY);
    expect([...between.unknown]).toEqual([]);
    // "killed" here: the write held and any later one fail, as if the process had died with them queued
    failing = true;
    reopen();
    await b1.close();
    failing = false;
    expect(fx.index.indexedUids(G, uv)).toHaveLength(mid);

    // a new process: nothing opens the group but the resume (the saved view has more articles than the index has members)
    const { backend: b2 } = await fx.backend(OPTIONS);
    await vi.waitFor(() => expect(fx.index.indexedUids(G, uv)).toHaveLength(N), { timeout: 20_000, interval: 50 });
    const h2 = await b2.open(G);
    const late = await h2.search!.match([{ field: 'subject', needle: 'weekly' }]);
    expect([...late.unknown]).toEqual([]);
    expect([...late.uids]).toEqual(WEEKLY);
    // the backfilled records are the overview's: SORT by SUBJECT from the index equals the order of the subjects
    const sorted = await h2.search!.sort([{ key: 'SUBJECT' }], h2.current().uids);
    const bySubject = [...h2.current().uids].sort((a, b) => (subject(a) < subject(b) ? -1 : subject(a) > subject(b) ? 1 : a - b));
    expect([...sorted]).toEqual(bySubject);
  }, 60_000);

  it('a SEARCH with more than READ_NOT_MEMBERS articles not in the index waits for the backfill instead of reading them', async () => {
    shut();
    const { backend } = await fx.backend(OPTIONS);
    const h = await backend.open(G2);
    const uv = h.current().uidValidity;
    expect(h.current().uids.length).toBe(N);
    // asked while nothing can be written: answered without waiting, it would leave the dropped articles unknown
    const asked = h.search!.match([{ field: 'subject', needle: 'weekly' }]);
    reopen();
    const got = await asked;
    expect([...got.unknown]).toEqual([]);
    expect([...got.uids]).toEqual(WEEKLY);
    await vi.waitFor(() => expect(fx.index.indexedUids(G2, uv)).toHaveLength(N), { timeout: 20_000, interval: 50 });
    h.release();
  }, 60_000);

  it('waits for quiet clients, unless a SEARCH waits for it', async () => {
    shut();
    // a client read now: the backfill would wait 10 minutes of quiet
    const { backend } = await fx.backend({ ...OPTIONS, crawlQuietMs: 600_000 });
    const h = await backend.open(G3);
    const uv = h.current().uidValidity;
    expect(h.current().uids.length).toBe(N);
    for await (const m of h.meta([h.current().uids[0]!])) expect(m.uid).toBe(h.current().uids[0]);
    // a SEARCH with the dropped articles not in the index waits for the backfill: hurried, it does not wait for quiet
    const asked = h.search!.match([{ field: 'subject', needle: 'weekly' }]);
    reopen();
    const got = await asked;
    expect([...got.unknown]).toEqual([]);
    expect([...got.uids]).toEqual(WEEKLY);
    await vi.waitFor(() => expect(fx.index.indexedUids(G3, uv)).toHaveLength(N), { timeout: 20_000, interval: 50 });
    h.release();
  }, 60_000);
});
