/**
 * Documents known by their overview only (SearchIndex.addOverview) answer as
 * the scan of the whole article would: for random headers (raw UTF-8 and
 * Latin-1 bytes, encoded words, folds with TAB or spaces, extra leading and
 * trailing white space) turned into overview values the way INN's OVER and
 * the archive source make them, every UID the index reports matches by the
 * scan and every scan match is reported or left open (unindexed); after the
 * whole header arrives (addHeaders: an upgrade in place) the same holds and
 * only missing bodies stay open. Also: expired members take their documents
 * (and text) with them; SORT columns say which are exact.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { COLUMNS_EXACT, COLUMNS_INEXACT, COLUMNS_OVERVIEW, SearchIndex, bodyText, fold, type OverviewFields, type SearchField, type SearchTerm } from '../../src/search/index.js';
import { decodeHeaderValue, headerEnd, parseHeader } from '../../src/mime/index.js';
import { parseHeaderFields } from '../../src/export/archive/header.js';

const WORDS = ['straße', 'café', 'Ünal', 'naïve', 'NNTP', 'Re:', 'hello', 'world', 'ΣΟΦΟΣ', 'x'];

interface Spec {
  subject: string;
  style: 'utf8' | 'latin1' | 'Q' | 'B';
  fold: 'none' | 'tab' | 'space';
  lead: number;
  trail: number;
  tabInside: boolean;
  fromName: string;
  fromStyle: 'utf8' | 'latin1' | 'Q';
  to: boolean;
  body: string;
}

const latin1 = (s: string): string => [...s].filter((c) => c.codePointAt(0)! <= 0xff).join('');
const words = fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 4 }).map((w) => w.join(' '));
const specArb: fc.Arbitrary<Spec> = fc.record({
  subject: words,
  style: fc.constantFrom('utf8' as const, 'latin1' as const, 'Q' as const, 'B' as const),
  fold: fc.constantFrom('none' as const, 'tab' as const, 'space' as const),
  lead: fc.integer({ min: 0, max: 3 }),
  trail: fc.integer({ min: 0, max: 2 }),
  tabInside: fc.boolean(),
  fromName: fc.constantFrom('Jörg Ünal', 'Ann Bee', 'Zoë'),
  fromStyle: fc.constantFrom('utf8' as const, 'latin1' as const, 'Q' as const),
  to: fc.boolean(),
  body: words,
});

function encoded(s: string, enc: 'Q' | 'B'): string {
  const b = Buffer.from(s, 'utf8');
  if (enc === 'B') return `=?utf-8?B?${b.toString('base64')}?=`;
  return `=?utf-8?Q?${[...b].map((c) => (/[A-Za-z0-9]/.test(String.fromCharCode(c)) ? String.fromCharCode(c) : `=${c.toString(16).toUpperCase().padStart(2, '0')}`)).join('')}?=`;
}

function valueBytes(s: string, style: Spec['style']): Buffer {
  if (style === 'utf8') return Buffer.from(s, 'utf8');
  if (style === 'latin1') return Buffer.from(latin1(s), 'latin1');
  return Buffer.from(s.split(' ').map((w) => encoded(w, style)).join(' '), 'latin1');
}

function article(spec: Spec, i: number): Buffer {
  let subject = valueBytes(spec.subject, spec.style).toString('latin1');
  if (spec.tabInside) subject = subject.replace(' ', '\t');
  if (spec.fold !== 'none') subject = subject.replace(' ', spec.fold === 'tab' ? '\r\n\t' : '\r\n ');
  subject = ' '.repeat(spec.lead) + subject + ' '.repeat(spec.trail);
  const from = valueBytes(spec.fromName, spec.fromStyle).toString('latin1');
  const lines = [
    `From: ${from} <p${i}@example.org>`,
    `Subject: ${subject}`,
    `Date: Mon, 0${(i % 9) + 1} Jan 2024 10:00:00 +0000`,
    `Message-ID: <o${i}@test>`,
    'Newsgroups: test.over',
    ...(spec.to ? ['To: Somebody <sb@example.net>'] : []),
    'Content-Type: text/plain; charset=utf-8',
    '',
    Buffer.from(spec.body, 'utf8').toString('latin1'),
    '',
  ];
  return Buffer.from(lines.join('\r\n'), 'latin1');
}

/** What INN's OVER gives (measured on INN 2.7): one space after the colon dropped, CRLF removed, TAB → space, read as UTF-8. */
function innOverview(a: Buffer): OverviewFields {
  const head = a.subarray(0, headerEnd(a));
  const get = (name: string): string => {
    const f = parseHeader(head).find((x) => x.lname === name);
    if (f === undefined) return '';
    let raw = f.raw.subarray(f.name.length);
    raw = raw.subarray(raw.indexOf(0x3a) + 1);
    if (raw[0] === 0x20 || raw[0] === 0x09) raw = raw.subarray(1);
    const text = raw.toString('latin1').replace(/\r\n$/, '').replace(/\r\n/g, '').replace(/[\t\r\n]/g, ' ');
    return Buffer.from(text, 'latin1').toString('utf8');
  };
  return { subject: get('subject'), from: get('from'), date: get('date'), messageId: get('message-id'), references: get('references') };
}

function archiveOverview(a: Buffer): OverviewFields {
  const f = parseHeaderFields(a.subarray(0, headerEnd(a)));
  return { subject: f.subject, from: f.from, date: f.date, messageId: f.messageId, references: f.references };
}

function scan(a: Buffer, field: SearchField, needle: string): boolean {
  const fields = parseHeader(a.subarray(0, headerEnd(a)));
  const n = fold(needle);
  if (typeof field === 'object' || field === 'subject' || field === 'from' || field === 'to' || field === 'cc') {
    const name = typeof field === 'object' ? field.header.toLowerCase() : field;
    const values = fields.filter((f) => f.lname === name).map((f) => decodeHeaderValue(f.value));
    if (n === '') return values.length > 0;
    return values.some((v) => fold(v).includes(n));
  }
  if (field === 'text' && fields.some((f) => fold(`${f.name}: ${decodeHeaderValue(f.value)}`).includes(n))) return true;
  return fold(bodyText(a)).includes(n);
}

const FIELDS: SearchField[] = ['subject', 'from', 'to', 'body', 'text', { header: 'newsgroups' }];

function needleArb(texts: string[]): fc.Arbitrary<string> {
  const cut = fc.tuple(fc.constantFrom(...texts), fc.nat(), fc.integer({ min: 0, max: 12 })).map(([t, s, len]) => t.slice(s % (t.length + 1), (s % (t.length + 1)) + len));
  return fc.oneof(cut, cut, cut, fc.constantFrom('', ' ', 'o w', '\t', 'straße ', ' café', 'hello world', 'ü', 'Ã¼'));
}

/** Checks one index state against the scan; returns how many (uid, query) pairs were left open. */
function check(index: SearchIndex, articles: Buffer[], queries: SearchTerm[][], mayBeOpen: (i: number, terms: SearchTerm[]) => boolean): number {
  let open = 0;
  for (const terms of queries) {
    const r = index.match('g', 1, terms);
    const got = new Set(r.uids);
    const unsure = new Set(r.unindexed);
    articles.forEach((a, i) => {
      const uid = i + 1;
      const want = terms.every((t) => scan(a, t.field, t.needle));
      const ctx = JSON.stringify({ uid, terms, head: a.subarray(0, headerEnd(a)).toString('latin1') });
      if (got.has(uid)) expect(want, ctx).toBe(true);
      if (want) expect(got.has(uid) || unsure.has(uid), ctx).toBe(true);
      if (unsure.has(uid)) {
        open++;
        expect(mayBeOpen(i, terms), ctx).toBe(true);
      }
    });
  }
  return open;
}

describe('overview-only documents', () => {
  it('answer as the scan, before and after their whole header arrives', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(specArb, { minLength: 1, maxLength: 6 }).chain((specs) => {
          const articles = specs.map(article);
          const values = articles.flatMap((a) => parseHeader(a.subarray(0, headerEnd(a))).map((f) => decodeHeaderValue(f.value)).concat(bodyText(a)));
          // with TABs made spaces: needles that match the overview value but not the header
          const texts = [...values, ...values.map((v) => v.replace(/\t/g, ' '))];
          const term = fc.record({ field: fc.constantFrom(...FIELDS), needle: needleArb(texts) });
          return fc.tuple(fc.constant(articles), fc.constantFrom('inn' as const, 'archive' as const), fc.array(fc.array(term, { minLength: 1, maxLength: 2 }), { minLength: 1, maxLength: 10 }));
        }),
        async ([articles, flavour, queries]) => {
          const index = await SearchIndex.open(':memory:', { writer: 'inline' });
          try {
            const over = articles.map(flavour === 'inn' ? innOverview : archiveOverview);
            await index.addOverview(over.map((overview, i) => ({ mailbox: 'g', uidValidity: 1, uid: i + 1, overview, internalDate: 0, size: articles[i]!.length })));
            await index.addBodies(articles.map((a, i) => ({ mailbox: 'g', uidValidity: 1, uid: i + 1, article: a })));
            // overview only: SUBJECT/FROM needles may be open (white space, inexact values), the rest is
            check(index, articles, queries as SearchTerm[][], () => true);
            const subjectOnly = (queries as SearchTerm[][]).filter((ts) => ts.every((t) => t.field === 'subject' && !/\s/.test(fold(t.needle)) && t.needle !== ''));
            check(index, articles, subjectOnly, (i) => !/^[\x20-\x7e]*$/.test(over[i]!.subject) || over[i]!.subject.trim() === '');
            await index.addHeaders(articles.map((a, i) => ({ mailbox: 'g', uidValidity: 1, uid: i + 1, header: a.subarray(0, headerEnd(a)), internalDate: 0, size: a.length })));
            // whole headers and bodies: nothing open (no header value here holds '\n' or NUL)
            check(index, articles, queries as SearchTerm[][], () => false);
          } finally {
            await index.close();
          }
        },
      ),
      { numRuns: Number(process.env.SEARCH_PROPERTY_RUNS ?? 150) },
    );
  });

  it('are upgraded once, found in every group, and leave with their last member', async () => {
    const index = await SearchIndex.open(':memory:', { writer: 'inline' });
    try {
      const o = (i: number, subject: string): OverviewFields => ({ subject, from: `P <p${i}@x>`, date: 'Mon, 1 Jan 2024 00:00:00 +0000', messageId: `<m${i}@x>`, references: '' });
      const at = (mailbox: string, uid: number) => ({ mailbox, uidValidity: 1, uid, internalDate: 5, size: 10 });
      await index.addOverview([{ ...at('g', 1), overview: o(1, 'alpha beta') }, { ...at('g', 2), overview: o(2, 'caf\uFFFD') }, { ...at('h', 7), overview: o(1, 'alpha beta') }]);
      expect(index.coverage('g', 1)).toEqual({ members: 2, bodies: 0 });
      expect([...index.match('h', 1, [{ field: 'subject', needle: 'ALPHA' }]).uids]).toEqual([7]);
      // inner space: a hit on an overview-only document is left to the scan; U+FFFD: unknown
      expect(index.match('g', 1, [{ field: 'subject', needle: 'a z' }])).toEqual({ uids: new Uint32Array([]), unindexed: new Uint32Array([2]) });
      expect(index.match('g', 1, [{ field: 'subject', needle: 'alpha beta' }])).toEqual({ uids: new Uint32Array([]), unindexed: new Uint32Array([1, 2]) });
      expect(index.match('g', 1, [{ field: 'to', needle: 'x' }]).unindexed).toEqual(new Uint32Array([1, 2]));
      const cols = index.sortColumns('g', 1, ['state', 'subject']);
      expect([...cols.state!]).toEqual([COLUMNS_OVERVIEW, COLUMNS_INEXACT]);
      const v = index.changesSince('g', 1, 0).version;
      const header = Buffer.from('From: P <p1@x>\r\nTo: T <t@y>\r\nSubject: alpha  beta\r\nMessage-ID: <m1@x>\r\n\r\n', 'latin1');
      await index.addHeaders([{ ...at('g', 1), header }]);
      // an upgrade, not a new member: the version stays; the document is shared, so group h sees it too
      expect(index.changesSince('g', 1, v)).toEqual({ version: v, lowestUid: undefined });
      expect([...index.sortColumns('h', 1, ['state']).state!]).toEqual([COLUMNS_EXACT]);
      expect([...index.match('h', 1, [{ field: 'to', needle: 't@y' }]).uids]).toEqual([7]);
      expect([...index.match('g', 1, [{ field: 'subject', needle: 'alpha beta' }]).uids]).toEqual([]);
      expect([...index.match('g', 1, [{ field: 'subject', needle: 'alpha  beta' }]).uids]).toEqual([1]);
      await index.addBodies([{ mailbox: 'g', uidValidity: 1, uid: 1, text: 'the body text' }, { mailbox: 'g', uidValidity: 1, uid: 2, scanOnly: true }]);
      expect(index.missingBodies('g', 1)).toEqual(new Uint32Array([]));
      expect([...index.match('h', 1, [{ field: 'body', needle: 'body' }]).uids]).toEqual([7]);
      expect([...index.match('g', 1, [{ field: 'body', needle: 'body' }]).unindexed]).toEqual([2]);
      // the article expires in g: h still holds the document
      expect(await index.removeMembers('g', 1, [1, 99])).toBe(1);
      expect(index.changesSince('g', 1, v).lowestUid).toBe(0);
      expect([...index.match('h', 1, [{ field: 'body', needle: 'body' }]).uids]).toEqual([7]);
      // and in h: the document and its text are gone
      await index.removeMembers('h', 1, [7]);
      await index.addOverview([{ ...at('k', 1), overview: o(9, 'other') }]);
      expect([...index.match('k', 1, [{ field: 'subject', needle: 'alpha' }]).uids]).toEqual([]);
      await index.addOverview([{ ...at('k', 2), overview: o(1, 'alpha beta') }]);
      // a new overview-only document for <m1@x>: no body, header text from the overview again
      expect(index.missingBodies('k', 1)).toEqual(new Uint32Array([1, 2]));
      expect([...index.match('k', 1, [{ field: 'to', needle: 't@y' }]).unindexed]).toEqual([1, 2]);
      expect(index.mailboxes()).toEqual([{ name: 'g', uidValidity: 1 }, { name: 'h', uidValidity: 1 }, { name: 'k', uidValidity: 1 }]);
    } finally {
      await index.close();
    }
  });

  it('keep two articles with one Message-ID apart when the caller keys them apart, and thread by the header id', async () => {
    const index = await SearchIndex.open(':memory:', { writer: 'inline' });
    try {
      const head = (subject: string): Buffer => Buffer.from(`From: a@b\r\nSubject: ${subject}\r\nMessage-ID: <same@x>\r\n\r\n`, 'latin1');
      const at = (uid: number, key?: string) => ({ mailbox: 'g', uidValidity: 1, uid, internalDate: 0, size: 1, ...(key ? { key } : {}) });
      await index.addHeaders([{ ...at(1, '<same@x>'), header: head('first') }, { ...at(2, '<2.abc@newsfront.invalid>'), header: head('second') }]);
      expect([...index.match('g', 1, [{ field: 'subject', needle: 'second' }]).uids]).toEqual([2]);
      expect(index.sortColumns('g', 1, ['messageId']).messageId).toEqual(['<same@x>', '<same@x>']);
      // without keys: one document (the first header kept), as for a crosspost
      await index.addHeaders([{ ...at(3), header: head('third') }]);
      expect([...index.match('g', 1, [{ field: 'subject', needle: 'first' }]).uids]).toEqual([1, 3]);
    } finally {
      await index.close();
    }
  });
});
