/**
 * `overviewColumns` (a record queued for the index writer standing in for
 * its row) gives exactly what `sortColumns` reads back once `addOverview`
 * wrote the record: plain ASCII values (the short way) and every kind of
 * value that takes the long way (encoded words, Latin-1 read as text, U+FFFD,
 * NUL and U+0001, non-ASCII dates, white space at the ends).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OverviewMemo, SearchIndex, overviewColumns, type OverviewFields } from '../../src/search/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const base: OverviewFields = { subject: 'Re: plain subject', from: 'Ann Example <ann@example.org>', date: 'Mon, 1 Jan 2024 10:00:00 +0000', messageId: '<m@t>', references: '<a@t> <b@t>' };
const VARIANTS: Partial<OverviewFields>[] = [
  {},
  { subject: '', from: '', date: '', references: '' },
  { subject: '  spaced  ', references: '  <a@t>  ', messageId: ' <m@t> ' },
  { date: 'not a date' },
  { from: '"Doe, John" <john@example.org> (comment)' },
  { from: 'no address at all' },
  { subject: '=?utf-8?q?caf=C3=A9?= talk' },
  { from: '=?iso-8859-1?q?J=F6rg?= <j@example.org>' },
  { subject: 'caf\u00e9 in Latin-1 or UTF-8' },
  { subject: 'bytes lost \ufffd here' },
  { subject: 'ctl\u0001inside', references: '<a@t>\u0001<b@t>' },
  { subject: 'nul\u0000inside' },
  { from: 'odd\u0001 <o@example.org>' },
  { from: '=?utf-8?q?x=01y?= <o@example.org>' },
  { date: 'Mon, 1 Jan 2024 10:00:00 +0000 \u00e9' },
  { messageId: '<m\u00e9@t>' },
  { subject: 'tab\there', from: 'Tab\tName <t@example.org>' },
  { subject: 'Fwd: [tag] =?utf-8?b?w6k=?=' },
  { subject: 'lone \ud800 surrogate', from: 'lone \udc00 <l@example.org>' },
  { subject: 'pair \ud83d\ude00 kept' },
  { subject: '=?utf-8?q?nul=00here?=' },
  { from: '=?iso-8859-1?q?J=F6rg?= <j@example.org>', subject: 'caf\u00c3\u00a9' },
  { references: '<a@t> \ufffd', messageId: '<m@t>\u0000' },
];

describe('overviewColumns', () => {
  it('equals what sortColumns reads back after addOverview, for plain and every other kind of value', async () => {
    const d = mkdtempSync(join(tmpdir(), 'overview-columns-'));
    dirs.push(d);
    const index = await SearchIndex.open(join(d, 'search.db'), { writer: 'inline' });
    try {
      const records = VARIANTS.map((v, i) => ({ mailbox: 'g', uidValidity: 1, uid: i + 1, key: `<k${i}@t>`, internalDate: 1000, size: 10, overview: { ...base, ...v } }));
      await index.addOverview(records);
      const cols = index.sortColumns('g', 1, ['state', 'date', 'subject', 'from', 'messageId', 'references'], 0);
      expect([...cols.uids]).toEqual(records.map((r) => r.uid));
      let plain = 0;
      const memo = new OverviewMemo();
      records.forEach((r, j) => {
        const got = overviewColumns(r.overview, true);
        const want = {
          state: cols.state![j], date: cols.date![j], subject: cols.subject![j],
          from: cols.fromMailbox![j] === '' && cols.fromHost![j] === '' && cols.fromName![j] === '' ? { mailbox: '', host: '', name: '' } : { mailbox: cols.fromMailbox![j], host: cols.fromHost![j], name: cols.fromName![j] },
          messageId: cols.messageId![j], references: cols.references![j],
        };
        expect({ ...got, from: { ...got.from } }, JSON.stringify(r.overview)).toEqual(want);
        expect(overviewColumns(r.overview, false).state).toBe(got.state);
        // with a memo: the same, the first time (From worked out) and again (From remembered)
        for (let k = 0; k < 2; k++) {
          const m = overviewColumns(r.overview, true, memo);
          expect({ ...m, from: { ...m.from } }, JSON.stringify(r.overview)).toEqual(want);
          expect(overviewColumns(r.overview, false, memo).state).toBe(got.state);
        }
        if (/^[\u0002-\u007f]*$/.test(Object.values(r.overview).join('')) && !/=\?/.test(r.overview.subject + r.overview.from)) plain++;
      });
      expect(plain).toBeGreaterThan(3); // the short way was taken
    } finally {
      await index.close();
    }
  });
});
