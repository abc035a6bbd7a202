/**
 * SEARCH through an index, SORT (ESORT), THREAD, RETURN (PARTIAL) and SEARCHRES
 * over raw IMAP, against a fixture backend whose handles offer `search` over
 * the real index engine. The scan (the same fixture without an index) is the
 * oracle for SEARCH: every answer must be the same with and without the index,
 * and with bodies the index does not have (scanned instead).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixtureBackend } from './fixture-backend.js';
import { IndexedFixture } from './fixture-search.js';
import { startImap, type TestServer } from './harness.js';
import { RawClient, tagged, untagged } from './raw-client.js';

const crlf = (s: string): Buffer => Buffer.from(s.replace(/\r?\n/g, '\r\n'), 'utf8');

interface Spec {
  uid: number;
  from: string;
  subject: string;
  date: string;
  id: string;
  refs?: string;
  body: string;
  to?: string;
}

/** Threads: 1 ← 2 ← 4, 3 alone (subject "Re: other" without parent), 5 ← 6 via In-Reply-To only in References, 7 a lone "[list] Fwd: Re: hello" joining 1's subject. */
const SPECS: Spec[] = [
  { uid: 1, from: 'Carol <carol@c.example>', subject: 'hello', date: 'Mon, 01 Jan 2024 10:00:00 +0000', id: '<1@x>', body: 'The first needle text, café.' },
  { uid: 2, from: 'alice@a.example', subject: 'Re: hello', date: 'Mon, 01 Jan 2024 12:00:00 +0200', id: '<2@x>', refs: '<1@x>', body: 'Reply with Straße and NEEDLE.' },
  { uid: 3, from: 'Bob <bob@b.example>', subject: 'Re: other', date: 'Sun, 31 Dec 2023 23:00:00 -0500', id: '<3@x>', refs: '<missing@x>', body: 'nothing to see' },
  { uid: 4, from: 'dave@d.example', subject: 'Re: Re: hello', date: 'Tue, 02 Jan 2024 09:00:00 +0000', id: '<4@x>', refs: '<1@x> <2@x>', body: 'deep reply, needles' },
  { uid: 5, from: '=?UTF-8?B?w4lsaXNl?= <elise@e.example>', subject: '=?UTF-8?Q?caf=C3=A9_talk?=', date: 'Wed, 03 Jan 2024 08:00:00 +0100', id: '<5@x>', body: 'Ωmega ΣΟΦΟΣ', to: 'zed@z.example' },
  { uid: 6, from: 'frank@f.example', subject: 'Re: café talk', date: 'Wed, 03 Jan 2024 09:00:00 +0100', id: '<6@x>', refs: '<5@x>', body: 'short', to: 'amy@a.example' },
  { uid: 7, from: 'gina@g.example', subject: '[list] Fwd: Re: hello', date: 'Thu, 04 Jan 2024 00:00:00 +0000', id: '<7@x>', body: 'fwd body with needle' },
];

function article(s: Spec): Buffer {
  return crlf(`From: ${s.from}
Newsgroups: t.sort
Subject: ${s.subject}
Date: ${s.date}
Message-ID: ${s.id}
${s.refs ? `References: ${s.refs}\n` : ''}${s.to ? `To: ${s.to}\n` : ''}MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

${s.body}
`);
}

function backendWithSpecs(): FixtureBackend {
  const b = new FixtureBackend();
  for (const s of SPECS) b.add('t.sort', s.uid, article(s));
  return b;
}

const NEEDLES = ['needle', 'NEEDLE', 'café', 'CAFÉ', 'straße', 'ΣΟΦΟΣ', 'σοφοσ', 'ee', 'e', 'x', 'hello', 'Re:', 'alice', 'élise', 'zed', 'nothing to see', 'no such text'];
const KEYS = ['SUBJECT', 'FROM', 'TO', 'BODY', 'TEXT'];

describe('SEARCH, SORT and THREAD with an index', () => {
  let plain: TestServer;
  let indexed: TestServer;
  let partial: TestServer;
  let fixtures: IndexedFixture[] = [];
  let c: RawClient;
  let scanClient: RawClient;
  let partClient: RawClient;

  const login = async (port: number): Promise<RawClient> => {
    const r = await RawClient.connect(port);
    await r.cmd('l', 'LOGIN alice secret');
    expect(tagged(await r.cmd('s', 'SELECT t.sort'), 's')).toMatch(/^s OK/);
    return r;
  };

  beforeAll(async () => {
    plain = await startImap(backendWithSpecs());
    const full = await IndexedFixture.create(backendWithSpecs());
    const half = await IndexedFixture.create(backendWithSpecs(), new Set([2, 5, 7]));
    fixtures = [full, half];
    indexed = await startImap(full, { sortThread: true });
    partial = await startImap(half, { sortThread: true });
    scanClient = await login(plain.port);
    c = await login(indexed.port);
    partClient = await login(partial.port);
  });

  afterAll(async () => {
    for (const r of [c, scanClient, partClient]) r?.close();
    await Promise.all([plain, indexed, partial].map((s) => s?.close()));
    for (const f of fixtures) await f.close();
  });

  it('offers SORT, ESORT, THREAD, PARTIAL and SEARCHRES only with an index', async () => {
    const caps = untagged(await c.cmd('a', 'CAPABILITY')).join(' ');
    for (const cap of ['SORT', 'SORT=DISPLAY', 'ESORT', 'THREAD=REFERENCES', 'THREAD=ORDEREDSUBJECT', 'THREAD=REFS', 'PARTIAL', 'SEARCHRES']) {
      expect(caps.split(' ')).toContain(cap);
    }
    const plainCaps = untagged(await scanClient.cmd('a', 'CAPABILITY')).join(' ').split(' ');
    expect(plainCaps).not.toContain('SORT');
    expect(tagged(await scanClient.cmd('b', 'UID SORT (DATE) UTF-8 ALL'), 'b')).toMatch(/^b NO \[CANNOT\]/);
  });

  it('answers every SEARCH key the same as the scan, with all bodies indexed and with some scanned', async () => {
    let n = 0;
    for (const key of KEYS) {
      for (const needle of NEEDLES) {
        const q = `UID SEARCH CHARSET UTF-8 ${key} {${Buffer.byteLength(needle)}+}\r\n${needle}`;
        const want = untagged(await scanClient.cmd(`q${n}`, q));
        expect(untagged(await c.cmd(`q${n}`, q)), `${key} ${needle}`).toEqual(want);
        expect(untagged(await partClient.cmd(`q${n}`, q)), `${key} ${needle} (bodies 2, 5, 7 scanned)`).toEqual(want);
        n++;
      }
    }
    // a combination with NOT/OR, flags and UID sets
    const q = 'UID SEARCH OR (BODY needle NOT FROM alice) SUBJECT talk UID 1:6';
    const want = untagged(await scanClient.cmd('z', q));
    expect(want).toEqual(['* SEARCH 1 4 5 6']);
    expect(untagged(await c.cmd('z', q))).toEqual(want);
    expect(untagged(await partClient.cmd('z', q))).toEqual(want);
  });

  it('SORTs by date (zones applied), subject (base subject), from (mailbox), size, reversed and combined', async () => {
    expect(untagged(await c.cmd('a', 'UID SORT (DATE) UTF-8 ALL'))).toEqual(['* SORT 3 1 2 4 5 6 7']);
    // 1 and 2 were sent at the same instant (10:00 UTC): ties stay in mailbox order, also when reversed
    expect(untagged(await c.cmd('b', 'UID SORT (REVERSE DATE) UTF-8 ALL'))).toEqual(['* SORT 7 6 5 4 1 2 3']);
    // base subjects: hello ×4 (1,2,4,7), "café talk" ×2 (5,6), other (3); ties by sequence number
    expect(untagged(await c.cmd('c', 'UID SORT (SUBJECT) UTF-8 ALL'))).toEqual(['* SORT 5 6 1 2 4 7 3']);
    expect(untagged(await c.cmd('d', 'UID SORT (FROM) UTF-8 ALL'))).toEqual(['* SORT 2 3 1 4 5 6 7']);
    expect(untagged(await c.cmd('e', 'UID SORT (SUBJECT REVERSE DATE) UTF-8 ALL'))).toEqual(['* SORT 6 5 7 4 1 2 3']);
    expect(untagged(await c.cmd('f', 'SORT (DATE) UTF-8 BODY needle'))).toEqual(['* SORT 1 2 4 7']);
    expect(tagged(await c.cmd('g', 'UID SORT (NONSENSE) UTF-8 ALL'), 'g')).toMatch(/^g BAD/);
    expect(tagged(await c.cmd('h', 'UID SORT (DATE) ALL'), 'h')).toMatch(/^h BAD/); // charset is required
  });

  it('answers ESORT: MIN/MAX in sort order, COUNT, ALL, PARTIAL', async () => {
    expect(untagged(await c.cmd('a', 'UID SORT RETURN (MIN MAX COUNT) (DATE) UTF-8 ALL'))).toEqual(['* ESEARCH (TAG "a") UID MIN 3 MAX 7 COUNT 7']);
    expect(untagged(await c.cmd('b', 'UID SORT RETURN (ALL) (REVERSE DATE) UTF-8 ALL'))).toEqual(['* ESEARCH (TAG "b") UID ALL 7,6,5,4,1:3']);
    expect(untagged(await c.cmd('c', 'UID SORT RETURN (PARTIAL 2:3) (DATE) UTF-8 ALL'))).toEqual(['* ESEARCH (TAG "c") UID PARTIAL (2:3 1:2)']);
    expect(untagged(await c.cmd('d', 'UID SORT RETURN () (DATE) UTF-8 ALL'))).toEqual(['* ESEARCH (TAG "d") UID ALL 3,1:2,4:7']);
  });

  it('THREADs by REFERENCES (dummy for a missing parent, subjects gathered), ORDEREDSUBJECT and REFS', async () => {
    // 3's parent is missing: it stands alone; 7 joins the "hello" thread by subject under REFERENCES
    expect(untagged(await c.cmd('a', 'UID THREAD REFERENCES UTF-8 ALL'))).toEqual(['* THREAD (3)(1 (2 4)(7))(5 6)']);
    expect(untagged(await c.cmd('b', 'UID THREAD ORDEREDSUBJECT UTF-8 ALL'))).toEqual(['* THREAD (3)(1 (2)(4)(7))(5 6)']);
    expect(untagged(await c.cmd('c', 'UID THREAD REFS UTF-8 ALL'))).toEqual(['* THREAD (3)(1 2 4)(5 6)(7)']);
    expect(untagged(await c.cmd('d', 'THREAD REFERENCES UTF-8 UID 2:6'))).toEqual(['* THREAD (3)(2 4)(5 6)']);
    expect(untagged(await c.cmd('e', 'UID THREAD REFERENCES UTF-8 SUBJECT nomatch'))).toEqual(['* THREAD']);
    expect(tagged(await c.cmd('f', 'UID THREAD NEWEST UTF-8 ALL'), 'f')).toMatch(/^f BAD/);
  });

  it('pages SEARCH results with PARTIAL (from either end) and refuses PARTIAL with ALL', async () => {
    expect(untagged(await c.cmd('a', 'UID SEARCH RETURN (PARTIAL 1:3) ALL'))).toEqual(['* ESEARCH (TAG "a") UID PARTIAL (1:3 1:3)']);
    expect(untagged(await c.cmd('b', 'UID SEARCH RETURN (PARTIAL -1:-2 COUNT) ALL'))).toEqual(['* ESEARCH (TAG "b") UID COUNT 7 PARTIAL (-1:-2 6:7)']);
    expect(untagged(await c.cmd('c', 'UID SEARCH RETURN (PARTIAL 5:1) BODY needle'))).toEqual(['* ESEARCH (TAG "c") UID PARTIAL (1:5 1:2,4,7)']);
    expect(untagged(await c.cmd('d', 'UID SEARCH RETURN (PARTIAL 100:200) ALL'))).toEqual(['* ESEARCH (TAG "d") UID PARTIAL (100:200 NIL)']);
    expect(tagged(await c.cmd('e', 'UID SEARCH RETURN (PARTIAL 1:2 ALL) ALL'), 'e')).toMatch(/^e BAD/);
    expect(tagged(await c.cmd('f', 'UID SEARCH RETURN (PARTIAL 0:2) ALL'), 'f')).toMatch(/^f BAD/);
  });

  it('saves a result with RETURN (SAVE) and uses it as $ in SEARCH, FETCH and STORE', async () => {
    expect(untagged(await c.cmd('a', 'UID SEARCH RETURN (SAVE) BODY needle'))).toEqual([]);
    expect(untagged(await c.cmd('b', 'UID FETCH $ (UID)'))).toEqual(['* 1 FETCH (UID 1)', '* 2 FETCH (UID 2)', '* 4 FETCH (UID 4)', '* 7 FETCH (UID 7)']);
    expect(untagged(await c.cmd('c', 'UID SEARCH UID $ FROM alice'))).toEqual(['* SEARCH 2']);
    expect(untagged(await c.cmd('d', 'SEARCH $'))).toEqual(['* SEARCH 1 2 4 7']);
    expect(tagged(await c.cmd('e', 'STORE $ +FLAGS.SILENT (\\Flagged)'), 'e')).toMatch(/^e OK/);
    expect(untagged(await c.cmd('f', 'UID SEARCH FLAGGED'))).toEqual(['* SEARCH 1 2 4 7']);
    // MIN/MAX with SAVE keep only those; the sorted result with SAVE keeps the messages
    await c.cmd('g', 'UID SEARCH RETURN (SAVE MIN MAX) BODY needle');
    expect(untagged(await c.cmd('h', 'UID SEARCH $'))).toEqual(['* SEARCH 1 7']);
    expect(untagged(await c.cmd('i', 'UID SORT RETURN (SAVE COUNT) (DATE) UTF-8 FROM example'))).toEqual(['* ESEARCH (TAG "i") UID COUNT 7']);
    expect(untagged(await c.cmd('j', 'UID SEARCH $'))).toEqual(['* SEARCH 1 2 3 4 5 6 7']);
    // a failed SEARCH with SAVE empties $
    expect(tagged(await c.cmd('k', 'UID SEARCH RETURN (SAVE) CHARSET KOI8-R BODY x'), 'k')).toMatch(/^k NO \[BADCHARSET/);
    expect(untagged(await c.cmd('l', 'UID SEARCH $'))).toEqual(['* SEARCH']);
    await c.cmd('m', 'STORE 1:* -FLAGS.SILENT (\\Flagged)');
  });
});
