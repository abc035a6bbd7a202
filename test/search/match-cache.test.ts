/**
 * Kept answers of `match` (src/search/match-cache.ts): a question asked again
 * is answered from memory only while the database is unchanged — after a
 * write by the worker thread (another connection: `data_version`), by the
 * inline writer (the same connection) or by another process, the answer is
 * the database's again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SearchIndex, type HeaderRecord } from '../../src/search/index.js';
import { MatchCache } from '../../src/search/match-cache.js';
import { headerEnd } from '../../src/mime/index.js';
import { buildArticle } from './articles.js';

const dirs: string[] = [];
const opened: SearchIndex[] = [];
afterEach(async () => {
  for (const i of opened.splice(0)) await i.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function open(writer: 'inline' | 'worker', path?: string): Promise<{ index: SearchIndex; path: string }> {
  if (path === undefined) {
    const d = mkdtempSync(join(tmpdir(), 'match-cache-test-'));
    dirs.push(d);
    path = join(d, 'search.db');
  }
  const index = await SearchIndex.open(path, { writer });
  opened.push(index);
  return { index, path };
}

function article(uid: number, subject: string, text: string): { header: HeaderRecord; article: Buffer } {
  const a = buildArticle({
    messageId: `<m${uid}@x>`, subjects: [subject], subjectStyle: 'raw', subjectCharset: 'utf-8', fromName: 'Ann',
    parts: [{ text, charset: 'utf-8', cte: '8bit' }], nested: false,
  });
  return { header: { mailbox: 'g', uidValidity: 1, uid, header: a.subarray(0, headerEnd(a)), internalDate: uid * 1000, size: a.length }, article: a };
}

async function add(index: SearchIndex, uid: number, subject: string, text: string): Promise<void> {
  const x = article(uid, subject, text);
  await index.addHeaders([x.header]);
  await index.addBodies([{ mailbox: 'g', uidValidity: 1, uid, article: x.article }]);
}

const body = (index: SearchIndex, needle: string): number[] => [...index.match('g', 1, [{ field: 'body', needle }]).uids];

describe('kept match answers', () => {
  for (const writer of ['inline', 'worker'] as const) {
    it(`are the database's answer again after every write (${writer} writer)`, async () => {
      const { index } = await open(writer);
      await add(index, 1, 'one', 'a rivendor here');
      await add(index, 2, 'two', 'nothing');
      const first = index.match('g', 1, [{ field: 'body', needle: 'rivendor' }]);
      expect([...first.uids]).toEqual([1]);
      // unchanged: the same answer, kept
      expect(index.match('g', 1, [{ field: 'body', needle: 'rivendor' }])).toBe(first);
      await add(index, 3, 'three', 'RIVENDOR again');
      expect(body(index, 'rivendor')).toEqual([1, 3]);
      await index.removeMembers('g', 1, [1]);
      expect(body(index, 'rivendor')).toEqual([3]);
      // another question is another entry
      expect([...index.match('g', 1, [{ field: 'subject', needle: 'thr' }]).uids]).toEqual([3]);
      expect(body(index, 'nothing')).toEqual([2]);
    });
  }

  it('see the writes of another process (another connection to the same file)', async () => {
    const { index: reader, path } = await open('worker');
    await add(reader, 1, 'one', 'a rivendor here');
    expect(body(reader, 'rivendor')).toEqual([1]);
    const { index: other } = await open('inline', path);
    await add(other, 2, 'two', 'rivendor too');
    expect(body(reader, 'rivendor')).toEqual([1, 2]);
  });
});

describe('MatchCache', () => {
  const result = (n: number) => ({ uids: new Uint32Array(n), unindexed: new Uint32Array(0) });

  it('answers only under the stamp an answer was kept with', () => {
    const c = new MatchCache();
    const r = result(3);
    c.set('k', 's1', r);
    expect(c.get('k', 's1')).toBe(r);
    expect(c.get('k', 's2')).toBeUndefined();
    expect(c.get('k', 's1')).toBeUndefined(); // the stale entry is gone
    let computed = 0;
    const again = () => (computed++, result(1));
    const a = c.answer('q', 's', again);
    expect(c.answer('q', 's', again)).toBe(a);
    expect(computed).toBe(1);
  });

  it('lets go of the answers of an older stamp when one of a newer stamp is kept', () => {
    const c = new MatchCache();
    for (let i = 0; i < 10; i++) c.set(`k${i}`, '1:0', result(1000));
    c.set('k10', '1:0', result(1));
    expect(c.size).toBe(11);
    c.set('new', '2:0', result(1));
    expect(c.size).toBe(1);
    expect(c.get('new', '2:0')).toBeDefined();
  });

  it('keeps a bounded number of answers, least recently used out first, and no huge one', () => {
    const c = new MatchCache();
    for (let i = 0; i < 200; i++) c.set(`k${i}`, 's', result(10));
    expect(c.size).toBeLessThanOrEqual(64);
    expect(c.get('k199', 's')).toBeDefined();
    expect(c.get('k0', 's')).toBeUndefined();
    c.set('huge', 's', result(1 << 20));
    expect(c.get('huge', 's')).toBeUndefined();
  });
});
