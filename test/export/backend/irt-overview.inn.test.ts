/**
 * In-Reply-To from INN's overview: with `extraoverviewadvertised: [
 * In-Reply-To ]` LIST OVERVIEW.FMT advertises `In-Reply-To:full`, OVER
 * carries the header, and the source hands it over with each record
 * (OverviewRecord.inReplyTo) — so THREAD of a group just opened asks INN
 * for nothing more (no HDR In-Reply-To, which INN answers by reading each
 * article) and still equals RFC 5256 REFERENCES on the articles' headers.
 * Against an INN without the field, the same group needs HDR (control).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInn, type InnServer } from '../../harness/inn.js';
import { NntpSource } from '../../../src/export/nntp-source.js';
import { createBackend } from '../../../src/export/backend/index.js';
import { LmdbUidMapStore } from '../../../src/uidmap/lmdb.js';
import { SearchIndex } from '../../../src/search/index.js';
import { silentLogger } from '../../../src/util/log.js';
import { oracleThread, plain, rawRecords } from './search-oracle.js';

const G = 'irt.over';
const date = (i: number): string => `Date: Mon, 1 Jan 2024 10:${String(i).padStart(2, '0')}:00 +0000`;
const article = (i: number, fields: string[]): Buffer =>
  Buffer.from([`From: Poster ${i % 3} <p${i % 3}@example.org>`, `Newsgroups: ${G}`, `Path: x!not-for-mail`, date(i), ...fields, '', `body ${i}`, ''].join('\r\n'));

// replies by In-Reply-To alone (no References), a References naming no msg-id, a missing parent, a reply by References
const ARTICLES = [
  article(1, ['Subject: root', 'Message-ID: <a@irt.test>']),
  article(2, ['Subject: Re: root', 'Message-ID: <b@irt.test>', 'In-Reply-To: <a@irt.test>']),
  article(3, ['Subject: answer', 'Message-ID: <c@irt.test>', 'References: no-id-here', 'In-Reply-To: "Poster" <b@irt.test> (comment)']),
  article(4, ['Subject: other', 'Message-ID: <d@irt.test>']),
  article(5, ['Subject: Re: lost', 'Message-ID: <e@irt.test>', 'In-Reply-To: <gone@irt.test>']),
  article(6, ['Subject: Re: other', 'Message-ID: <f@irt.test>', 'References: <d@irt.test>', 'In-Reply-To: <a@irt.test>']),
  article(7, ['Subject: late', 'Message-ID: <g@irt.test>', 'In-Reply-To: <f@irt.test>']),
];

let withField: InnServer | undefined;
let without: InnServer | undefined;
let dir: string;

beforeAll(async () => {
  [withField, without] = await Promise.all([
    startInn({ groups: [G], articles: ARTICLES, extraOverview: ['In-Reply-To'] }),
    startInn({ groups: [G], articles: ARTICLES }),
  ]);
  dir = await mkdtemp(join(tmpdir(), 'nf-irt-over-'));
}, 180_000);

afterAll(async () => {
  await withField?.stop();
  await without?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** THREAD REFERENCES of G right after its first open on `inn`; the HDR requests the source got meanwhile, and the oracle's answer. */
async function firstThread(inn: InnServer, data: string): Promise<{ hdr: number; inReplyTo: (string | undefined)[]; threads: unknown[]; expected: unknown[] }> {
  const logger = silentLogger();
  const source = new NntpSource({ upstream: { url: `nntp://${inn.host}:${inn.port}`, poolSize: 2, pipelineWindow: 50, starttls: false }, logger });
  const inReplyTo: (string | undefined)[] = [];
  for await (const r of source.overview(G, 1, ARTICLES.length)) inReplyTo.push(r.inReplyTo);
  let hdr = 0;
  const values = source.headerValues.bind(source);
  source.headerValues = (...a: Parameters<typeof values>) => (hdr++, values(...a));
  const uidmaps = await LmdbUidMapStore.open({ path: join(data, 'uidmap.lmdb'), logger });
  const index = await SearchIndex.open(join(data, 'search.db'));
  const backend = await createBackend({
    source, uidmaps, cacheDir: join(data, 'cache'), cacheMaxBytes: 64 << 20, pollIntervalMs: 0, logger, index,
    indexOptions: { crawl: false, crawlConcurrency: 2, crawlBatch: 10, crawlQuietMs: 0, maxArticleBytes: 8 << 20, keysMemoryBytes: 1 << 20 },
  });
  try {
    const h = await backend.open(G);
    const uids = h.current().uids;
    const threads = plain(await h.search!.thread('REFERENCES', uids));
    const asked = hdr;
    const expected = plain(oracleThread(await rawRecords(h), 'REFERENCES', uids));
    h.release();
    return { hdr: asked, inReplyTo, threads, expected };
  } finally {
    await backend.close();
    await index.close();
    await uidmaps.close();
    await source.close();
  }
}

describe('In-Reply-To in the overview (INN extraoverviewadvertised)', () => {
  it('comes with OVER: THREAD asks nothing more and equals REFERENCES on the headers', async () => {
    const r = await firstThread(withField!, await mkdtemp(join(dir, 'a-')));
    expect(r.inReplyTo).toEqual(['', '<a@irt.test>', '"Poster" <b@irt.test> (comment)', '', '<gone@irt.test>', '<a@irt.test>', '<f@irt.test>']);
    expect(r.hdr).toBe(0);
    expect(r.threads).toEqual(r.expected);
  });

  it('control: without the field the records carry none, and HDR brings it', async () => {
    const r = await firstThread(without!, await mkdtemp(join(dir, 'b-')));
    expect(r.inReplyTo.every((v) => v === undefined)).toBe(true);
    expect(r.hdr).toBeGreaterThan(0);
    expect(r.threads).toEqual(r.expected);
  });
});
