/**
 * BINARY[n] / BINARY.SIZE[n] of message/rfc822 parts and of parts nested in
 * them (RFC 3516 §4.2): the content of the part after transfer decoding (none
 * for 7bit/8bit/binary); a part in an unknown encoding is NO [UNKNOWN-CTE];
 * BINARY.SIZE is exactly the length of the literal BINARY sends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixtureBackend } from './fixture-backend.js';
import { startImap, type TestServer } from './harness.js';
import { RawClient, tagged } from './raw-client.js';

const crlf = (s: string): Buffer => Buffer.from(s.replace(/\r?\n/g, '\r\n'), 'latin1');

/** The forwarded message carried as part 2 (itself multipart: 2.1 QP text, 2.2 base64). */
const inner = crlf(`From: Carol <carol@example.org>
Subject: inner
Message-ID: <inner@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="in"

--in
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Gr=C3=BC=C3=9Fe aus dem Inneren
--in
Content-Type: application/octet-stream
Content-Transfer-Encoding: base64

3q2+7wABAgM=
--in--
`);

/** Part 3: a forwarded single-part message with 8-bit text. */
const inner8 = Buffer.concat([
  crlf(`From: Dave <dave@example.org>
Subject: eight
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: 8bit

`),
  Buffer.from('Sch\xf6ne Gr\xfc\xdfe\r\n', 'latin1'),
]);

const article = Buffer.concat([
  crlf(`From: Bob <bob@example.org>
Newsgroups: comp.lang.misc
Subject: Fwd: several
Date: Tue, 02 Jan 2024 11:00:00 +0100
Message-ID: <fwd@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="out"

--out
Content-Type: text/plain

See the forwarded messages.
--out
Content-Type: message/rfc822

`),
  inner,
  crlf(`--out
Content-Type: message/rfc822
Content-Transfer-Encoding: 8bit

`),
  inner8,
  crlf(`--out
Content-Type: message/rfc822
Content-Transfer-Encoding: x-unheard-of

From: nobody
Subject: ?

opaque
--out--
`),
]);

/** An article that is itself message/rfc822: its part 1 is the encapsulated message. */
const wrapped = Buffer.concat([
  crlf(`From: Erin <erin@example.org>
Newsgroups: comp.lang.misc
Subject: wrapped
Message-ID: <wrapped@example.org>
MIME-Version: 1.0
Content-Type: message/rfc822

`),
  inner8,
]);

/** Part 1 is itself a multipart (sent as is); part 2 a multipart that declares base64 (RFC 2045 §6.4 forbids it). */
const nested = crlf(`From: Fay <fay@example.org>
Newsgroups: comp.lang.misc
Subject: nested
Message-ID: <nested@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="a"

--a
Content-Type: multipart/alternative; boundary="b"

--b
Content-Type: text/plain

plain
--b
Content-Type: text/html

<p>html</p>
--b--
--a
Content-Type: multipart/mixed; boundary="c"
Content-Transfer-Encoding: base64

--c
Content-Type: text/plain

x
--c--
--a--
`);

/** The bytes of inner up to the CRLF before the next boundary (not part of the body). */
const innerBody = inner.subarray(0, inner.length - 2);
const inner8Body = inner8.subarray(0, inner8.length - 2);

/** The literal following `item ` in a FETCH response (`{n}` or `~{n}`), or the atom (NIL). */
function itemValue(resp: Buffer, item: string): Buffer | string {
  const text = resp.toString('latin1');
  const at = text.indexOf(`${item} `);
  if (at < 0) throw new Error(`no ${item} in ${text.slice(0, 300)}`);
  const rest = text.slice(at + item.length + 1);
  const m = /^~?\{(\d+)\}\r\n/.exec(rest);
  if (!m) return /^[^ )\r]*/.exec(rest)![0];
  const start = at + item.length + 1 + m[0].length;
  return resp.subarray(start, start + Number(m[1]));
}

function sizeOf(resp: Buffer, item: string): number {
  const v = itemValue(resp, item);
  if (typeof v !== 'string' || !/^\d+$/.test(v)) throw new Error(`${item} is ${String(v)}`);
  return Number(v);
}

describe('BINARY of message/rfc822 parts (RFC 3516)', () => {
  let backend: FixtureBackend;
  let srv: TestServer;
  let c: RawClient;
  beforeAll(async () => {
    backend = new FixtureBackend();
    backend.add('comp.lang.misc', 1, article);
    backend.add('comp.lang.misc', 2, wrapped);
    backend.add('comp.lang.misc', 3, nested);
    srv = await startImap(backend);
    c = await RawClient.connect(srv.port);
    expect(tagged(await c.cmd('l', 'LOGIN alice secret'), 'l')).toMatch(/^l OK/);
    expect(tagged(await c.cmd('s', 'EXAMINE comp.lang.misc'), 's')).toMatch(/^s OK/);
  });
  afterAll(async () => {
    c.close();
    await srv.close();
  });

  async function fetch(tag: string, items: string): Promise<Buffer> {
    c.write(`${tag} UID FETCH 1 (${items})\r\n`);
    await c.until((t) => new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n`).test(t));
    return c.takeBuffer();
  }

  it('BINARY[2] is the encapsulated message as is, and BINARY.SIZE[2] its length', async () => {
    const r = await fetch('a', 'BINARY.PEEK[2] BINARY.SIZE[2] BODY.PEEK[2]');
    expect(tagged(r.toString('latin1'), 'a')).toMatch(/^a OK/);
    expect(itemValue(r, 'BINARY[2]')).toEqual(innerBody);
    expect(itemValue(r, 'BODY[2]')).toEqual(innerBody);
    expect(sizeOf(r, 'BINARY.SIZE[2]')).toBe(innerBody.length);
  });

  it('an 8bit message/rfc822 part is sent without decoding, 8-bit octets intact', async () => {
    const r = await fetch('b', 'BINARY.PEEK[3] BINARY.SIZE[3]');
    expect(itemValue(r, 'BINARY[3]')).toEqual(inner8Body);
    expect(sizeOf(r, 'BINARY.SIZE[3]')).toBe(inner8Body.length);
  });

  it('parts nested in the encapsulated message are decoded: BINARY[2.1] (QP), BINARY[2.2] (base64)', async () => {
    const r = await fetch('c', 'BINARY.PEEK[2.1] BINARY.SIZE[2.1] BINARY.PEEK[2.2] BINARY.SIZE[2.2]');
    const text = Buffer.from('Grüße aus dem Inneren', 'utf8');
    expect(itemValue(r, 'BINARY[2.1]')).toEqual(text);
    expect(sizeOf(r, 'BINARY.SIZE[2.1]')).toBe(text.length);
    expect(itemValue(r, 'BINARY[2.2]')).toEqual(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3]));
    expect(sizeOf(r, 'BINARY.SIZE[2.2]')).toBe(8);
  });

  it('a partial BINARY[2]<origin.length> is a slice of the same bytes', async () => {
    const r = await fetch('d', 'BINARY.PEEK[2]<6.20>');
    expect(itemValue(r, 'BINARY[2]<6>')).toEqual(innerBody.subarray(6, 26));
  });

  it('BINARY[1] of an article that is itself message/rfc822 is the encapsulated message', async () => {
    c.write('e UID FETCH 2 (BINARY.PEEK[1] BINARY.SIZE[1])\r\n');
    await c.until((t) => /(^|\r\n)e (OK|NO|BAD)[^\r\n]*\r\n/.test(t));
    const r = c.takeBuffer();
    expect(itemValue(r, 'BINARY[1]')).toEqual(inner8);
    expect(sizeOf(r, 'BINARY.SIZE[1]')).toBe(inner8.length);
  });

  it('a message/rfc822 part in an unknown transfer encoding is NO [UNKNOWN-CTE], for BINARY and BINARY.SIZE', async () => {
    expect(tagged((await fetch('f', 'BINARY.PEEK[4]')).toString('latin1'), 'f')).toMatch(/^f NO \[UNKNOWN-CTE\]/);
    expect(tagged((await fetch('g', 'BINARY.SIZE[4]')).toString('latin1'), 'g')).toMatch(/^g NO \[UNKNOWN-CTE\]/);
  });

  it('BINARY[1] of a multipart part is its body as is; a multipart declaring base64 is NO [UNKNOWN-CTE]', async () => {
    c.write('m UID FETCH 3 (BINARY.PEEK[1] BINARY.SIZE[1] BODY.PEEK[1] BINARY.PEEK[1.2])\r\n');
    await c.until((t) => /(^|\r\n)m (OK|NO|BAD)[^\r\n]*\r\n/.test(t));
    const r = c.takeBuffer();
    const body = itemValue(r, 'BODY[1]') as Buffer;
    expect(body.toString('latin1')).toMatch(/^--b\r\n[\s\S]*<p>html<\/p>\r\n--b--$/);
    expect(itemValue(r, 'BINARY[1]')).toEqual(body);
    expect(sizeOf(r, 'BINARY.SIZE[1]')).toBe(body.length);
    expect(itemValue(r, 'BINARY[1.2]')).toEqual(Buffer.from('<p>html</p>'));
    c.write('n UID FETCH 3 (BINARY.PEEK[2])\r\n');
    expect(tagged(await c.until((t) => /(^|\r\n)n (OK|NO|BAD)[^\r\n]*\r\n/.test(t)), 'n')).toMatch(/^n NO \[UNKNOWN-CTE\]/);
    c.take();
  });

  it('a part that does not exist is NIL, for BINARY and BINARY.SIZE', async () => {
    const r = await fetch('o', 'BINARY.PEEK[9] BINARY.SIZE[2.7]');
    expect(itemValue(r, 'BINARY[9]')).toBe('NIL');
    expect(itemValue(r, 'BINARY.SIZE[2.7]')).toBe('NIL');
  });

  it('BINARY.SIZE equals the literal length for every part of the article', async () => {
    for (const p of ['1', '2', '2.1', '2.2', '3', '3.1']) {
      const r = await fetch('h', `BINARY.PEEK[${p}] BINARY.SIZE[${p}]`);
      const body = itemValue(r, `BINARY[${p}]`);
      expect(Buffer.isBuffer(body), `BINARY[${p}] is a literal: ${r.toString('latin1').slice(0, 200)}`).toBe(true);
      expect(sizeOf(r, `BINARY.SIZE[${p}]`), `part ${p}`).toBe((body as Buffer).length);
    }
  });
});
