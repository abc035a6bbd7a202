/**
 * NntpClient (src/nntp/client.ts) against a real INN 2.7 holding the generated
 * corpus: every article byte-identical by number and by Message-ID with 1,000
 * calls in flight, GROUP/LISTGROUP/LIST ACTIVE/OVER agreeing with the corpus,
 * crossposts in every group, and a ~57 MB article streamed with bounded memory.
 *
 * Expected bytes come from two sides: the documented model of INN's changes
 * (`expectedStoredBytes`) and INN's own copy (`sm -R`) for a sample.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NntpClient } from '../../src/nntp/client.js';
import { expectedStoredBytes, headerValue, splitArticle } from '../harness/article-bytes.js';
import { startInn, type InnServer } from '../harness/inn.js';
import { articlesByGroup, generateCorpus, type CorpusArticle } from '../corpus/generate.js';

/** Includes a UTF-8 group name (INN accepts them; RFC 3977 §4.1 allows UTF-8). */
const GROUPS = ['comp.lang.misc', 'alt.test', 'de.test.käse'];
/** 3 × 400 articles + crossposts: > 1,000 ARTICLE calls in flight per direction. */
const corpus = generateCorpus({ seed: 11, groups: GROUPS, perGroup: 400, largeAttachmentBytes: 40 * 1024 * 1024 });
const byGroup = articlesByGroup(corpus);
const large = corpus.find((a) => a.meta.kind === 'large')!;
/** Calls issued at once. */
const IN_FLIGHT = 1000;

/** A callable gc() without --expose-gc on the command line (vitest.config is shared). */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function streamSha(stream: Readable, onChunk?: (n: number) => void): Promise<{ sha: string; bytes: number }> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    h.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
    onChunk?.(bytes);
  }
  return { sha: h.digest('hex'), bytes };
}

describe('NntpClient against INN 2.7 with the generated corpus', () => {
  let inn: InnServer;
  let client: NntpClient;
  /** Message-ID → sha256 of the bytes INN must serve. */
  const expected = new Map<string, string>();
  const numberOf = (g: string, a: CorpusArticle): number => byGroup.get(g)!.indexOf(a) + 1;
  const xrefOf = (a: CorpusArticle): string => `${inn.pathhost} ${a.groups.map((g) => `${g}:${numberOf(g, a)}`).join(' ')}`;

  beforeAll(async () => {
    inn = await startInn({ groups: GROUPS, articles: corpus.map((a) => a.bytes) });
    for (const a of corpus) expected.set(a.messageId, sha(expectedStoredBytes(a.bytes, inn.pathhost, xrefOf(a))));
    client = await NntpClient.connect({ host: inn.host, port: inn.port, pipelineWindow: 100 });
  });
  afterAll(async () => {
    await client?.quit();
    await inn?.stop();
  });

  it('the model of INN changes matches what INN stored, for every article', async () => {
    const sample = corpus.filter((a) => a !== large);
    const stored = await inn.storedArticles(sample.map((a) => a.messageId));
    sample.forEach((a, i) => expect(sha(stored[i]!), `#${a.meta.index}`).toBe(expected.get(a.messageId)));
  });

  it('GROUP, LISTGROUP and LIST ACTIVE agree with the corpus', async () => {
    const active = new Map((await client.listActive()).map((e) => [e.name, e]));
    for (const g of GROUPS) {
      const n = byGroup.get(g)!.length;
      expect(await client.group(g)).toEqual({ name: g, count: n, low: 1, high: n });
      expect(await client.listGroup(g)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      expect(active.get(g)).toMatchObject({ high: n, low: 1, status: 'y' });
    }
  });

  it('every article is byte-identical by number in each of its groups, 1,000 calls in flight', async () => {
    const calls: { g: string; n: number; a: CorpusArticle }[] = [];
    for (const [g, arts] of byGroup) arts.forEach((a, i) => a !== large && calls.push({ g, n: i + 1, a }));
    expect(calls.length).toBeGreaterThan(IN_FLIGHT);
    for (let i = 0; i < calls.length; i += IN_FLIGHT) {
      const batch = calls.slice(i, i + IN_FLIGHT);
      const got = await Promise.all(
        batch.map(async (c) => {
          const h = await client.article(c.g, c.n);
          return { h, ...(await streamSha(h.stream)) };
        }),
      );
      got.forEach((r, k) => {
        const c = batch[k]!;
        expect(r.h.number).toBe(c.n);
        expect(r.h.messageId).toBe(c.a.messageId);
        expect(r.sha, `${c.g}:${c.n}`).toBe(expected.get(c.a.messageId));
      });
    }
  });

  it('every article is byte-identical by Message-ID, 1,000 calls in flight', async () => {
    const arts = corpus.filter((a) => a !== large);
    for (let i = 0; i < arts.length; i += IN_FLIGHT) {
      const batch = arts.slice(i, i + IN_FLIGHT);
      const got = await Promise.all(batch.map(async (a) => streamSha((await client.articleById(a.messageId)).stream)));
      got.forEach((r, k) => expect(r.sha, batch[k]!.messageId).toBe(expected.get(batch[k]!.messageId)));
    }
  });

  it('crossposted articles are in every group, with one Xref naming all of them', async () => {
    const cross = corpus.filter((a) => a.groups.length > 1);
    expect(cross.length).toBeGreaterThan(20);
    const calls = cross.flatMap((a) => a.groups.map((g) => ({ a, g })));
    const heads = await Promise.all(calls.map((c) => client.head(c.g, numberOf(c.g, c.a))));
    heads.forEach((h, i) => {
      const { a } = calls[i]!;
      expect(h.messageId).toBe(a.messageId);
      // NNTP HEAD: the header fields without the empty line that ends them.
      const storedHeader = splitArticle(expectedStoredBytes(a.bytes, inn.pathhost, xrefOf(a))).header;
      expect(Buffer.concat([h.head, Buffer.from('\r\n')]).equals(storedHeader)).toBe(true);
      expect(Buffer.from(headerValue(storedHeader, 'Xref')!, 'latin1').toString('utf8')).toBe(xrefOf(a));
    });
  });

  it('OVER agrees with the corpus (ids, references, unfolded subject, lines, xref, bytes)', async () => {
    for (const g of GROUPS) {
      const arts = byGroup.get(g)!;
      const rows = [];
      for await (const r of client.over(g, [1, arts.length])) rows.push(r);
      expect(rows.map((r) => r.number)).toEqual(arts.map((_, i) => i + 1));
      rows.forEach((r, i) => {
        const a = arts[i]!;
        const raw = (name: string): string => Buffer.from(headerValue(a.bytes, name) ?? '', 'latin1').toString('utf8').replace(/\t/g, ' ');
        expect(r.messageId).toBe(a.messageId);
        expect(r.references).toBe(a.meta.references.join(' '));
        expect(r.subject).toBe(raw('Subject'));
        expect(r.from).toBe(raw('From'));
        expect(r.date).toBe(a.meta.date);
        expect(r.lines).toBe(a.meta.bodyLines);
        expect(r.xref).toBe(xrefOf(a));
        // INN's :bytes counts the stored article; one too many when the body starts with '.'.
        const stored = expectedStoredBytes(a.bytes, inn.pathhost, xrefOf(a)).length;
        expect(r.bytes).toBe(stored + (a.meta.bodyStartsWithDot ? 1 : 0));
      });
    }
  });

  it('streams the ~57 MB article byte-identical without holding it in memory', async () => {
    expect(large.bytes.length).toBeGreaterThan(55_000_000);
    const g = large.groups[0]!;
    const want = expected.get(large.messageId)!;
    const size = expectedStoredBytes(large.bytes, inn.pathhost, xrefOf(large)).length;
    // Live memory, not RSS: collect garbage before sampling so only retained bytes count.
    const live = (): number => {
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    for (const slow of [false, true]) {
      const before = live();
      let peak = 0;
      let next = 0;
      const h = await client.article(g, numberOf(g, large));
      const hash = createHash('sha256');
      let bytes = 0;
      for await (const chunk of h.stream) {
        hash.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
        if (bytes >= next) {
          next += 4 * 1024 * 1024;
          peak = Math.max(peak, live() - before);
        }
        // A slow reader: a client without back-pressure would pile the article up meanwhile.
        if (slow && bytes % (1024 * 1024) < (chunk as Buffer).length) await new Promise((r) => setTimeout(r, 5));
      }
      expect(hash.digest('hex')).toBe(want);
      expect(bytes).toBe(size);
      // Holding the article would retain ≥ 57 MB.
      expect(peak, slow ? 'slow reader' : 'fast reader').toBeLessThan(16 * 1024 * 1024);
    }
    const byId = await streamSha((await client.articleById(large.messageId)).stream);
    expect(byId.sha).toBe(want);
  });
});
