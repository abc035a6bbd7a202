/**
 * Search index storage: crossposts, coverage, SORT columns, the worker writer,
 * reopening, and a writer killed with SIGKILL mid-batch.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'libsql';
import { SearchIndex, SearchIndexError, bodyText, headerText, type HeaderRecord } from '../../src/search/index.js';
import { headerEnd } from '../../src/mime/index.js';
import { buildArticle, type ArticleSpec } from './articles.js';

const dirs: string[] = [];
const opened: SearchIndex[] = [];
afterEach(async () => {
  for (const i of opened.splice(0)) await i.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDb(): string {
  const d = mkdtempSync(join(tmpdir(), 'search-index-test-'));
  dirs.push(d);
  return join(d, 'search.db');
}

async function open(path: string, writer: 'inline' | 'worker' = 'inline'): Promise<SearchIndex> {
  const i = await SearchIndex.open(path, { writer });
  opened.push(i);
  return i;
}

function article(over: Partial<ArticleSpec> & { messageId: string }): Buffer {
  return buildArticle({ subjects: ['hello'], subjectStyle: 'raw', subjectCharset: 'utf-8', fromName: 'Ann', parts: [{ text: 'nothing here', charset: 'utf-8', cte: '8bit' }], nested: false, ...over });
}

function rec(mailbox: string, uid: number, a: Buffer, internalDate = 1000 * uid): HeaderRecord {
  return { mailbox, uidValidity: 1, uid, header: a.subarray(0, headerEnd(a)), internalDate, size: a.length };
}

const list = (u: Uint32Array): number[] => [...u];

describe('text for the index', () => {
  it('keeps the text parts decoded (QP, base64, charsets, message/rfc822) and skips attachments', () => {
    const a = buildArticle({
      messageId: '<t@x>',
      subjects: ['Grüße'],
      subjectStyle: 'Q',
      subjectCharset: 'iso-8859-1',
      fromName: 'Jörg',
      parts: [
        { text: 'première ligne\nzweite Zeile straße', charset: 'iso-8859-1', cte: 'quoted-printable' },
        { text: 'ΣΟΦΟΣ 😀', charset: 'utf-8', cte: 'base64' },
      ],
      nested: true,
      attachment: 'secretword',
    });
    expect(bodyText(a).replace(/\r\n/g, '\n')).toBe('première ligne\nzweite Zeile straße\nΣΟΦΟΣ 😀');
    const h = headerText(a.subarray(0, headerEnd(a)));
    expect(h.subject).toBe('grüße');
    expect(h.sortSubject).toBe('Grüße');
    expect(h.fromAddr).toEqual({ mailbox: 'poster', host: 'example.org', name: 'Jörg' });
    expect(h.messageId).toBe('<t@x>');
    expect(h.all.split('\n')).toContain('subject: grüße');
  });
});

describe('search index storage', () => {
  it('finds a crossposted article (one Message-ID) in every group, with its body stored once', async () => {
    const index = await open(':memory:');
    const x = article({ messageId: '<cross@x>', subjects: ['Crossposted news'], parts: [{ text: 'shared body with zebra', charset: 'utf-8', cte: 'base64' }] });
    const y = article({ messageId: '<only@x>', subjects: ['Other'] });
    expect(await index.addHeaders([rec('a.one', 5, x), rec('a.one', 6, y), rec('b.two', 9, x)])).toBe(2);
    // The body arrives through one group only; the other group shares it.
    expect(await index.addBodies([{ mailbox: 'a.one', uidValidity: 1, uid: 5, article: x }])).toEqual({ indexed: 1, skipped: 0 });
    expect(await index.addBodies([{ mailbox: 'b.two', uidValidity: 1, uid: 9, article: x }])).toEqual({ indexed: 0, skipped: 1 });
    expect(list(index.matchBody('b.two', 1, 'ZEBRA').uids)).toEqual([9]);
    expect(list(index.matchBody('a.one', 1, 'zebra').uids)).toEqual([5]);
    expect(list(index.matchHeader('b.two', 1, 'subject', 'posted').uids)).toEqual([9]);
    expect(list(index.matchBody('a.one', 1, 'zebra').unindexed)).toEqual([6]);
    expect(list(index.missingBodies('a.one', 1))).toEqual([6]);
    expect(list(index.missingBodies('b.two', 1))).toEqual([]);
    expect(index.coverage('a.one', 1)).toEqual({ members: 2, bodies: 1 });
    expect(list(index.indexedUids('b.two', 1))).toEqual([9]);
    // Another UIDVALIDITY is another mailbox generation.
    expect(list(index.indexedUids('b.two', 2))).toEqual([]);
    await index.dropMailbox('a.one', 1);
    expect(list(index.indexedUids('a.one', 1))).toEqual([]);
    expect(list(index.matchBody('b.two', 1, 'zebra').uids)).toEqual([9]);
  });

  it('keeps articles without Message-ID apart', async () => {
    const index = await open(':memory:');
    const noId = (s: string): Buffer => Buffer.from(`Subject: ${s}\r\nFrom: a@b\r\n\r\nbody ${s}\r\n`);
    await index.addHeaders([rec('g', 1, noId('first')), rec('g', 2, noId('second')), rec('h', 1, noId('third'))]);
    expect(list(index.matchHeader('g', 1, 'subject', 'second').uids)).toEqual([2]);
    expect(list(index.matchHeader('h', 1, 'subject', 'i').uids)).toEqual([1]);
    expect(index.sortColumns('g', 1, ['messageId']).messageId).toEqual(['', '']);
  });

  it('answers AND of several terms, TEXT, other header fields and empty needles', async () => {
    const index = await open(':memory:');
    const arts = [
      article({ messageId: '<1@x>', subjects: ['Apples and pears'], extra: 'marker one', parts: [{ text: 'fruit salad', charset: 'utf-8', cte: '8bit' }] }),
      article({ messageId: '<2@x>', subjects: ['Apples only'], parts: [{ text: 'no salad', charset: 'utf-8', cte: '8bit' }] }),
      article({ messageId: '<3@x>', subjects: [], parts: [{ text: 'fruit basket', charset: 'utf-8', cte: '8bit' }] }),
    ];
    await index.addHeaders(arts.map((a, i) => rec('g', i + 1, a)));
    await index.addBodies(arts.map((a, i) => ({ mailbox: 'g', uidValidity: 1, uid: i + 1, article: a })));
    const m = (terms: Parameters<SearchIndex['match']>[2]): number[] => list(index.match('g', 1, terms).uids);
    expect(m([{ field: 'subject', needle: 'apples' }, { field: 'body', needle: 'salad' }])).toEqual([1, 2]);
    expect(m([{ field: 'subject', needle: 'apples' }, { field: 'body', needle: 'fruit' }])).toEqual([1]);
    expect(m([{ field: 'subject', needle: '' }])).toEqual([1, 2]);
    expect(m([{ field: { header: 'X-Extra' }, needle: 'MARKER' }])).toEqual([1]);
    expect(m([{ field: { header: 'x-extra' }, needle: '' }])).toEqual([1]);
    expect(m([{ field: 'text', needle: 'message-id: <3@' }])).toEqual([3]);
    expect(m([{ field: 'text', needle: 'basket' }])).toEqual([3]);
    expect(m([{ field: 'body', needle: '' }])).toEqual([1, 2, 3]);
    expect(m([])).toEqual([1, 2, 3]);
  });

  it('returns SORT/THREAD columns in UID order, and only the tail when asked', async () => {
    const index = await open(':memory:');
    const a = Buffer.from('From: "Zed" <zed@z.org>\r\nSubject: =?utf-8?Q?Re:_caf=C3=A9?=\r\nDate: Tue, 3 Mar 2015 10:00:00 +0100\r\nMessage-ID: <m1@x>\r\nReferences: <m0@x>\r\nIn-Reply-To: <m0@x>\r\n\r\nx\r\n');
    const b = Buffer.from('From: ann@a.org\r\nTo: Bob <bob@b.org>, c@c.org\r\nSubject: zzz\r\nMessage-ID: <m2@x>\r\n\r\ny\r\n');
    await index.addHeaders([rec('g', 7, b, 5000), rec('g', 3, a, 4000)]);
    const c = index.sortColumns('g', 1, ['date', 'arrival', 'size', 'subject', 'from', 'to', 'messageId', 'references', 'inReplyTo']);
    expect(list(c.uids)).toEqual([3, 7]);
    expect([...c.date!]).toEqual([Date.UTC(2015, 2, 3, 9), NaN]);
    expect([...c.arrival!]).toEqual([4000, 5000]);
    expect([...c.size!]).toEqual([a.length, b.length]);
    expect(c.subject).toEqual(['Re: café', 'zzz']);
    expect([c.fromMailbox, c.fromHost, c.fromName]).toEqual([['zed', 'ann'], ['z.org', 'a.org'], ['Zed', '']]);
    expect([c.toMailbox, c.toName]).toEqual([['', 'bob'], ['', 'Bob']]);
    expect(c.messageId).toEqual(['<m1@x>', '<m2@x>']);
    expect(c.references).toEqual(['<m0@x>', '']);
    expect(c.inReplyTo).toEqual(['<m0@x>', '']);
    expect(c.ccMailbox).toBeUndefined();
    const tail = index.sortColumns('g', 1, ['subject'], 3);
    expect(list(tail.uids)).toEqual([7]);
    expect(tail.subject).toEqual(['zzz']);
    expect(index.sortColumns('nope', 1, ['date']).date).toEqual(new Float64Array(0));
  });

  it('tells a SORT cache whether new members only extend its columns', async () => {
    const index = await open(':memory:');
    const a = (n: number): Buffer => article({ messageId: `<v${n}@x>` });
    expect(index.changesSince('g', 1, 0)).toEqual({ version: 0, lowestUid: undefined });
    await index.addHeaders([rec('g', 5, a(5)), rec('g', 6, a(6)), rec('h', 1, a(1))]);
    const v1 = index.changesSince('g', 1, 0);
    expect(v1).toEqual({ version: 1, lowestUid: 5 });
    expect(index.changesSince('g', 1, v1.version).lowestUid).toBeUndefined();
    await index.addHeaders([rec('g', 9, a(9))]);
    await index.addHeaders([rec('g', 8, a(8))]);
    // Both batches after v1 added UIDs above 6: the columns up to 6 only need the tail.
    expect(index.changesSince('g', 1, v1.version)).toEqual({ version: 3, lowestUid: 8 });
    await index.addHeaders([rec('g', 2, a(2))]);
    expect(index.changesSince('g', 1, 3)).toEqual({ version: 4, lowestUid: 2 });
    expect(index.changesSince('h', 1, 0)).toEqual({ version: 1, lowestUid: 1 });
  });

  it('writes through the worker thread while the main thread reads, and keeps everything across a reopen', async () => {
    const path = tempDb();
    const index = await open(path, 'worker');
    const arts = Array.from({ length: 300 }, (_, i) => article({ messageId: `<w${i}@x>`, subjects: [i % 3 === 0 ? 'tertius' : 'other'], parts: [{ text: `body ${i} ${i % 4 === 0 ? 'quartus' : ''}`, charset: 'utf-8', cte: '8bit' }] }));
    const pending = index.addHeaders(arts.map((a, i) => rec('g', i + 1, a)));
    index.matchHeader('g', 1, 'subject', 'tertius'); // reading meanwhile never fails (WAL)
    await pending;
    await index.addBodies(arts.map((a, i) => ({ mailbox: 'g', uidValidity: 1, uid: i + 1, article: a })));
    expect(index.matchHeader('g', 1, 'subject', 'tertius').uids.length).toBe(100);
    await index.close();
    opened.pop();
    await expect(index.addHeaders([])).rejects.toThrow(SearchIndexError);
    const again = await open(path, 'worker');
    expect(again.matchBody('g', 1, 'quartus').uids.length).toBe(75);
    expect(again.coverage('g', 1)).toEqual({ members: 300, bodies: 300 });
  });

  it('refuses a database of a newer schema', async () => {
    const path = tempDb();
    const db = new Database(path);
    db.exec('PRAGMA user_version = 999');
    db.close();
    await expect(SearchIndex.open(path, { writer: 'inline' })).rejects.toMatchObject({ code: 'NEWER_SCHEMA' });
    await expect(SearchIndex.open(path)).rejects.toMatchObject({ code: 'NEWER_SCHEMA' });
  });

  it('rejects bad input before writing', async () => {
    const index = await open(':memory:');
    const a = article({ messageId: '<ok@x>' });
    await expect(index.addHeaders([rec('g', 1, a), { ...rec('g', 2, a), uid: 0 }])).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(list(index.indexedUids('g', 1))).toEqual([]);
  });
});

describe('search index after SIGKILL', () => {
  it('reopens consistent, tells what is indexed, and resumes', async () => {
    const path = tempDb();
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/search/crash-child.ts', path], { stdio: ['ignore', 'pipe', 'inherit'] });
    let committed = -1;
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code) => reject(new Error(`child exited early (${code})`)));
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = [...out.matchAll(/committed (\d+)/g)];
        if (m.length > 0) committed = Number(m[m.length - 1]![1]);
        // Kill after the 4th header batch went out: a body or header batch is likely in flight.
        if (committed >= 3 && out.endsWith(`headers ${committed + 1}\n`)) {
          child.removeAllListeners('exit');
          child.kill('SIGKILL');
          child.on('exit', () => resolve());
        }
      });
    });
    expect(committed).toBeGreaterThanOrEqual(3);

    const db = new Database(path);
    expect((db.prepare('PRAGMA integrity_check').raw().get([]) as [string])[0]).toBe('ok');
    for (const t of ['headers_fts', 'alltext_fts', 'bodies_fts']) db.exec(`INSERT INTO ${t}(${t}) VALUES ('integrity-check')`);
    const [members, docs, bodies, indexed] = db
      .prepare('SELECT (SELECT count(*) FROM members), (SELECT count(*) FROM docs), (SELECT count(*) FROM bodies), (SELECT count(*) FROM docs WHERE body_state = 1)')
      .raw()
      .get([]) as number[];
    db.close();
    // Whole batches only: every committed batch is there, a half one is not.
    expect(members! % 200).toBe(0);
    expect(members).toBe(docs);
    expect(bodies! % 200).toBe(0);
    expect(bodies).toBe(indexed);
    expect(bodies).toBeGreaterThanOrEqual((committed + 1) * 200);

    const index = await open(path);
    const missing = index.missingBodies('crash.test', 1);
    expect(missing.length).toBe(members! - bodies!);
    expect(index.coverage('crash.test', 1)).toEqual({ members, bodies });
    // Answers on what is there are those of a scan: 'quintus' is in every 5th body.
    const q = index.matchBody('crash.test', 1, 'QUINTUS');
    expect(list(q.uids)).toEqual(Array.from({ length: bodies! / 5 }, (_, k) => k * 5 + 1));
    expect(list(q.unindexed)).toEqual(list(missing));
    expect(list(index.matchHeader('crash.test', 1, 'subject', 'septimus').uids)).toEqual(Array.from({ length: Math.ceil(members! / 7) }, (_, k) => k * 7 + 1));
    writeFileSync(`${path}.checked`, 'ok'); // the directory is still writable after the crash
  }, 120_000);
});

describe('overview documents and the whole-header FTS table', () => {
  it('upgrades overview rows to headers and removes them, with or without an empty alltext_fts row of an older version', async () => {
    const path = tempDb();
    const index = await open(path);
    const ov = (uid: number) => ({
      mailbox: 'g', uidValidity: 1, uid, internalDate: 1000 * uid, size: 100,
      overview: { subject: `subject ${uid}`, from: `Ann <a${uid}@example.org>`, date: 'Mon, 1 Jan 2024 10:00:00 +0000', messageId: `<m${uid}@t>`, references: '' },
    });
    await index.addOverview([1, 2, 3, 4].map(ov));
    const db = new Database(path);
    const check = (): void => {
      expect((db.prepare('PRAGMA integrity_check').raw().get([]) as [string])[0]).toBe('ok');
      for (const t of ['headers_fts', 'alltext_fts']) db.exec(`INSERT INTO ${t}(${t}) VALUES ('integrity-check')`);
    };
    const docid = (uid: number): number => (db.prepare('SELECT docid FROM docs WHERE message_id = ?').raw().get([`<m${uid}@t>`]) as [number])[0];
    // an older version put the empty text of overview rows 2 and 4 into alltext_fts
    for (const uid of [2, 4]) db.exec(`INSERT INTO alltext_fts (rowid, alltext) VALUES (${docid(uid)}, '')`);
    expect((db.prepare('SELECT count(*) FROM alltext_fts_docsize').raw().get([]) as [number])[0]).toBe(2);
    check();
    await index.addHeaders([1, 2].map((uid) => rec('g', uid, article({ messageId: `<m${uid}@t>`, subjects: [`whole ${uid}`] }))));
    check();
    expect(index.match('g', 1, [{ field: { header: 'subject' }, needle: 'whole 2' }]).uids).toEqual(new Uint32Array([2]));
    await index.removeMembers('g', 1, [1, 2, 3, 4]);
    check();
    expect((db.prepare('SELECT count(*) FROM alltext_fts_docsize').raw().get([]) as [number])[0]).toBe(0);
    db.close();
  });
});
