/**
 * IndexReader.warm (src/search/query.ts): the statements of the common
 * searches are prepared when the index opens, so the first SUBJECT, FROM,
 * TO, CC, BODY or TEXT search of a word prepares nothing; other shapes still
 * get their own statements, and answers are the same either way.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SearchIndex } from '../../src/search/index.js';
import { headerEnd } from '../../src/mime/index.js';
import { buildArticle } from './articles.js';

const dirs: string[] = [];
const opened: SearchIndex[] = [];
afterEach(async () => {
  for (const i of opened.splice(0)) await i.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function filled(writer: 'inline' | 'worker'): Promise<SearchIndex> {
  const d = mkdtempSync(join(tmpdir(), 'search-warm-test-'));
  dirs.push(d);
  const index = await SearchIndex.open(join(d, 'search.db'), { writer });
  opened.push(index);
  const arts = ['Rivendor tales', 'other things', 'more rivendor'].map((subject, i) =>
    buildArticle({
      messageId: `<w${i}@x>`, subjects: [subject], subjectStyle: 'raw', subjectCharset: 'utf-8', fromName: i === 1 ? 'Rivendor Ann' : 'Bob',
      parts: [{ text: i === 2 ? 'nothing' : 'a RIVENDOR in the body', charset: 'utf-8', cte: '8bit' }], nested: false,
    }),
  );
  await index.addHeaders(arts.map((a, i) => ({ mailbox: 'g', uidValidity: 1, uid: i + 1, header: a.subarray(0, headerEnd(a)), internalDate: 1000, size: a.length })));
  await index.addBodies(arts.map((a, i) => ({ mailbox: 'g', uidValidity: 1, uid: i + 1, article: a })));
  return index;
}

const FIELDS = ['subject', 'from', 'to', 'cc', 'body', 'text'] as const;
const EXPECTED: Record<string, number[]> = { subject: [1, 3], from: [2], to: [], cc: [], body: [1, 2], text: [1, 2, 3] };

describe('IndexReader.warm', () => {
  for (const writer of ['inline', 'worker'] as const) {
    it(`prepares every common search at open (${writer} writer)`, async () => {
      const index = await filled(writer);
      const before = index.preparedStatements;
      expect(before).toBeGreaterThanOrEqual(FIELDS.length);
      for (const field of FIELDS) {
        const r = index.match('g', 1, [{ field, needle: 'rIVENDOR' }]);
        expect([...r.uids], String(field)).toEqual(EXPECTED[field]);
        expect([...r.unindexed]).toEqual([]);
      }
      expect(index.preparedStatements).toBe(before);
    });
  }

  it('a needle of another shape (two words, HEADER) gets statements of its own', async () => {
    const index = await filled('inline');
    const before = index.preparedStatements;
    expect([...index.match('g', 1, [{ field: 'subject', needle: 'rivendor tales' }]).uids]).toEqual([1]);
    expect([...index.match('g', 1, [{ field: { header: 'subject' }, needle: 'more' }]).uids]).toEqual([3]);
    expect(index.preparedStatements).toBeGreaterThan(before);
  });
});
