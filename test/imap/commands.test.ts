import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImapFlow } from 'imapflow';
import { FixtureBackend } from './fixture-backend.js';
import { startImap, type TestServer } from './harness.js';
import { RawClient, tagged, untagged } from './raw-client.js';

const crlf = (s: string): Buffer => Buffer.from(s.replace(/\r?\n/g, '\r\n'), 'latin1');

const plain = crlf(`Path: news!not-for-mail
From: Alice Example <alice@example.org>
Newsgroups: comp.lang.misc
Subject: Hello world
Date: Mon, 01 Jan 2024 10:00:00 +0000
Message-ID: <1@example.org>

First line of the body.
..a dot-stuffed line stays as is here
Last line.
`);

const multipart = crlf(`From: Bob <bob@example.org>
Newsgroups: comp.lang.misc
Subject: =?UTF-8?B?Q2Fmw6kgYXR0YWNobWVudA==?=
Date: Tue, 02 Jan 2024 11:00:00 +0100
Message-ID: <2@example.org>
References: <1@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="XyZ"

preamble
--XyZ
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Caf=C3=A9 au lait needle-word
--XyZ
Content-Type: application/octet-stream; name="data.bin"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="data.bin"

AAECAwQFBgcICQ==
--XyZ--
`);

const latin1 = Buffer.concat([
  crlf(`From: =?ISO-8859-1?Q?J=F6rg?= <jorg@example.de>
Newsgroups: de.test
Subject: Gr\xfc\xdfe
Date: Wed, 03 Jan 2024 12:00:00 +0000
Message-ID: <3@example.de>
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: 8bit

Sch\xf6ne Gr\xfc\xdfe
`),
]);

describe('IMAP commands over a fixture backend', () => {
  let backend: FixtureBackend;
  let srv: TestServer;
  beforeAll(async () => {
    backend = new FixtureBackend();
    backend.add('comp.lang.misc', 3, plain);
    backend.add('comp.lang.misc', 7, multipart);
    backend.add('de.test', 1, latin1);
    srv = await startImap(backend);
  });
  afterAll(async () => srv.close());

  async function login(): Promise<RawClient> {
    const c = await RawClient.connect(srv.port);
    expect(tagged(await c.cmd('L', 'LOGIN alice secret'), 'L')).toMatch(/^L OK/);
    return c;
  }

  it('refuses a wrong password with AUTHENTICATIONFAILED and accepts the right one', async () => {
    const c = await RawClient.connect(srv.port);
    expect(tagged(await c.cmd('a', 'LOGIN alice wrong'), 'a')).toMatch(/^a NO \[AUTHENTICATIONFAILED\]/);
    expect(tagged(await c.cmd('b', 'LOGIN alice secret'), 'b')).toMatch(/^b OK \[CAPABILITY /);
    c.close();
  });

  it('AUTHENTICATE PLAIN with SASL-IR and ANONYMOUS with a continuation', async () => {
    const c = await RawClient.connect(srv.port);
    const ir = Buffer.from('\0bob\0hunter2').toString('base64');
    expect(tagged(await c.cmd('a', `AUTHENTICATE PLAIN ${ir}`), 'a')).toMatch(/^a OK/);
    c.close();
    const d = await RawClient.connect(srv.port);
    d.write('b AUTHENTICATE ANONYMOUS\r\n');
    const cont = await d.settle((t) => t.includes('\r\n'));
    expect(cont, 'an empty continuation for the trace information').toBe('+ \r\n');
    d.take();
    d.write(Buffer.from('tester').toString('base64') + '\r\n');
    const done = await d.settle((t) => /(^|\r\n)b (OK|NO|BAD)[^\r\n]*\r\n/.test(t));
    expect(tagged(done, 'b'), done).toMatch(/^b OK/);
    expect(tagged(await d.cmd('c', 'NAMESPACE'), 'c'), 'authenticated state').toMatch(/^c OK/);
    d.close();
  });

  it('commands need the right state', async () => {
    const c = await RawClient.connect(srv.port);
    expect(tagged(await c.cmd('a', 'SELECT comp.lang.misc'), 'a')).toMatch(/^a BAD/);
    expect(tagged(await c.cmd('b', 'FOO'), 'b')).toMatch(/^b BAD/);
    c.close();
  });

  it('LIST shows groups and \\Noselect parents; NAMESPACE is personal', async () => {
    const c = await login();
    const r = await c.cmd('a', 'LIST "" "*"');
    expect(r).toContain('* LIST (\\HasNoChildren) "." INBOX');
    expect(r).toContain('* LIST (\\Noselect \\HasChildren) "." comp');
    expect(r).toContain('* LIST (\\HasNoChildren) "." comp.lang.misc');
    const pct = await c.cmd('b', 'LIST "" "comp.%"');
    expect(pct).toContain('"." comp.lang\r\n');
    expect(pct).not.toContain('comp.lang.misc');
    expect(await c.cmd('c', 'NAMESPACE')).toContain('* NAMESPACE (("" ".")) NIL NIL');
    const st = await c.cmd('d', 'LIST "" "de.*" RETURN (STATUS (MESSAGES UIDNEXT UNSEEN))');
    expect(st).toContain('* STATUS de.test (MESSAGES 1 UIDNEXT 2 UNSEEN 1)');
    c.close();
  });

  it('SELECT reports counts, UIDs and session-only flags', async () => {
    const c = await login();
    const r = await c.cmd('a', 'SELECT comp.lang.misc');
    expect(r).toContain('* 2 EXISTS');
    expect(r).toContain('[PERMANENTFLAGS ()]');
    expect(r).toContain('[UIDVALIDITY 1000]');
    expect(r).toContain('[UIDNEXT 8]');
    expect(tagged(r, 'a')).toMatch(/^a OK \[READ-WRITE\]/);
    const f = await c.cmd('b', 'FETCH 1:* (UID RFC822.SIZE FLAGS)');
    expect(f).toContain(`* 1 FETCH (UID 3 RFC822.SIZE ${plain.length} FLAGS ())`);
    expect(f).toContain(`* 2 FETCH (UID 7 RFC822.SIZE ${multipart.length} FLAGS ())`);
    c.close();
  });

  it('BODY[] returns the exact bytes and sets \\Seen; BODY.PEEK does not', async () => {
    const c = await login();
    await c.cmd('s', 'SELECT de.test');
    c.write('p FETCH 1 (BODY.PEEK[])\r\n');
    await c.until((t) => /\r\np OK/.test(t));
    const peek = c.takeBuffer();
    const head = `* 1 FETCH (BODY[] {${latin1.length}}\r\n`;
    expect(peek.subarray(0, head.length).toString('latin1')).toBe(head);
    expect(peek.subarray(head.length, head.length + latin1.length).equals(latin1)).toBe(true);
    expect(await c.cmd('f', 'FETCH 1 FLAGS')).toContain('FLAGS ()');
    const r = await c.cmd('b', 'FETCH 1 (BODY[TEXT])');
    expect(r).toContain('FLAGS (\\Seen)');
    c.close();
  });

  it('sections, partials, HEADER.FIELDS, MIME and BINARY', async () => {
    const c = await login();
    await c.cmd('s', 'SELECT comp.lang.misc');
    const text = multipart.toString('latin1');
    const r1 = await c.cmd('a', 'UID FETCH 7 (BODY.PEEK[1])');
    expect(r1).toContain('BODY[1] {32}\r\nCaf=C3=A9 au lait needle-word\r\n'.replace('{32}', `{${'Caf=C3=A9 au lait needle-word'.length}}`).replace('word\r\n', 'word'));
    const r2 = await c.cmd('b', 'UID FETCH 7 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    const subj = 'Subject: =?UTF-8?B?Q2Fmw6kgYXR0YWNobWVudA==?=\r\n\r\n';
    expect(r2).toContain(`BODY[HEADER.FIELDS (SUBJECT)] {${subj.length}}\r\n${subj}`);
    const r3 = await c.cmd('c', 'UID FETCH 7 (BINARY.PEEK[2] BINARY.SIZE[2])');
    expect(r3).toContain('BINARY.SIZE[2] 10');
    expect(r3).toContain('BINARY[2] ~{10}\r\n\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09');
    const r4 = await c.cmd('d', 'UID FETCH 7 (BODY.PEEK[]<10.20>)');
    expect(r4).toContain(`BODY[]<10> {20}\r\n${text.slice(10, 30)}`);
    const r5 = await c.cmd('e', 'UID FETCH 7 (BODY.PEEK[2.MIME])');
    expect(r5).toContain('Content-Disposition: attachment; filename="data.bin"\r\n\r\n');
    const r6 = await c.cmd('f', 'UID FETCH 7 (BODY.PEEK[9])');
    expect(r6).toContain('BODY[9] NIL');
    c.close();
  });

  it('ENVELOPE and BODYSTRUCTURE', async () => {
    const c = await login();
    await c.cmd('s', 'SELECT comp.lang.misc');
    const r = await c.cmd('a', 'UID FETCH 7 (ENVELOPE BODYSTRUCTURE)');
    expect(r).toContain('ENVELOPE ("Tue, 02 Jan 2024 11:00:00 +0100" "=?UTF-8?B?Q2Fmw6kgYXR0YWNobWVudA==?=" (("Bob" NIL "bob" "example.org"))');
    expect(r).toMatch(/BODYSTRUCTURE \(\("text" "plain" \("charset" "utf-8"\) NIL NIL "QUOTED-PRINTABLE" 29 0 NIL NIL NIL NIL\)\("application" "octet-stream" \("name" "data.bin"\) NIL NIL "BASE64" 16 NIL \("attachment" \("filename" "data.bin"\)\) NIL NIL\) "mixed" \("boundary" "XyZ"\) NIL NIL NIL\)/i);
    c.close();
  });

  it('SEARCH over headers, body and flags; ESEARCH', async () => {
    const c = await login();
    await c.cmd('s', 'SELECT comp.lang.misc');
    expect(await c.cmd('a', 'UID SEARCH CHARSET UTF-8 SUBJECT "café"')).toContain('* SEARCH 7\r\n');
    expect(await c.cmd('b', 'SEARCH FROM alice')).toContain('* SEARCH 1\r\n');
    expect(await c.cmd('c', 'UID SEARCH BODY needle-word')).toContain('* SEARCH 7\r\n');
    expect(await c.cmd('d', 'UID SEARCH SENTSINCE 2-Jan-2024')).toContain('* SEARCH 7\r\n');
    await c.cmd('e', 'UID STORE 3 +FLAGS.SILENT (\\Flagged)');
    expect(await c.cmd('f', 'UID SEARCH RETURN (MIN MAX COUNT) FLAGGED')).toContain('* ESEARCH (TAG "f") UID MIN 3 MAX 3 COUNT 1');
    expect(await c.cmd('g', 'SEARCH OR FLAGGED HEADER References "<1@"')).toContain('* SEARCH 1 2\r\n');
    expect(tagged(await c.cmd('h', 'SEARCH CHARSET KOI8-R ALL'), 'h')).toMatch(/^h NO \[BADCHARSET/);
    c.close();
  });

  it('STORE is session-only, refused in EXAMINE; keywords are kept for the session too', async () => {
    const c = await login();
    await c.cmd('s', 'SELECT comp.lang.misc');
    expect(await c.cmd('a', 'STORE 1 +FLAGS (\\Answered \\Seen)')).toContain('* 1 FETCH (FLAGS (\\Answered \\Seen))');
    expect(await c.cmd('b', 'STORE 1 -FLAGS (\\Seen)')).toContain('* 1 FETCH (FLAGS (\\Answered))');
    expect(await c.cmd('k', 'STORE 1 +FLAGS ($Label1)')).toContain('* 1 FETCH (FLAGS (\\Answered $Label1))');
    await c.cmd('e', 'EXAMINE comp.lang.misc');
    expect(tagged(await c.cmd('c', 'STORE 1 +FLAGS (\\Seen)'), 'c')).toMatch(/^c NO \[READ-ONLY\]/);
    c.close();
    const d = await login();
    await d.cmd('s', 'SELECT comp.lang.misc');
    expect(await d.cmd('f', 'FETCH 1 FLAGS')).toContain('FLAGS ()');
    d.close();
  });

  it('every command that would change public data gets NO with a code', async () => {
    const c = await login();
    await c.cmd('s', 'SELECT comp.lang.misc');
    // nothing marked \Deleted: EXPUNGE removes nothing, and OK says exactly that
    expect(tagged(await c.cmd('e0', 'EXPUNGE'), 'e0')).toMatch(/^e0 OK/);
    await c.cmd('d0', 'STORE 1 +FLAGS.SILENT (\\Deleted)');
    const cases: Array<[string, string]> = [
      ['CREATE foo', 'NOPERM'], ['DELETE comp.lang.misc', 'NOPERM'], ['RENAME comp.lang.misc x', 'NOPERM'],
      ['EXPUNGE', 'CANNOT'], ['UID EXPUNGE 3', 'CANNOT'], ['COPY 1 de.test', 'CANNOT'], ['MOVE 1 de.test', 'CANNOT'],
      ['UID COPY 3 de.test', 'CANNOT'], ['UID MOVE 3 de.test', 'CANNOT'], ['APPEND de.test {3+}\r\nabc', 'CANNOT'],
    ];
    for (const [i, [cmd, code]] of cases.entries()) {
      expect(tagged(await c.cmd(`r${i}`, cmd), `r${i}`)).toMatch(new RegExp(`^r${i} NO \\[${code}\\]`));
    }
    // A large APPEND is refused before any continuation, so the client never uploads it.
    c.write('big APPEND de.test {50000000}\r\n');
    const big = await c.until((t) => /big (OK|NO|BAD)/.test(t));
    expect(big).not.toMatch(/^\+/m);
    expect(tagged(c.take(), 'big')).toMatch(/^big NO \[CANNOT\]/);
    expect(await c.cmd('x', 'FETCH 1:* UID')).toContain('* 2 FETCH (UID 7)');
    c.close();
  });

  it('IDLE announces a new article and an expired one, and nothing else', async () => {
    const c = await login();
    expect(await c.cmd('s', 'SELECT de.test')).toContain('* 1 EXISTS');
    c.write('i IDLE\r\n');
    expect(untagged(await c.settle((t) => t.includes('\r\n'))), 'IDLE continuation').toEqual(['+ idling']);
    c.take();
    // each event: wait for the first complete line, then say exactly what must have come
    backend.add('de.test', 5, plain);
    expect(untagged(await c.settle((t) => t.includes('\r\n'))), 'after an article was added').toEqual(['* 2 EXISTS']);
    c.take();
    backend.expire('de.test', 1);
    expect(untagged(await c.settle((t) => t.includes('\r\n'))), 'after article 1 expired').toEqual(['* 1 EXPUNGE']);
    c.take();
    c.write('DONE\r\n');
    const done = await c.settle((t) => /(^|\r\n)i (OK|NO|BAD)[^\r\n]*\r\n/.test(t));
    expect(untagged(done), 'after DONE').toEqual([]);
    expect(tagged(done, 'i')).toMatch(/^i OK/);
    // the session's view is what IDLE said: one message, UID 5
    const f = await c.cmd('f', 'FETCH 1:* (UID)');
    expect(untagged(f)).toEqual(['* 1 FETCH (UID 5)']);
    c.close();
  });

  it('hostile input gets BAD and the server keeps serving this and other clients', async () => {
    const other = await login();
    await other.cmd('o1', 'SELECT comp.lang.misc');
    const c = await RawClient.connect(srv.port);
    c.write(Buffer.from([0, 1, 2, 255, 254, 13, 10]));
    await c.until((t) => /BAD/.test(t));
    c.take();
    c.write(`a LOGIN {104857600}\r\n`);
    const big = await c.until((t) => /a (BAD|NO)/.test(t));
    expect(big).not.toMatch(/^\+/m);
    c.take();
    c.write(`b ${'x'.repeat(1024 * 1024)}\r\n`);
    await c.until((t) => /BAD/.test(t));
    c.take();
    expect(tagged(await c.cmd('c', `SEARCH ${'('.repeat(5000)}ALL${')'.repeat(5000)}`), 'c')).toMatch(/^c BAD/);
    expect(tagged(await c.cmd('d', 'NOOP'), 'd')).toMatch(/^d OK/);
    c.close();
    expect(await other.cmd('o2', 'UID FETCH 3 (RFC822.SIZE)')).toContain(`RFC822.SIZE ${plain.length}`);
    other.close();
  });

  it('imapflow reads a mailbox end to end', async () => {
    const client = new ImapFlow({ host: '127.0.0.1', port: srv.port, secure: false, auth: { user: 'alice', pass: 'secret' }, logger: false });
    await client.connect();
    const lock = await client.getMailboxLock('comp.lang.misc');
    try {
      const msgs = [];
      for await (const m of client.fetch('1:*', { uid: true, envelope: true, bodyStructure: true, size: true, source: true })) msgs.push(m);
      expect(msgs.map((m) => m.uid)).toEqual([3, 7]);
      expect(msgs[1]!.envelope!.subject).toBe('Café attachment');
      expect(Buffer.compare(msgs[0]!.source!, plain)).toBe(0);
      expect(msgs[1]!.size).toBe(multipart.length);
      expect(msgs[1]!.bodyStructure!.childNodes!.length).toBe(2);
    } finally {
      lock.release();
    }
    await client.logout();
  });
});
