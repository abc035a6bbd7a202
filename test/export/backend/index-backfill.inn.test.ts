/**
 * The index feed's overview bound against INN (index-feed.ts,
 * index-backfill.ts; issue 14), with a bound of one byte: while one group's
 * records wait for the writer, a second group's ingest drops all of its
 * batches instead of waiting. Its first SELECT is answered meanwhile; its
 * SEARCH reports the articles the index lacks as unknown (the caller scans
 * them), so the answer is exact; once the writer goes on, the backfill
 * reads their overview from INN again (OVER by number) until every article
 * is a member of the index, and SEARCH answers from the index alone.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInn, type InnServer } from '../../harness/inn.js';
import { NntpSource } from '../../../src/export/nntp-source.js';
import { createBackend } from '../../../src/export/backend/index.js';
import { LmdbUidMapStore } from '../../../src/uidmap/lmdb.js';
import { SearchIndex, type OverviewRecord } from '../../../src/search/index.js';
import { silentLogger } from '../../../src/util/log.js';

const A = 'fill.first';
const B = 'fill.second';
const N = 40;
const subject = (i: number): string => (i % 3 === 0 ? `Needle talk ${i}` : `hay ${i}`);
const article = (g: string, i: number): Buffer =>
  Buffer.from(
    [`From: p${i % 4}@example.org`, `Newsgroups: ${g}`, 'Path: x!not-for-mail', `Subject: ${subject(i)}`, `Message-ID: <${g}.${i}@fill.test>`,
      `Date: Mon, 1 Jan 2024 10:${String(i % 60).padStart(2, '0')}:00 +0000`, '', `body ${i}`, ''].join('\r\n'),
  );
const ARTICLES = [...Array.from({ length: 5 }, (_, k) => article(A, k + 1)), ...Array.from({ length: N }, (_, k) => article(B, k + 1))];

let inn: InnServer | undefined;
let dir: string;

beforeAll(async () => {
  inn = await startInn({ groups: [A, B], articles: ARTICLES });
  dir = await mkdtemp(join(tmpdir(), 'nf-backfill-inn-'));
}, 180_000);

afterAll(async () => {
  await inn?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('index overview bound and backfill (INN)', () => {
  it('a group dropped whole by the feed is answered exactly meanwhile and ends up wholly indexed', async () => {
    const logger = silentLogger();
    const source = new NntpSource({ upstream: { url: `nntp://${inn!.host}:${inn!.port}`, poolSize: 2, pipelineWindow: 50, starttls: false }, logger });
    const uidmaps = await LmdbUidMapStore.open({ path: join(dir, 'uidmap.lmdb'), logger });
    const index = await SearchIndex.open(join(dir, 'search.db'));
    // overview writes wait at this gate until it opens
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const add = index.addOverview.bind(index);
    index.addOverview = async (records: readonly OverviewRecord[]) => {
      await gate;
      return add(records);
    };
    const backend = await createBackend({
      source, uidmaps, cacheDir: join(dir, 'cache'), cacheMaxBytes: 64 << 20, pollIntervalMs: 0, logger, index,
      indexOptions: { bodies: () => 'none', crawlConcurrency: 2, crawlBatch: 10, crawlQuietMs: 0, maxArticleBytes: 8 << 20, keysMemoryBytes: 1 << 20, maxOverviewBytes: 1 },
    });
    try {
      const a = await backend.open(A); // its records fill the feed: they wait at the gate
      const b = await backend.open(B); // answered without waiting for the writer: its batch is dropped
      const uv = b.current().uidValidity;
      const all = [...b.current().uids];
      expect(all).toHaveLength(N);
      const expected = all.filter((u) => u % 3 === 0); // UID = article number (first sight on the primary)
      expect(index.indexedUids(B, uv)).toHaveLength(0);
      const early = await b.search!.match([{ field: 'subject', needle: 'needle' }]);
      // nothing of B is known: everything is left to the scan, nothing wrongly matched
      expect([...early.uids]).toEqual([]);
      expect([...early.unknown]).toEqual(all);

      open();
      await vi.waitFor(() => expect(index.indexedUids(B, uv)).toHaveLength(N), { timeout: 20_000, interval: 50 });
      const late = await b.search!.match([{ field: 'subject', needle: 'needle' }]);
      expect([...late.unknown]).toEqual([]);
      expect([...late.uids]).toEqual(expected);
      const from = await b.search!.match([{ field: 'from', needle: 'P1@example' }]);
      expect([...from.uids]).toEqual(all.filter((u) => u % 4 === 1));
      a.release();
      b.release();
    } finally {
      await backend.close();
      await index.close();
      await uidmaps.close();
      await source.close();
    }
  }, 60_000);
});
