/**
 * The first THREAD of a group just opened, asked while the In-Reply-To
 * values (NNTP HDR, here a source wrapper answering from the articles) are
 * still on their way: the records are read and the thread prepared
 * meanwhile, and the answer, once they came, equals the algorithm on
 * records from HEAD — for a group whose replies carry In-Reply-To and no
 * References (threads change when the values come) as for one where no
 * article has In-Reply-To (the prepared threads stand). ORDEREDSUBJECT
 * reads no msg-id and does not wait for the values at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ArchiveSource } from '../../../src/export/archive/archive-source.js';
import { createBackend, type NewsBackendHandle } from '../../../src/export/backend/index.js';
import { MemoryUidMapStore } from '../../../src/uidmap/memory.js';
import { MessageKeys, SearchIndex } from '../../../src/search/index.js';
import { silentLogger } from '../../../src/util/log.js';
import type { MailboxHandle, ThreadAlgorithm } from '../../../src/export/interface.js';
import { archiveWithIndex, hdrSource, type ArchiveIndex } from './archive-index.js';
import { oracleThread, plain, rawRecords } from './search-oracle.js';

const IRT = 'f.irt';
const PLAIN = 'f.plain';
const date = (i: number) => `Date: Mon, 1 Jan 2024 ${String(10 + (i % 7)).padStart(2, '0')}:${String(i).padStart(2, '0')}:00 +0000`;
function article(g: string, i: number, fields: string[]): Buffer {
  return Buffer.from([`From: Poster ${i % 3} <p${i % 3}@example.org>`, `Newsgroups: ${g}`, date(i), ...fields, '', `body ${i}`, ''].join('\r\n'));
}

const GROUPS: Record<string, Buffer[]> = {
  // replies by In-Reply-To alone (no References, or one naming no msg-id), a parent that is missing, two replies to one missing parent
  [IRT]: [
    article(IRT, 1, ['Subject: root', 'Message-ID: <a@t>']),
    article(IRT, 2, ['Subject: Re: root', 'Message-ID: <b@t>', 'In-Reply-To: <a@t>']),
    article(IRT, 3, ['Subject: answer', 'Message-ID: <c@t>', 'References: no-id-here', 'In-Reply-To: "Poster" <b@t> (comment)']),
    article(IRT, 4, ['Subject: other', 'Message-ID: <d@t>']),
    article(IRT, 5, ['Subject: Re: lost', 'Message-ID: <e@t>', 'In-Reply-To: <gone@t>']),
    article(IRT, 6, ['Subject: Re: lost', 'Message-ID: <f@t>', 'In-Reply-To: <gone@t>']),
    article(IRT, 7, ['Subject: Re: other', 'Message-ID: <g@t>', 'References: <d@t>', 'In-Reply-To: <a@t>']),
    article(IRT, 8, ['Subject: late', 'Message-ID: <h@t>', 'In-Reply-To: <g@t>']),
    article(IRT, 9, ['Subject: Re: root', 'Message-ID: <i@t>']),
  ],
  // no In-Reply-To anywhere: replies by References, roots without, subjects gathered
  [PLAIN]: [
    article(PLAIN, 1, ['Subject: one', 'Message-ID: <p1@t>']),
    article(PLAIN, 2, ['Subject: Re: one', 'Message-ID: <p2@t>', 'References: <p1@t>']),
    article(PLAIN, 3, ['Subject: two', 'Message-ID: <p3@t>']),
    article(PLAIN, 4, ['Subject: Re: two', 'Message-ID: <p4@t>', 'References: <p3@t> <gone@t>']),
    article(PLAIN, 5, ['Subject: Re: one', 'Message-ID: <p5@t>']),
    article(PLAIN, 6, ['Subject: three', 'Message-ID: <p6@t>', 'References: <p2@t>']),
  ],
};

let dir: string;
let index: SearchIndex;
let uidmaps: MemoryUidMapStore;
/** Articles and headers read from the source (not through HDR). */
let reads = 0;
/** HDR answers are held until this opens. */
let gate: Promise<void> = Promise.resolve();
let asked = 0;
/** HDR fails once the gate opens (the fetch is lost: THREAD reads those headers). */
let failing = false;

function source(): ArchiveSource {
  return hdrSource(join(dir, 'archive'), (g) => GROUPS[g]!, () => reads++, async () => {
    asked++;
    await gate;
    if (failing) throw new Error('HDR failed');
  });
}

async function backendOn(src: ArchiveSource, idx = index, maps = uidmaps, cache = 'cache'): Promise<NewsBackendHandle> {
  return createBackend({
    source: src, uidmaps: maps, index: idx, cacheDir: join(dir, cache), cacheMaxBytes: 64 << 20, pollIntervalMs: 0, logger: silentLogger(),
    indexOptions: { crawl: false, crawlConcurrency: 4, crawlBatch: 25, crawlQuietMs: 0, maxArticleBytes: 8 << 20, keysMemoryBytes: 64 << 20 },
  });
}

/** Lets the event loop run a few rounds (the commands get as far as they can without the values). */
async function spin(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

let fx: ArchiveIndex;

beforeAll(async () => {
  fx = await archiveWithIndex('nf-thread-first-', GROUPS);
  ({ dir, index, uidmaps } = fx);
});

afterAll(async () => {
  await fx?.close();
});

describe('first THREAD while In-Reply-To is still fetched', () => {
  for (const g of [IRT, PLAIN]) {
    it(`${g}: prepared meanwhile, answered as the algorithm on headers once the values came`, async () => {
      let open!: () => void;
      gate = new Promise<void>((r) => (open = r));
      asked = 0;
      const src = source();
      const b = await backendOn(src);
      try {
        const h: MailboxHandle = await b.open(g);
        await spin(); // the feed and the fetch start once the opener is answered (index-feed.ts hold)
        expect(asked).toBeGreaterThan(0); // the fetch is under way, held
        reads = 0;
        const all = h.current().uids;
        const some = all.filter((u) => u % 3 !== 1);
        // ORDEREDSUBJECT reads no msg-id: answered with the values still held
        const ordered = await h.search!.thread('ORDEREDSUBJECT', all);
        const asks: { alg: ThreadAlgorithm; uids: Uint32Array }[] = [
          { alg: 'REFERENCES', uids: all },
          { alg: 'REFS', uids: all },
          { alg: 'REFERENCES', uids: some },
        ];
        const threads = asks.map((a) => h.search!.thread(a.alg, a.uids));
        let settled = 0;
        for (const t of threads) void t.then(() => settled++);
        await spin();
        expect(settled).toBe(0); // REFERENCES and REFS cannot answer without them
        open();
        const got = await Promise.all(threads);
        expect(reads).toBe(0); // no header was read: the values came through HDR
        const keys = await rawRecords(h);
        asks.forEach((a, i) => expect(plain(got[i]!), `${a.alg} of ${a.uids.length}`).toEqual(plain(oracleThread(keys, a.alg, a.uids))));
        expect(plain(ordered)).toEqual(plain(oracleThread(keys, 'ORDEREDSUBJECT', all)));
        // asked again (kept keys, the values written or queued): the same
        for (let i = 0; i < asks.length; i++) expect(plain(await h.search!.thread(asks[i]!.alg, asks[i]!.uids))).toEqual(plain(got[i]!));
        h.release();
      } finally {
        open();
        await b.close();
        await src.close();
      }
    });
  }

  it('f.irt: a failed In-Reply-To fetch: the prepared keys give way to headers, the answer is the same', async () => {
    let open!: () => void;
    gate = new Promise<void>((r) => (open = r));
    failing = true;
    // an index, UID map and header cache of their own: nothing the earlier tests wrote or read
    const idx = await SearchIndex.open(join(dir, 'search-failing.db'));
    const maps = new MemoryUidMapStore();
    const src = source();
    const b = await backendOn(src, idx, maps, 'cache-failing');
    try {
      const h = await b.open(IRT);
      const all = h.current().uids;
      reads = 0;
      const t = h.search!.thread('REFERENCES', all);
      await spin();
      open();
      const got = await t;
      expect(reads).toBeGreaterThan(0); // the headers were read instead
      const keys = await rawRecords(h);
      expect(plain(got)).toEqual(plain(oracleThread(keys, 'REFERENCES', all)));
      h.release();
    } finally {
      failing = false;
      open();
      await b.close();
      await src.close();
      await idx.close();
      await maps.close();
    }
  });

  it('f.irt: In-Reply-To moves replies (the threads differ from those without it)', async () => {
    const src = source();
    const b = await backendOn(src);
    try {
      const h = await b.open(IRT);
      const keys = await rawRecords(h);
      const without = new MessageKeys(keys.records.map((r) => ({ ...r, inReplyTo: '' })));
      const all = h.current().uids;
      expect(plain(oracleThread(keys, 'REFERENCES', all))).not.toEqual(plain(oracleThread(without, 'REFERENCES', all)));
      h.release();
    } finally {
      await b.close();
      await src.close();
    }
  });
});
