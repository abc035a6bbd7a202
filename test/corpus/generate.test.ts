/**
 * The corpus generator: determinism, netnews validity (what INN accepts), and that
 * its metadata agrees with an independent reading of the bytes (libmime for RFC 2047,
 * `mime-check.ts` for the MIME tree).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import libmime from 'libmime';
import { describe, expect, it } from 'vitest';
import { crlfToLf, headerValue, parseHeader, splitArticle } from '../harness/article-bytes.js';
import { articlesByGroup, generateCorpus, iterateCorpus, TEST_CORPUS, toRnewsBatch, writeRnewsBatch, type CorpusArticle } from './generate.js';
import { decodedText, parseEntity } from './mime-check.js';

const digest = (arts: CorpusArticle[]): string => {
  const h = createHash('sha256');
  for (const a of arts) h.update(a.bytes);
  return h.digest('hex');
};

/** A bigger corpus than TEST_CORPUS so rare features (3 %) surely occur. */
const WIDE = generateCorpus({ seed: 7, groups: ['a.one', 'a.two', 'a.three', 'b.four'], perGroup: 250 });
const SMALL = generateCorpus(TEST_CORPUS);

function field(a: CorpusArticle, name: string): string[] {
  const { header } = splitArticle(a.bytes);
  return parseHeader(header)
    .filter((f) => f.name.toLowerCase() === name.toLowerCase())
    .map((f) => f.value);
}

describe('corpus generator', () => {
  it('is deterministic per seed and differs between seeds', () => {
    expect(digest(generateCorpus(TEST_CORPUS))).toBe(digest(SMALL));
    expect(digest(generateCorpus({ ...TEST_CORPUS, seed: 2 }))).not.toBe(digest(SMALL));
  });

  it('posts perGroup articles to each group, crossposts on top', () => {
    const primary = new Map<string, number>();
    for (const a of WIDE) primary.set(a.groups[0]!, (primary.get(a.groups[0]!) ?? 0) + 1);
    expect([...primary.values()]).toEqual([250, 250, 250, 250]);
    const byGroup = articlesByGroup(WIDE);
    const cross = WIDE.filter((a) => a.groups.length > 1);
    expect(cross.some((a) => a.groups.length === 2)).toBe(true);
    expect(cross.some((a) => a.groups.length === 3)).toBe(true);
    for (const a of cross) for (const g of a.groups) expect(byGroup.get(g)).toContain(a);
    expect(new Set(cross.flatMap((a) => a.groups)).size).toBe(4);
  });

  it('makes articles INN accepts: CRLF only, no NUL, required headers once, past dates, unique ids', () => {
    const ids = new Set<string>();
    for (const a of WIDE) {
      expect(() => crlfToLf(a.bytes)).not.toThrow();
      for (const name of ['Path', 'From', 'Newsgroups', 'Subject', 'Message-ID', 'Date']) {
        expect(field(a, name), `${name} in #${a.meta.index}`).toHaveLength(1);
      }
      for (const f of parseHeader(splitArticle(a.bytes).header)) {
        expect(f.value.trim().length, `empty ${f.name}`).toBeGreaterThan(0);
        for (const line of f.raw.toString('latin1').split('\r\n')) expect(line.length).toBeLessThanOrEqual(998);
      }
      expect(headerValue(a.bytes, 'Message-ID')).toBe(a.messageId);
      expect(headerValue(a.bytes, 'Newsgroups')).toBe(a.groups.join(','));
      ids.add(a.messageId);
      expect(Date.parse(a.meta.date.replace(/ \([A-Z]+\)$/, ''))).toBe(a.meta.dateMs);
      expect(a.meta.dateMs).toBeLessThan(Date.now());
      expect(a.meta.size).toBe(a.bytes.length);
      expect(a.meta.headerBytes).toBe(splitArticle(a.bytes).header.length);
    }
    expect(ids.size).toBe(WIDE.length);
  });

  it('meta.subject and meta.from are the RFC 2047-decoded headers', () => {
    for (const a of WIDE) {
      const raw = (name: string): string => {
        const v = headerValue(a.bytes, name)!;
        // Raw 8-bit header bytes are UTF-8 in this corpus.
        return Buffer.from(v, 'latin1').toString('utf8');
      };
      expect(libmime.decodeWords(raw('Subject')), `#${a.meta.index}`).toBe(a.meta.subject);
      expect(libmime.decodeWords(raw('From'))).toBe(a.meta.from);
    }
  });

  it('covers the encodings: B and Q in UTF-8 and ISO-8859-1, raw 8-bit, folding', () => {
    const subjects = WIDE.map((a) => headerValue(a.bytes, 'Subject')!);
    for (const re of [/=\?utf-8\?B\?/i, /=\?utf-8\?Q\?/i, /=\?iso-8859-1\?B\?/i, /=\?iso-8859-1\?Q\?/i]) {
      expect(subjects.some((s) => re.test(s)), String(re)).toBe(true);
    }
    expect(WIDE.some((a) => a.meta.rawUtf8Header)).toBe(true);
    expect(WIDE.some((a) => /=\?[^?]+\?[BQ]\?/i.test(headerValue(a.bytes, 'From')!))).toBe(true);
    const folded = (a: CorpusArticle): boolean => /\r\n[ \t]/.test(splitArticle(a.bytes).header.toString('latin1'));
    expect(WIDE.filter(folded).length).toBeGreaterThan(20);
    expect(WIDE.some((a) => /\r\n\t/.test(splitArticle(a.bytes).header.toString('latin1')))).toBe(true);
    // Raw 8-bit bodies without any MIME declaration, in both charsets.
    for (const cs of ['iso-8859-1', 'utf-8'] as const) {
      expect(WIDE.some((a) => !a.meta.mime && a.meta.charset === cs && splitArticle(a.bytes).body.some((c) => c >= 0x80)), cs).toBe(true);
    }
    for (const enc of ['8bit', 'quoted-printable', 'base64']) {
      expect(WIDE.some((a) => /text\/plain/.test(a.bytes.toString('latin1')) && field(a, 'Content-Transfer-Encoding').includes(enc)), enc).toBe(true);
    }
  });

  it('MIME metadata matches an independent parse of the bytes', () => {
    const kinds = new Set<string>();
    for (const a of WIDE) {
      kinds.add(a.meta.kind);
      expect(parseEntity(a.bytes, '', true), `#${a.meta.index} ${a.meta.kind}`).toEqual(a.meta.parts);
    }
    expect([...kinds].sort()).toEqual(['alternative', 'base64-text', 'mixed', 'nested', 'plain', 'qp', 'related', 'rfc822']);
  });

  it('body words occur in the decoded text; dot lines are flagged from the bytes', () => {
    let dotted = 0;
    let lone = 0;
    for (const a of WIDE) {
      const text = decodedText(a.bytes, (p) => (p['charset'] === 'iso-8859-1' || (!a.meta.mime && a.meta.charset === 'iso-8859-1') ? 'latin1' : 'utf8'));
      const lower = text.toLowerCase();
      for (const w of a.meta.bodyWords) expect(lower.includes(w.toLowerCase()), `${w} in #${a.meta.index}`).toBe(true);
      const body = splitArticle(a.bytes).body;
      expect(a.meta.hasLeadingDotLines).toBe(body[0] === 0x2e || body.includes('\r\n.'));
      if (a.meta.hasLeadingDotLines) dotted++;
      if (body.includes('\r\n.\r\n')) lone++;
    }
    expect(dotted).toBeGreaterThan(10);
    expect(lone).toBeGreaterThan(0);
    expect(WIDE.some((a) => a.meta.bodyStartsWithDot)).toBe(true);
  });

  it('threads: replies reference earlier articles of the group and say Re:', () => {
    const seen = new Map<string, CorpusArticle>();
    let replies = 0;
    for (const a of WIDE) {
      if (a.meta.references.length > 0) {
        replies++;
        const parentId = a.meta.references[a.meta.references.length - 1]!;
        const parent = seen.get(parentId);
        expect(parent, `parent of #${a.meta.index}`).toBeDefined();
        expect(parent!.groups).toContain(a.groups[0]);
        expect(a.meta.subject.startsWith('Re: ')).toBe(true);
        expect(headerValue(a.bytes, 'References')!.split(/\s+/)).toEqual(a.meta.references);
        expect(parent!.meta.dateMs).toBeLessThan(a.meta.dateMs);
      }
      seen.set(a.messageId, a);
    }
    expect(replies / WIDE.length).toBeGreaterThan(0.25);
  });

  it('TEST_CORPUS carries the features the integration tests rely on', () => {
    expect(SMALL.some((a) => a.groups.length > 1)).toBe(true);
    expect(SMALL.some((a) => a.meta.hasLeadingDotLines)).toBe(true);
    expect(SMALL.some((a) => a.meta.references.length > 0)).toBe(true);
    expect(new Set(SMALL.map((a) => a.meta.kind)).size).toBeGreaterThanOrEqual(7);
  });

  it('makes a large article of at least largeArticleBytes, its attachment decodable', () => {
    const arts = generateCorpus({ seed: 3, groups: ['x.big', 'x.small'], perGroup: 4, largeArticleBytes: 20_000_000 });
    const big = arts.filter((a) => a.meta.kind === 'large');
    expect(big).toHaveLength(1);
    expect(big[0]!.bytes.length).toBeGreaterThanOrEqual(20_000_000);
    expect(big[0]!.groups).toEqual(['x.big']);
    expect(arts).toHaveLength(9);
    const att = big[0]!.meta.parts.children![1]!;
    expect(att.decodedSize).toBeGreaterThanOrEqual(Math.floor(20_000_000 * 57 / 78) - 1);
    expect(parseEntity(big[0]!.bytes, '', true)).toEqual(big[0]!.meta.parts);
  });

  it('writes rnews batches: "#! rnews <n>" + the LF form of each article', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nf-corpus-'));
    try {
      const path = join(dir, 'b.batch');
      const seen: string[] = [];
      const res = await writeRnewsBatch(path, iterateCorpus(TEST_CORPUS), (a) => seen.push(a.messageId));
      const file = await readFile(path);
      expect(file.equals(toRnewsBatch(SMALL))).toBe(true);
      expect(res).toEqual({ articles: SMALL.length, bytes: file.length });
      expect(seen).toEqual(SMALL.map((a) => a.messageId));
      // Parse it back: every entry converts back to the CRLF article.
      let pos = 0;
      let k = 0;
      while (pos < file.length) {
        const nl = file.indexOf(0x0a, pos);
        const m = /^#! rnews (\d+)$/.exec(file.subarray(pos, nl).toString('latin1'));
        expect(m).not.toBeNull();
        const n = Number(m![1]);
        const lf = file.subarray(nl + 1, nl + 1 + n);
        expect(Buffer.from(lf.toString('latin1').replace(/\n/g, '\r\n'), 'latin1').equals(SMALL[k]!.bytes)).toBe(true);
        pos = nl + 1 + n;
        k++;
      }
      expect(k).toBe(SMALL.length);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('spaces dates by dateStepMs when given, strictly increasing (a big corpus stays in the past)', () => {
    const step = 120_000;
    const a = generateCorpus({ seed: 5, groups: ['g.a'], perGroup: 200, dateStepMs: step });
    const ms = a.map((x) => x.meta.dateMs);
    for (let i = 1; i < ms.length; i++) expect(ms[i]!).toBeGreaterThan(ms[i - 1]!);
    expect(ms[ms.length - 1]! - ms[0]!).toBeGreaterThanOrEqual(199 * step - 60_000);
    expect(ms[ms.length - 1]! - ms[0]!).toBeLessThanOrEqual(199 * step + 60_000);
    const dflt = generateCorpus({ seed: 5, groups: ['g.a'], perGroup: 200 }).map((x) => x.meta.dateMs);
    expect(dflt[199]! - dflt[0]!).toBeGreaterThan(199 * 420_000 - 300_000); // the default step is untouched
  });
});
