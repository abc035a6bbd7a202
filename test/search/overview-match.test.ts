/**
 * `overviewMatcher` (SEARCH on overview records still queued for the index
 * writer) against the index itself: random overview values (encoded words,
 * Latin-1 read as text, U+FFFD, TAB, spaces at the ends, NUL, lone
 * surrogates, empty fields) and random terms on every field are written with
 * `addOverview` and asked of both. One term: the same answer (yes / no /
 * unknown). Several terms AND-ed: every decided answer of the matcher is the
 * index's, and whatever the index decides yes, the matcher decides yes too.
 */
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SearchIndex, overviewDoc, overviewMatcher, type OverviewAnswer, type OverviewFields, type SearchTerm } from '../../src/search/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const PIECES = ['café', 'CAFÉ', 'hello', 'World', ' ', '  ', '\t', 'Re:', '=?utf-8?q?caf=C3=A9?=', '=?iso-8859-1?q?J=F6rg?=', 'caf\u00c3\u00a9', '\ufffd', '\u0000', '\ud800', 'x y', 'ß', 'ΣΟΦΟΣ', '=?utf-8?b?bmV3cw==?=', '<a@b>'];
const value = fc.array(fc.constantFrom(...PIECES), { minLength: 0, maxLength: 5 }).map((p) => p.join(''));
const record: fc.Arbitrary<OverviewFields> = fc.record({
  subject: value,
  from: fc.oneof(value, value.map((v) => `${v} <p@example.org>`)),
  date: fc.constant('Mon, 1 Jan 2024 10:00:00 +0000'),
  messageId: fc.constant('<m@t>'),
  references: fc.constant(''),
});
const NEEDLES = ['café', 'CAF', 'hello', 'o w', ' hello', 'hello ', 'x y', 'é', 'ß', 'ss', 'jörg', '', '\u0000', 'a\nb', 'ΣΟΦ', 'news', '\ud800', '\t', 'caf\u00c3'];
const FIELDS: SearchTerm['field'][] = ['subject', 'from', 'to', 'cc', 'body', 'text', { header: 'subject' }, { header: 'x-other' }];
const term: fc.Arbitrary<SearchTerm> = fc.record({ field: fc.constantFrom(...FIELDS), needle: fc.constantFrom(...NEEDLES) });

describe('overviewMatcher', () => {
  it('answers as the index answers the written record', async () => {
    const d = mkdtempSync(join(tmpdir(), 'overview-match-'));
    dirs.push(d);
    const index = await SearchIndex.open(join(d, 'search.db'), { writer: 'inline' });
    try {
      const samples = fc.sample(record, { numRuns: 300, seed: 5256 });
      await index.addOverview(samples.map((overview, i) => ({ mailbox: 'g', uidValidity: 1, uid: i + 1, key: `<k${i}@t>`, internalDate: 0, size: 1, overview })));
      const docs = samples.map(overviewDoc);
      let decided = 0;
      const check = (terms: SearchTerm[]): void => {
        const r = index.match('g', 1, terms);
        const yes = new Set(r.uids);
        const open = new Set(r.unindexed);
        const m = overviewMatcher(terms);
        docs.forEach((doc, i) => {
          const uid = i + 1;
          const want: OverviewAnswer = yes.has(uid) ? 'yes' : open.has(uid) ? 'unknown' : 'no';
          const got = m(doc);
          const what = JSON.stringify({ overview: samples[i], terms });
          if (terms.length === 1) expect(got, what).toBe(want);
          else {
            if (got !== 'unknown') expect(want === 'unknown' ? got : want, what).toBe(got);
            if (want === 'yes') expect(got, what).toBe('yes');
          }
          if (got !== 'unknown') decided++;
        });
      };
      // every single term, then random ANDs
      for (const field of FIELDS) for (const needle of NEEDLES) check([{ field, needle }]);
      fc.assert(fc.property(fc.array(term, { minLength: 2, maxLength: 3 }), check), { numRuns: 200, seed: 3501 });
      expect(decided).toBeGreaterThan(1000); // the matcher decides most, it does not just say unknown
    } finally {
      await index.close();
    }
  });
});
