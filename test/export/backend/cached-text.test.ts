/**
 * Articles past `index.maxArticleBytes` (archive backend, crawler): the
 * crawler does not download them for the index, only their header; but one a
 * client has read is in the article cache, and then its text parts are read
 * from there and indexed (cached-text.ts), so SEARCH BODY answers it from the
 * index — exactly as the scan does (the search oracle). One not read stays
 * scan-only (`unknown` in every BODY answer) until a client reads it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewsBackendHandle } from '../../../src/export/backend/index.js';
import { archiveWithIndex, type ArchiveIndex } from './archive-index.js';
import type { IndexTerm } from '../../../src/export/interface.js';
import { checkMatch } from './search-oracle.js';
import { readAll } from './helpers.js';

const GROUP = 'long.posts';
const MAX = 64 * 1024;

/** A multipart article: a text part (Latin-1, quoted-printable) and a base64 attachment of `binary` bytes. */
function longArticle(n: number, words: string, binary: number): Buffer {
  const blob = Buffer.alloc(binary, n).toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from(
    [
      `From: poster${n} <p${n}@example.org>`,
      `Newsgroups: ${GROUP}`,
      `Subject: binary posting ${n}`,
      `Date: Mon, 1 Jan 2024 10:0${n}:00 +0000`,
      `Message-ID: <long${n}@example.org>`,
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=iso-8859-1',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      `${words} caf=E9 gr=FC=DFe`,
      '--b1',
      'Content-Type: application/octet-stream; name="x.bin"',
      'Content-Transfer-Encoding: base64',
      '',
      blob,
      '--b1--',
      '',
    ].join('\r\n'),
  );
}

function shortArticle(n: number, words: string): Buffer {
  return Buffer.from(
    [`From: p${n}@example.org`, `Newsgroups: ${GROUP}`, `Subject: short ${n}`, `Date: Mon, 1 Jan 2024 11:0${n}:00 +0000`, `Message-ID: <short${n}@example.org>`, '', words, ''].join('\r\n'),
  );
}

const ARTICLES = [shortArticle(1, 'plain zebrafish words'), longArticle(2, 'the quokka lives here', 200_000), longArticle(3, 'another quokka, never read', 150_000), shortArticle(4, 'quokka in a short one')];

let fx: ArchiveIndex;
let backend: NewsBackendHandle;

beforeAll(async () => {
  fx = await archiveWithIndex('nf-cached-text-', { [GROUP]: ARTICLES });
  ({ backend } = await fx.backend({ crawl: false, crawlConcurrency: 2, crawlBatch: 10, crawlQuietMs: 0, maxArticleBytes: MAX, keysMemoryBytes: 1 << 20 }));
});

afterAll(async () => {
  await fx?.close();
});

describe('articles past maxArticleBytes', () => {
  it('are indexed from the article cache when a client read them, before the crawl or after it', async () => {
    expect(ARTICLES[1]!.length).toBeGreaterThan(MAX);
    const h = await backend.open(GROUP);
    const uids = h.current().uids;
    expect(uids.length).toBe(4);
    // a client reads article 2 whole (it lands in the article cache); article 3 is never read
    expect(await readAll(await h.content(uids[1]!))).toEqual(ARTICLES[1]);
    await backend.buildIndex(GROUP);
    await backend.indexing!.flush();
    const byUid = new Map(ARTICLES.map((a, i) => [uids[i]!, a]));
    for (const terms of [[{ field: 'body', needle: 'quokka' }], [{ field: 'body', needle: 'CAFÉ GRÜSSE' }], [{ field: 'text', needle: 'quokka lives' }], [{ field: 'body', needle: 'zebrafish' }]] as IndexTerm[][]) {
      const r = await h.search!.match(terms);
      // the unread long article is the only one left to the scan
      expect([...r.unknown], JSON.stringify(terms)).toEqual([uids[2]]);
      checkMatch(r, uids, byUid, terms);
    }
    expect([...(await h.search!.match([{ field: 'body', needle: 'quokka' }])).uids]).toEqual([uids[1], uids[3]]);
    // article 3, scan-only after the crawl, is read by a client now: its text replaces the mark
    expect(await readAll(await h.content(uids[2]!))).toEqual(ARTICLES[2]);
    let r = await h.search!.match([{ field: 'body', needle: 'quokka' }]);
    for (let i = 0; i < 50 && r.unknown.length > 0; i++) {
      await new Promise((res) => setTimeout(res, 100)); // the cache hook reads the text parts back, then queues them
      await backend.indexing!.flush();
      r = await h.search!.match([{ field: 'body', needle: 'quokka' }]);
    }
    expect([...r.unknown]).toEqual([]);
    expect([...r.uids]).toEqual([uids[1], uids[2], uids[3]]);
    checkMatch(r, uids, byUid, [{ field: 'body', needle: 'quokka' }]);
    h.release();
  });
});
