/**
 * The one contract suite for `Source` (src/export/source.ts, STYLE §4), run
 * against NntpSource over a real INN and MultiSource over INN and an archive
 * (../source-contract.inn.test.ts), and ArchiveSource and MultiSource over two
 * archives (../source-contract.test.ts). It checks what the interface file
 * promises: source article numbers ascending, exact CRLF article bytes never
 * dot-stuffed, a head that ends with its blank line, streams that belong to
 * the caller, and failures as `SourceError` with a stable code.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Readable } from 'node:stream';
import { articleInto, SourceError, type OverviewRecord, type Source } from '../../../src/export/source.js';
import { xrefGroups } from '../../../src/export/backend/ingest.js';

/** An article as the source must serve it. */
export interface ExpectedArticle {
  number: number;
  messageId: string;
  subject: string;
  /** Exactly what `article()` returns (for INN: its stored copy, with Path and Xref changed). */
  bytes: Buffer;
  /** Groups the article was posted to. */
  groups: string[];
}

export interface SourceHarness {
  source: Source;
  /** Every group the source must list, with its articles in ascending number order ([] for an empty group). */
  expected: ReadonlyMap<string, readonly ExpectedArticle[]>;
  /** Close the source and whatever else the harness opened. */
  cleanup: () => Promise<void>;
}

export interface SourceContractOptions {
  /** `article`/`head`/`articleInto` with a Message-ID check that Message-ID against the number (NNTP: the 220/221 line). */
  checksMessageId: boolean;
  /** Overview `bytes` may exceed the article size by one (INN counts a dot-stuffed first body byte). */
  sizeOffByOne: boolean;
}

async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

async function overviewOf(s: Source, group: string, low: number, high: number): Promise<OverviewRecord[]> {
  const out: OverviewRecord[] = [];
  for await (const r of s.overview(group, low, high)) out.push(r);
  return out;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SourceError);
    return (err as SourceError).code;
  }
  throw new Error('expected a SourceError, got success');
}

/** Collects what `articleInto` delivers; `begin` forgets what came before (the sink contract). */
function sink(): { begins: number; dataBeforeBegin: boolean; bytes: () => Buffer; begin(): void; data(c: Buffer): void } {
  let parts: Buffer[] = [];
  const s = {
    begins: 0,
    dataBeforeBegin: false,
    bytes: () => Buffer.concat(parts),
    begin() {
      s.begins++;
      parts = [];
    },
    data(c: Buffer) {
      if (s.begins === 0) s.dataBeforeBegin = true;
      parts.push(Buffer.from(c));
    },
  };
  return s;
}

const headOf = (bytes: Buffer): Buffer => bytes.subarray(0, bytes.indexOf('\r\n\r\n') + 4);

export function sourceContract(name: string, make: () => Promise<SourceHarness>, o: SourceContractOptions): void {
  describe(`Source contract: ${name}`, () => {
    let h: SourceHarness;
    let s: Source;
    /** Groups with at least one article. */
    let full: [string, readonly ExpectedArticle[]][];
    beforeEach(async () => {
      h = await make();
      s = h.source;
      full = [...h.expected].filter(([, arts]) => arts.length > 0);
      expect(full.length).toBeGreaterThan(0);
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('lists every group, with a range that covers its articles', async () => {
      const listed = new Map((await s.listGroups()).map((g) => [g.name, g]));
      for (const [group, arts] of h.expected) {
        const g = listed.get(group);
        expect(g, group).toBeDefined();
        if (arts.length === 0) {
          expect(g!.count).toBe(0);
          continue;
        }
        expect(g!.low).toBeLessThanOrEqual(arts[0]!.number);
        expect(g!.high).toBeGreaterThanOrEqual(arts[arts.length - 1]!.number);
        expect(g!.count).toBeGreaterThanOrEqual(arts.length);
      }
    });

    it('gives fresh counts for one group and NO_SUCH_GROUP for an unknown one', async () => {
      for (const [group, arts] of h.expected) {
        const g = await s.groupInfo(group);
        expect(g.name).toBe(group);
        if (arts.length === 0) expect(g.count).toBe(0);
        else expect([g.low, g.high]).toEqual([arts[0]!.number, arts[arts.length - 1]!.number]);
      }
      expect(await codeOf(s.groupInfo('no.such.group.here'))).toBe('NO_SUCH_GROUP');
    });

    it('lists the article numbers present in a range, ascending', async () => {
      for (const [group, arts] of h.expected) {
        const numbers = arts.map((a) => a.number);
        expect(await s.articleNumbers(group, 1, 1_000_000)).toEqual(numbers);
        if (numbers.length >= 3) expect(await s.articleNumbers(group, numbers[1]!, numbers[2]!)).toEqual(numbers.slice(1, 3));
        expect(await s.articleNumbers(group, 5, 4)).toEqual([]);
      }
      expect(await codeOf(s.articleNumbers('no.such.group.here', 1, 10))).toBe('NO_SUCH_GROUP');
    });

    it('streams overview records ascending within the range, matching the articles', async () => {
      for (const [group, arts] of full) {
        const ov = await overviewOf(s, group, 1, arts[arts.length - 1]!.number);
        expect(ov.map((r) => r.number)).toEqual(arts.map((a) => a.number));
        for (const [i, r] of ov.entries()) {
          const a = arts[i]!;
          expect(r.messageId).toBe(a.messageId);
          // 8-bit header bytes are decoded differently per source (NNTP: as UTF-8); ASCII ones must match.
          if (/^[\x20-\x7e]*$/.test(a.subject)) expect(r.subject.trim()).toBe(a.subject);
          const extra = r.bytes - a.bytes.length;
          expect(extra === 0 || (o.sizeOffByOne && extra === 1), `bytes of ${a.messageId}: ${r.bytes} for ${a.bytes.length}`).toBe(true);
          if (r.xref !== undefined && a.groups.length > 1) expect(xrefGroups(r.xref)).toEqual(expect.arrayContaining(a.groups));
        }
        const last = arts[arts.length - 1]!.number;
        expect(await overviewOf(s, group, last + 1, last + 100)).toEqual([]);
        expect(await overviewOf(s, group, last, last - 1)).toEqual([]);
        if (arts.length >= 2) expect((await overviewOf(s, group, arts[1]!.number, last)).map((r) => r.number)).toEqual(arts.slice(1).map((a) => a.number));
      }
    });

    it('serves every article byte for byte: CRLF, never dot-stuffed', async () => {
      for (const [group, arts] of full) {
        for (const a of arts) {
          const bytes = await readAll(await s.article(group, a.number));
          expect(bytes.equals(a.bytes), `${group}:${a.number}`).toBe(true);
          expect(/(^|[^\r])\n/.test(bytes.toString('latin1'))).toBe(false);
          expect(bytes.equals(await readAll(await s.article(group, a.number, a.messageId)))).toBe(true);
        }
      }
    });

    it('serves the header block through its blank line', async () => {
      for (const [group, arts] of full) {
        for (const a of arts) {
          expect((await s.head(group, a.number)).equals(headOf(a.bytes)), `${group}:${a.number}`).toBe(true);
          expect((await s.head(group, a.number, a.messageId)).equals(headOf(a.bytes))).toBe(true);
        }
      }
    });

    it('delivers the same bytes into a sink, after begin()', async () => {
      for (const [group, arts] of full) {
        for (const a of arts) {
          const k = sink();
          await articleInto(s, group, a.number, a.messageId, k);
          expect(k.begins).toBeGreaterThanOrEqual(1);
          expect(k.dataBeforeBegin).toBe(false);
          expect(k.bytes().equals(a.bytes), `${group}:${a.number}`).toBe(true);
        }
      }
    });

    it('answers many reads at once, each with its own article', async () => {
      const reads = full.flatMap(([group, arts]) => [...arts, ...arts].map((a) => ({ group, a })));
      const got = await Promise.all(reads.map(async ({ group, a }) => readAll(await s.article(group, a.number))));
      got.forEach((bytes, i) => expect(bytes.equals(reads[i]!.a.bytes)).toBe(true));
    });

    it('stays usable after the caller destroys a stream early', async () => {
      const [group, arts] = full.reduce((best, cur) => (cur[1].some((a) => a.bytes.length > 100_000) ? cur : best));
      const big = arts.reduce((x, y) => (y.bytes.length > x.bytes.length ? y : x));
      const stream = await s.article(group, big.number);
      await new Promise<void>((resolve, reject) => {
        stream.once('data', () => resolve());
        stream.once('error', reject);
      });
      stream.destroy();
      for (const a of arts) expect((await readAll(await s.article(group, a.number))).equals(a.bytes)).toBe(true);
    });

    it('reports a number without an article as NO_SUCH_ARTICLE', async () => {
      const [group, arts] = full[0]!;
      const missing = arts[arts.length - 1]!.number + 1000;
      expect(await codeOf(s.article(group, missing))).toBe('NO_SUCH_ARTICLE');
      expect(await codeOf(s.head(group, missing))).toBe('NO_SUCH_ARTICLE');
      expect(await codeOf(articleInto(s, group, missing, undefined, sink()))).toBe('NO_SUCH_ARTICLE');
      expect(await codeOf(s.article('no.such.group.here', 1))).toMatch(/^NO_SUCH_(GROUP|ARTICLE)$/);
    });

    if (o.checksMessageId) {
      it('serves the article of the Message-ID given when the number names another one', async () => {
        const [group, arts] = full.find(([, a]) => a.length >= 2)!;
        const [first, other] = [arts[0]!, arts[arts.length - 1]!];
        expect((await readAll(await s.article(group, first.number, other.messageId))).equals(other.bytes)).toBe(true);
        expect((await s.head(group, first.number, other.messageId)).equals(headOf(other.bytes))).toBe(true);
        const k = sink();
        await articleInto(s, group, first.number, other.messageId, k);
        expect(k.bytes().equals(other.bytes)).toBe(true);
        expect(await codeOf(s.article(group, first.number, '<never-posted@contract.test>'))).toBe('NO_SUCH_ARTICLE');
      });
    }
  });
}
