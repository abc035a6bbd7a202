/**
 * The structure of a long download parsed as it comes (fetch-watch.ts
 * ParseFeed) and a download the overview says is long (fetch.ts with
 * `Upstream.size`): questions about where a part is get the whole parse's
 * answer whatever the chunking and whenever they are asked; the tree at the
 * end is the whole parse's, also when pieces still lag; a failure rejects
 * waiting questions; a part near the top of a known-long article is located
 * and served (a Buffer) while the rest is held upstream, and the article then
 * ends byte-exact in the cache — also when the overview's size was wrong; a
 * download whose upstream has many chunks ready parses at most
 * DOWNLOAD_TURN_BYTES (and the chunk reaching them) per event-loop turn.
 */
import { turnCounter } from '../../harness/turns.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ParseFeed } from '../../../src/export/backend/fetch-watch.js';
import { ArticleCache, type Upstream } from '../../../src/export/backend/article-cache.js';
import { DOWNLOAD_TURN_BYTES, PARSE_STEP, SMALL_ARTICLE_BYTES } from '../../../src/export/backend/limits.js';
import { locateSection } from '../../../src/mime/locate.js';
import { parseStructure } from '../../../src/mime/structure.js';
import { sectionRange } from '../../../src/mime/section.js';
import { silentLogger } from '../../../src/util/log.js';
import { readAll } from './helpers.js';

/** A multipart article: a short text part, then `big` bytes of base64 lines, then a third part. */
function article(big: number, eol = '\r\n'): Buffer {
  const lines: string[] = [];
  for (let n = 0; n * 77 < big; n++) lines.push(String.fromCharCode(65 + (n % 26)).repeat(76));
  const s = [
    'From: a@example.org',
    'Subject: large',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="=-b"',
    '',
    'preamble',
    '--=-b',
    'Content-Type: text/plain',
    '',
    'hello',
    '--=-b',
    'Content-Type: application/octet-stream; name=x.bin',
    'Content-Transfer-Encoding: base64',
    '',
    ...lines,
    '--=-b',
    'Content-Type: text/plain',
    '',
    'the end',
    '--=-b--',
    '',
  ].join(eol);
  return Buffer.from(s, 'latin1');
}

/** The bytes BODY[path]<0.want> gives from the whole parse. */
function truth(all: Buffer, path: number[], want: number): Buffer {
  const r = sectionRange(parseStructure(all), path, '');
  return all.subarray(r.start, Math.min(r.end, r.start + want));
}

const dirs: string[] = [];
const caches: ArticleCache[] = [];
afterEach(async () => {
  for (const c of caches.splice(0)) await c.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('ParseFeed', () => {
  it('answers as the whole parse, for any chunking and any moment of asking; ends with the whole tree', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 100, max: 3 * PARSE_STEP }),
        fc.constantFrom('\r\n', '\n'),
        fc.array(fc.integer({ min: 1, max: 3 * PARSE_STEP }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 12 }), fc.constantFrom<number[]>([1], [2], [3]), fc.constantFrom(1, 100, 1024)), { maxLength: 4 }),
        async (big, eol, cuts, asks) => {
          const all = article(big, eol);
          const feed = new ParseFeed();
          const answers: Promise<[number[], number, unknown]>[] = [];
          let at = 0;
          for (let i = 0; i <= cuts.length; i++) {
            for (const [when, path, want] of asks) {
              if (when === i) answers.push(feed.watch((p) => locateSection(p, path, '', want)).then((r) => [path, want, r]));
            }
            if (i === cuts.length || at >= all.length) break;
            const n = cuts[i]!;
            feed.push(all.subarray(at, at + n));
            at += n;
            if (i % 3 === 1) await new Promise((res) => setImmediate(res)); // sometimes let the lagging pieces in
          }
          if (at < all.length) feed.push(all.subarray(at));
          const tree = feed.end(); // with pieces possibly still lagging
          expect(tree).toEqual(parseStructure(all));
          for (const [path, want, r] of await Promise.all(answers)) {
            if (r === undefined) continue; // the parse ended first: the whole tree answers
            const got = r as { start: number; end: number };
            expect(all.subarray(got.start, Math.min(got.end, got.start + want))).toEqual(truth(all, path, want));
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a part at the top of a long chunk is located from that chunk; one asked later is answered once the lag is parsed', async () => {
    const all = article(40 * PARSE_STEP);
    const feed = new ParseFeed();
    const first = feed.watch((p) => locateSection(p, [2], '', 1024));
    feed.push(all.subarray(0, all.length - 5)); // all but the closing delimiter's end
    const r = (await first)!;
    expect(all.subarray(r.start, r.start + 1024)).toEqual(truth(all, [2], 1024));
    const third = await feed.watch((p) => locateSection(p, [3], '', 3));
    expect(third).not.toBeUndefined();
    expect(all.subarray(third!.start, third!.start + 3)).toEqual(truth(all, [3], 3));
    feed.push(all.subarray(all.length - 5));
    expect(feed.end()).toEqual(parseStructure(all));
  });

  it('a question still waiting gets undefined at the end, and is rejected by a failure', async () => {
    const all = article(1000);
    const ended = new ParseFeed();
    const never = ended.watch((p) => locateSection(p, [9], '', 1));
    ended.push(all);
    ended.end();
    expect(await never).toBeUndefined();
    const failed = new ParseFeed();
    const waiting = failed.watch((p) => locateSection(p, [2], '', 1));
    failed.push(all.subarray(0, 50));
    failed.fail(new Error('cut'));
    await expect(waiting).rejects.toThrow('cut');
    await expect(failed.watch(() => 1)).rejects.toThrow('cut');
  });
});

describe('a download the overview says is long', () => {
  async function cache(): Promise<ArticleCache> {
    const dir = mkdtempSync(join(tmpdir(), 'nf-fwatch-'));
    dirs.push(dir);
    const c = new ArticleCache({ dir, maxBytes: 1 << 30, logger: silentLogger() });
    await c.init();
    caches.push(c);
    return c;
  }

  /** An upstream sending `head` bytes, then holding the rest until `release`; `size` is the overview's. */
  function held(bytes: Buffer, head: number, size: number): { upstream: Upstream; release: () => void } {
    let release!: () => void;
    const gate = new Promise<void>((res) => (release = res));
    const upstream: Upstream = Object.assign(
      async () =>
        Readable.from(
          (async function* () {
            yield bytes.subarray(0, head);
            await gate;
            yield bytes.subarray(head);
          })(),
        ),
      { size },
    );
    return { upstream, release };
  }

  it('locates and serves a part near the top before smallMax bytes are in; then ends whole in the cache', async () => {
    const c = await cache();
    const all = article(2 * SMALL_ARTICLE_BYTES);
    const { upstream, release } = held(all, 4000, all.length);
    try {
      const r = await Promise.race([c.watch('k', upstream, (p) => locateSection(p, [2], '', 1024)), new Promise<'waited'>((res) => setTimeout(() => res('waited'), 3000))]);
      expect(r).not.toBe('waited');
      const range = r as { start: number; end: number };
      const got = await c.take('k', upstream, range.start, range.start + 1024);
      expect(Buffer.isBuffer(got)).toBe(true);
      expect(got).toEqual(truth(all, [2], 1024));
    } finally {
      release();
    }
    const whole = await c.ensure('k', upstream).catch(() => null);
    expect(whole === null || whole.structure !== null).toBe(true);
    expect(await readAll(await c.open('k', upstream))).toEqual(all);
  });

  it('an article shorter than the overview said still ends byte-exact (as a file)', async () => {
    const c = await cache();
    const all = article(2000);
    const { upstream, release } = held(all, 100, SMALL_ARTICLE_BYTES * 4);
    release();
    const f = await c.ensure('short', upstream);
    expect(f?.size).toBe(all.length);
    expect(f?.bytes).toBeNull();
    expect(f?.structure).toEqual(parseStructure(all));
    expect(await readAll(await c.open('short', upstream))).toEqual(all);
    expect(await c.take('short', upstream, 10, 30)).toEqual(all.subarray(10, 30)); // a short range of a cached file: one read
  });

  it('parses at most DOWNLOAD_TURN_BYTES (and the chunk reaching them) per event-loop turn, when the upstream has it all ready', async () => {
    const c = await cache();
    const all = article(12 * DOWNLOAD_TURN_BYTES);
    const chunk = 16 * 1024;
    const pieces: Buffer[] = [];
    for (let at = 0; at < all.length; at += chunk) pieces.push(all.subarray(at, at + chunk));
    const upstream: Upstream = Object.assign(async () => Readable.from(pieces), { size: all.length });
    const turns = turnCounter();
    const perTurn = new Map<number, number>();
    const original = ParseFeed.prototype.push;
    const push = vi.spyOn(ParseFeed.prototype, 'push').mockImplementation(function (this: ParseFeed, b: Buffer) {
      perTurn.set(turns.turn, (perTurn.get(turns.turn) ?? 0) + b.length);
      original.call(this, b);
    });
    try {
      const f = await c.ensure('turns', upstream);
      expect(f?.structure).toEqual(parseStructure(all));
    } finally {
      turns.stop();
      push.mockRestore();
    }
    expect((await readAll(await c.open('turns', upstream))).equals(all)).toBe(true);
    expect([...perTurn.values()].reduce((a, b) => a + b, 0)).toBe(all.length);
    expect(Math.max(...perTurn.values())).toBeLessThanOrEqual(DOWNLOAD_TURN_BYTES - 1 + chunk);
  });
});
