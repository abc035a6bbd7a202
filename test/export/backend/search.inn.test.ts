/**
 * The backend's search index over a real INN 2.7 (NntpSource, sizes
 * 'download'), through `MailboxHandle.search`: the test corpus (two groups,
 * crossposts) plus hand-made articles with what the corpus lacks — To and Cc
 * (a group, an encoded name), Bcc, In-Reply-To without References, a Subject
 * folded with a TAB, raw Latin-1 headers, extra spaces, a decoded Subject
 * holding "=?", a body starting with '.' (INN's overview size is one too
 * many then; two articles of equal size tell whether SORT (SIZE) uses it).
 * - at ingest (overview only) and after the crawl, every answer equals the
 *   scan of INN's own copy of the article; `unknown` lists the un-crawled;
 * - SORT and THREAD equal the algorithms on records built from HEAD (sizes
 *   and dates as FETCH reports them), before and after the crawl;
 * - the crawler, killed with SIGKILL mid-crawl in a child process, leaves an
 *   index that answers right, and a restart resumes it: only the articles
 *   left are read, each once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInn, type InnServer } from '../../harness/inn.js';
import { NntpSource } from '../../../src/export/nntp-source.js';
import { createBackend, type NewsBackendHandle } from '../../../src/export/backend/index.js';
import { LmdbUidMapStore } from '../../../src/uidmap/lmdb.js';
import { SearchIndex } from '../../../src/search/index.js';
import { silentLogger } from '../../../src/util/log.js';
import type { IndexTerm, MailboxHandle } from '../../../src/export/interface.js';
import type { ArticleSink } from '../../../src/export/source.js';
import { articlesByGroup, generateCorpus, type CorpusArticle } from '../../corpus/generate.js';
import { checkSearch, checkSortThread as checkSorting, needles } from './search-oracle.js';

const G1 = 't.sone';
const G2 = 't.stwo';
const corpus = generateCorpus({ seed: 4242, groups: [G1, G2], perGroup: 30, crosspostRate: 0.25 });

function extra(n: number, lines: string[], body: string): CorpusArticle {
  const messageId = `<x${n}@search.test>`;
  const head = ['Path: origin!not-for-mail', `Newsgroups: ${G1}`, `Message-ID: ${messageId}`, `Date: Tue, 0${n} Jan 2019 10:00:00 +0000`, ...lines];
  if (!lines.some((l) => l.startsWith('From:'))) head.push(`From: Poster ${n} <p${n}@example.org>`);
  if (!lines.some((l) => l.startsWith('Subject:'))) head.push(`Subject: extra ${n}`);
  return { messageId, groups: [G1], bytes: Buffer.from(`${head.join('\r\n')}\r\n\r\n${body}`, 'latin1'), meta: undefined as never };
}

const EXTRAS = [
  extra(1, ['Subject: tabbed\r\n\tsubject line', 'To: Team: m@y.example, n@y.example;', 'Cc: =?utf-8?q?J=C3=B6rg?= <j@x.example>', 'Bcc: hidden@b.example'], '.starts with a dot\r\nsecond line\r\n'),
  extra(2, ['Subject: Re: tabbed subject line', 'In-Reply-To: <x1@search.test>', 'To: Bea <z@y.example>'], 'a reply by in-reply-to\r\n'),
  extra(3, ['Subject: caf\xe9 cr\xe8me', 'From: J\xf6rg M\xfcller <jm@l1.example>', 'Cc: zed@c.example'], 'caf\xe9 au lait\r\n'),
  extra(4, ['Subject: =?utf-8?q?a=3D=3Fq=3F?= literal', 'To: "Quoted, Name" <q@y.example>'], 'body four\r\n'),
  extra(5, ['Subject:    spaced   out  ', 'In-Reply-To: <x3@search.test> (comment)', 'References: garbage-without-id'], 'body five\r\n'),
  // equal sizes, but INN's overview says one more for the body starting with '.': SORT (SIZE) must tie them
  extra(6, [], '.same size\r\n'),
  extra(7, [], 'xsame size\r\n'),
];
const ALL = [...corpus, ...EXTRAS];
const byGroup = articlesByGroup(ALL);

let inn: InnServer | undefined;
let dir: string;
/** INN's own copy of each article, per group and UID (= article number on this fresh server). */
const stored = new Map<string, Map<number, Buffer>>();

beforeAll(async () => {
  inn = await startInn({ groups: [G1, G2], articles: ALL.map((a) => a.bytes) });
  dir = await mkdtemp(join(tmpdir(), 'nf-search-inn-'));
  for (const g of [G1, G2]) {
    const list = byGroup.get(g)!;
    const copies = await inn.storedArticles(list.map((a) => a.messageId));
    stored.set(g, new Map(copies.map((b, i) => [i + 1, b])));
  }
}, 120_000);

afterAll(async () => {
  await inn?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Rig {
  backend: NewsBackendHandle;
  index: SearchIndex;
  reads: () => number;
  close(): Promise<void>;
}

/** A backend with an index in `data` over the INN; `reads` counts article reads upstream. */
async function rig(data: string, crawl: boolean): Promise<Rig> {
  const logger = silentLogger();
  const source = new NntpSource({ upstream: { url: `nntp://${inn!.host}:${inn!.port}`, poolSize: 2, pipelineWindow: 50, starttls: false }, logger });
  let reads = 0;
  const into = source.articleInto.bind(source);
  source.articleInto = (g: string, n: number, id: string | undefined, sink: ArticleSink, bulk?: boolean) => {
    reads++;
    return into(g, n, id, sink, bulk);
  };
  const uidmaps = await LmdbUidMapStore.open({ path: join(data, 'uidmap.lmdb'), logger });
  const index = await SearchIndex.open(join(data, 'search.db'));
  const backend = await createBackend({
    source, uidmaps, cacheDir: join(data, 'cache'), cacheMaxBytes: 64 << 20, pollIntervalMs: 0, logger, sizes: 'download', index,
    indexOptions: { crawl, crawlConcurrency: 4, crawlBatch: 10, crawlQuietMs: 0, maxArticleBytes: 8 << 20, keysMemoryBytes: 64 << 20 },
  });
  return {
    backend, index, reads: () => reads,
    async close() {
      await backend.close();
      await index.close();
      await uidmaps.close();
      await source.close();
    },
  };
}

/** Needles the generated articles are known to exercise, beside those drawn from them. */
const EXTRA: IndexTerm[][] = ([
  [[{ field: 'to', needle: 'team' }], [{ field: 'cc', needle: 'jörg' }], [{ field: 'bcc', needle: 'HIDDEN' }], [{ field: 'subject', needle: 'tabbed subject' }]],
  [[{ field: 'subject', needle: 'tabbed\tsubject' }], [{ field: 'subject', needle: 'CAFÉ' }], [{ field: 'from', needle: 'müller' }], [{ field: 'subject', needle: 'spaced   out  ' }]],
  [[{ field: 'subject', needle: 'a=?q?' }], [{ field: 'body', needle: '.starts' }], [{ field: 'text', needle: 'in-reply-to: <x1' }]],
] as IndexTerm[][][]).flat();

/** The needles over all UIDs (checkSearch); returns the unknown count. */
const checkAll = (g: string, h: MailboxHandle): Promise<number> => checkSearch(h, stored.get(g)!, needles([...stored.get(g)!.values()]).concat(EXTRA));
const checkSortThread = (h: MailboxHandle): Promise<void> => checkSorting(h, (u) => u % 4 !== 1);

describe('search index in the backend over INN', () => {
  it('answers as the scan from the overview, then SORT/THREAD as on HEAD records, then everything after the crawl', async () => {
    const r = await rig(join(dir, 'a'), false);
    try {
      const h = await r.backend.open(G1);
      const uids = h.current().uids;
      expect(uids.length).toBe(byGroup.get(G1)!.length);
      expect([...(await h.search!.match([{ field: 'body', needle: 'the' }])).unknown]).toEqual([...uids]);
      expect([...(await h.search!.match([{ field: 'cc', needle: 'x' }])).unknown]).toEqual([...uids]);
      await checkAll(G1, h);
      await checkSortThread(h);
      // a fresh backend on the same index: keys built from the index columns (and HEAD for what they lack)
      h.release();
      await r.backend.buildIndex(G1);
      const h1 = await r.backend.open(G1);
      expect(await checkAll(G1, h1)).toBe(0);
      await checkSortThread(h1);
      // crossposts from G1 have their body indexed in G2 too
      const h2 = await r.backend.open(G2);
      const inG1 = new Set(byGroup.get(G1)!.map((a) => a.messageId));
      const unknown = new Set((await h2.search!.match([{ field: 'body', needle: 'the' }])).unknown);
      byGroup.get(G2)!.forEach((a, i) => expect(unknown.has(i + 1), a.messageId).toBe(!inG1.has(a.messageId)));
      await checkAll(G2, h2);
      await r.backend.buildIndex(G2);
      expect(await checkAll(G2, h2)).toBe(0);
      await checkSortThread(h2);
      // a new article: the kept keys grow by the tail; a cancelled one: they are built again
      await checkSortThread(h1);
      const late = extra(8, ['Subject: Re: tabbed subject line', 'References: <x1@search.test>', 'To: Late <late@y.example>'], 'the late one\r\n');
      await inn!.post(late.bytes);
      const grown = await h1.refresh();
      expect(grown.uids.length).toBe(byGroup.get(G1)!.length + 1);
      stored.get(G1)!.set(grown.uids[grown.uids.length - 1]!, (await inn!.storedArticles([late.messageId]))[0]!);
      await checkSortThread(h1);
      expect((await h1.search!.match([{ field: 'subject', needle: 'tabbed' }])).uids).toContain(grown.uids[grown.uids.length - 1]);
      await inn!.cancel('<x2@search.test>');
      const shrunk = await h1.refresh({ full: true });
      expect(shrunk.uids.length).toBe(grown.uids.length - 1);
      await checkSortThread(h1);
      await checkAll(G1, h1);
      h1.release();
      h2.release();
    } finally {
      await r.close();
    }
  }, 120_000);

  it('survives SIGKILL mid-crawl: right answers after the restart, and the crawl resumes with the articles left', async () => {
    const data = join(dir, 'b');
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/export/backend/crawl-child.ts', `nntp://${inn!.host}:${inn!.port}`, data, G1, '15'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let total = 0;
    let bodies = 0;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.on('error', reject);
      child.on('exit', (code) => reject(new Error(`child exited early (${code})`)));
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        total = Number(/total (\d+)/.exec(out)?.[1] ?? 0);
        const m = [...out.matchAll(/bodies (\d+)/g)];
        if (m.length > 0) bodies = Number(m[m.length - 1]![1]);
        if (total > 0 && bodies >= 12 && bodies < total - 8) {
          child.removeAllListeners('exit');
          child.stdout!.removeAllListeners('data');
          child.kill('SIGKILL');
          child.on('exit', () => resolve());
        }
      });
    });
    const r = await rig(data, true);
    try {
      const uv = (await r.backend.open(G1)).current().uidValidity;
      const before = r.index.coverage(G1, uv).bodies;
      expect(before).toBeGreaterThanOrEqual(12);
      expect(before).toBeLessThan(total);
      const h = await r.backend.open(G1);
      await checkAll(G1, h);
      for (let i = 0; i < 600 && h.search!.progress().bodies < total; i++) await new Promise((res) => setTimeout(res, 100));
      expect(h.search!.progress()).toEqual({ total, headers: total, bodies: total });
      expect(r.reads()).toBe(total - before);
      expect(await checkAll(G1, h)).toBe(0);
      h.release();
    } finally {
      await r.close();
    }
  }, 120_000);
});
