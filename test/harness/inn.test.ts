/**
 * The INN harness against real INN 2.7: start, inject, read back over a raw socket
 * and with INN's own tools, two instances side by side, run-time posting, stop.
 * It also re-checks the facts about what INN changes in an article (inn.ts header).
 */
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { articlesByGroup, generateCorpus, TEST_CORPUS, type CorpusArticle } from '../corpus/generate.js';
import { expectedStoredBytes, parseHeader, splitArticle, undotStuff } from './article-bytes.js';
import { InnHarnessError, startInn, type InnServer } from './inn.js';
import { NntpProbe } from './nntp-probe.js';

const corpus = generateCorpus(TEST_CORPUS);
const byGroup = articlesByGroup(corpus);

/** Hand-made articles probing INN's header handling. */
const crafted = (id: string, groups: string, extraHeaders: string, body: string): Buffer =>
  Buffer.from(
    `Path: origin.example!not-for-mail\r\nFrom: Tester <t@example.org>\r\nNewsgroups: ${groups}\r\nSubject: crafted ${id}\r\n` +
      `Message-ID: <${id}@crafted.example>\r\nDate: Tue, 02 Jan 2001 03:04:05 +0000\r\n${extraHeaders}\r\n${body}`,
    'latin1',
  );
const FACTS = [
  crafted('xref', 'alt.test', 'Xref: bogus.host alt.test:99\r\nLines: 2\r\n', 'one\r\ntwo\r\n'),
  crafted('bytes', 'alt.test', 'Bytes: 12345\r\nX-Folded: a\r\n\tb\r\n c\r\nX-Trail: blanks  \r\nX-8bit: caf\xe9\r\n', '.\r\n..\r\n.x\r\n\xff\xfe bytes\r\n\r\n\r\n'),
  crafted('empty-body', 'alt.test,comp.lang.misc', 'Received: from nowhere\r\nNNTP-Posting-Host: h.example\r\n', ''),
];

function xrefFor(a: { groups: string[]; messageId: string }, numbers: Map<string, Map<string, number>>, pathhost: string): string {
  return `${pathhost} ${a.groups.map((g) => `${g}:${numbers.get(g)!.get(a.messageId)}`).join(' ')}`;
}

describe('private INN harness', () => {
  let inn: InnServer;
  /** group → Message-ID → article number, for corpus + crafted articles. */
  const numbers = new Map<string, Map<string, number>>();

  beforeAll(async () => {
    inn = await startInn({ groups: TEST_CORPUS.groups, articles: corpus.map((a) => a.bytes), descriptions: { 'alt.test': 'Testing.' } });
    for (const [g, arts] of byGroup) numbers.set(g, new Map(arts.map((a, i) => [a.messageId, i + 1])));
    await inn.inject(FACTS);
    for (const f of FACTS) {
      const id = /Message-ID: (\S+)/.exec(f.toString('latin1'))![1]!;
      const groups = /Newsgroups: (\S+)/.exec(f.toString('latin1'))![1]!.split(',');
      for (const g of groups) numbers.get(g)!.set(id, numbers.get(g)!.size + 1);
    }
  });
  afterAll(async () => {
    await inn?.stop();
  });

  it('serves the groups with the counts the corpus implies', async () => {
    const p = await NntpProbe.connect(inn.host, inn.port);
    try {
      for (const g of TEST_CORPUS.groups) {
        const n = numbers.get(g)!.size;
        expect(await p.group(g)).toEqual({ count: n, low: 1, high: n });
      }
      expect(await p.group('no.such.group')).toBeUndefined();
      const nl = await p.command('LIST NEWSGROUPS', [215]);
      expect(nl.data!.toString()).toContain('alt.test\tTesting.');
    } finally {
      await p.close();
    }
  });

  it('stores every corpus article as modelled: Path prefixed, Xref added, body byte-identical', async () => {
    const all = await inn.storedArticles(corpus.map((a) => a.messageId));
    for (const [i, a] of corpus.entries()) {
      const stored = all[i]!;
      expect(stored.equals(expectedStoredBytes(a.bytes, inn.pathhost, xrefFor(a, numbers, inn.pathhost))), `#${a.meta.index}`).toBe(true);
      expect(splitArticle(stored).body.equals(splitArticle(a.bytes).body)).toBe(true);
      const names = (b: Buffer): string[] => parseHeader(splitArticle(b).header).map((f) => f.name);
      expect(names(stored)).toEqual([...names(a.bytes), 'Xref']);
    }
  });

  it('documents INN header handling: Xref replaced in place, Bytes dropped, the rest kept', async () => {
    const [xref, bytes, empty] = await Promise.all(['<xref@crafted.example>', '<bytes@crafted.example>', '<empty-body@crafted.example>'].map((id) => inn.storedArticle(id)));
    const fields = (b: Buffer): string[] => parseHeader(splitArticle(b).header).map((f) => f.raw.toString('latin1'));
    expect(fields(xref!)[0]).toBe('Path: news.test!origin.example!not-for-mail\r\n');
    expect(fields(xref!)[6]).toBe(`Xref: news.test alt.test:${numbers.get('alt.test')!.get('<xref@crafted.example>')}\r\n`);
    expect(fields(xref!)[7]).toBe('Lines: 2\r\n');
    expect(fields(bytes!).some((f) => f.startsWith('Bytes:'))).toBe(false);
    expect(fields(bytes!)).toContain('X-Folded: a\r\n\tb\r\n c\r\n');
    expect(fields(bytes!)).toContain('X-Trail: blanks  \r\n');
    expect(fields(bytes!)).toContain('X-8bit: caf\xe9\r\n');
    expect(splitArticle(bytes!).body.equals(Buffer.from('.\r\n..\r\n.x\r\n\xff\xfe bytes\r\n\r\n\r\n', 'latin1'))).toBe(true);
    expect(splitArticle(empty!).body.length).toBe(0);
    expect(fields(empty!)).toContain('Received: from nowhere\r\n');
    for (const [i, f] of FACTS.entries()) {
      const id = ['<xref@crafted.example>', '<bytes@crafted.example>', '<empty-body@crafted.example>'][i]!;
      const groups = /Newsgroups: (\S+)/.exec(f.toString('latin1'))![1]!.split(',');
      expect((await inn.storedArticle(id)).equals(expectedStoredBytes(f, inn.pathhost, xrefFor({ groups, messageId: id }, numbers, inn.pathhost)))).toBe(true);
    }
  });

  it('ARTICLE over the wire (number and Message-ID, pipelined) equals what INN stored', async () => {
    const p = await NntpProbe.connect(inn.host, inn.port);
    try {
      const g = 'comp.lang.misc';
      await p.group(g);
      const arts: CorpusArticle[] = byGroup.get(g)!;
      const byNum = await Promise.all(arts.map((_, i) => p.command(`ARTICLE ${i + 1}`, [220])));
      const byId = await Promise.all(arts.map((a) => p.command(`ARTICLE ${a.messageId}`, [220])));
      const storedAll = await inn.storedArticles(arts.map((a) => a.messageId));
      for (const [i, a] of arts.entries()) {
        const stored = storedAll[i]!;
        expect(byNum[i]!.line.startsWith(`220 ${i + 1} ${a.messageId}`)).toBe(true);
        expect(undotStuff(Buffer.concat([byNum[i]!.data!, Buffer.from('.\r\n')])).equals(stored)).toBe(true);
        expect(undotStuff(Buffer.concat([byId[i]!.data!, Buffer.from('.\r\n')])).equals(stored)).toBe(true);
      }
    } finally {
      await p.close();
    }
  });

  it('reports articles INN refuses with REJECTED and the reason', async () => {
    const bad = crafted('bad', 'alt.test', 'X-Empty:\r\n', 'x\r\n');
    await expect(inn.inject([bad])).rejects.toMatchObject({ code: 'REJECTED', message: expect.stringContaining('X-Empty') });
    const future = Buffer.from(crafted('future', 'alt.test', '', 'x\r\n').toString('latin1').replace('Tue, 02 Jan 2001', 'Fri, 02 Jan 2099'), 'latin1');
    await expect(inn.inject([future])).rejects.toBeInstanceOf(InnHarnessError);
    await expect(inn.inject([crafted('lf', 'alt.test', '', 'bare\nLF\r\n')])).rejects.toMatchObject({ code: 'BARE_CR_OR_LF' });
    await expect(inn.inject([corpus[3]!.bytes])).rejects.toMatchObject({ code: 'REJECTED', message: expect.stringContaining(corpus[3]!.messageId) });
    await expect(inn.storedArticles([corpus[0]!.messageId, '<never@injected.example>'])).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('<never@injected.example>') });
  });

  it('posts at run time, creates groups and cancels articles', async () => {
    await inn.addGroup('test.runtime');
    const p = await NntpProbe.connect(inn.host, inn.port);
    try {
      expect(await p.group('test.runtime')).toEqual({ count: 0, low: 1, high: 0 });
      await inn.post(crafted('live', 'test.runtime', '', 'posted while watching\r\n'));
      expect(await p.group('test.runtime')).toEqual({ count: 1, low: 1, high: 1 });
      await inn.cancel('<live@crafted.example>');
      const probe2 = await NntpProbe.connect(inn.host, inn.port);
      expect((await probe2.command('STAT <live@crafted.example>')).code).toBe(430);
      await probe2.close();
    } finally {
      await p.close();
    }
  });

  it('runs a second instance beside the first and stops it cleanly', async () => {
    const other = await startInn({ groups: ['alt.test'], pathhost: 'other.test', articles: [corpus.find((a) => a.groups[0] === 'alt.test' && a.groups.length === 1)!.bytes] });
    expect(other.port).not.toBe(inn.port);
    const p = await NntpProbe.connect(other.host, other.port);
    expect(await p.group('alt.test')).toEqual({ count: 1, low: 1, high: 1 });
    const art = await p.command('ARTICLE 1', [220]);
    expect(art.data!.toString('latin1')).toMatch(/^Path: other\.test!/);
    await p.close();
    await other.stop();
    expect(existsSync(other.dir)).toBe(false);
    await expect(
      new Promise((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port: other.port }, () => {
          s.destroy();
          resolve('connected');
        });
        s.on('error', reject);
      }),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    // The first instance is unaffected.
    const p1 = await NntpProbe.connect(inn.host, inn.port);
    expect((await p1.group('alt.test'))!.count).toBe(numbers.get('alt.test')!.size);
    await p1.close();
  });
});
