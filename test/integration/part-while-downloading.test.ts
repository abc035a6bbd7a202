/**
 * A partial of a part answered while its article is still downloading, over
 * a real INN: a 3 MB multipart article (a short text part, then a base64
 * attachment) is read through a relay that holds INN's answer a little way
 * in (relay.ts `holdAfter`: the rest is kept, not dropped). While it is held,
 * BODY.PEEK[2]<0.1024> and BODY.PEEK[1] (a short part, ended in the prefix)
 * are answered with the bytes the whole parse names, and only a prefix of the
 * article went to newsfront; once released the download ends and is cached
 * as before (the whole article, byte for byte INN's, and the same answers
 * from the cache).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNewsfront } from '../../src/app/start.js';
import { parseStructure, sectionRange } from '../../src/mime/index.js';
import { startRelay, type Relay } from '../harness/relay.js';
import { startStack, type Stack } from '../harness/stack.js';
import { RawClient, tagged } from '../imap/raw-client.js';

const GROUP = 'partial.held';
const PER_GROUP = 3;
const MSGID = '<held-attachment@test.invalid>';
const TEXT_MSGID = '<held-text@test.invalid>';

function bigArticle(): Buffer {
  const data = Buffer.alloc(2_300_000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  const b64 = data.toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from(
    `Path: test!not-for-mail\r\nFrom: Held <held@test.invalid>\r\nNewsgroups: ${GROUP}\r\nSubject: a long attachment\r\n` +
      `Date: Mon, 07 Dec 2026 12:00:00 +0000\r\nMessage-ID: ${MSGID}\r\nMIME-Version: 1.0\r\n` +
      'Content-Type: multipart/mixed; boundary="=_held_="\r\n\r\nThis is a multi-part message in MIME format.\r\n' +
      '--=_held_=\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nSee the attachment.\r\n' +
      '--=_held_=\r\nContent-Type: application/octet-stream; name="data.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n' +
      `${b64}\r\n--=_held_=--\r\n`,
    'latin1',
  );
}

/** The same shape with a long text part in 8bit: BINARY sends it as is (RFC 3516 §4.2). */
function bigTextArticle(): Buffer {
  const lines: string[] = [];
  for (let i = 0; lines.length < 40_000; i++) lines.push(`line ${i}: caf\xe9 ${'x'.repeat(i % 60)}`);
  return Buffer.from(
    `Path: test!not-for-mail\r\nFrom: Held <held@test.invalid>\r\nNewsgroups: ${GROUP}\r\nSubject: a long text part\r\n` +
      `Date: Mon, 07 Dec 2026 12:00:01 +0000\r\nMessage-ID: ${TEXT_MSGID}\r\nMIME-Version: 1.0\r\n` +
      'Content-Type: multipart/mixed; boundary="=_text_="\r\n\r\n' +
      '--=_text_=\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nThe log follows.\r\n' +
      '--=_text_=\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n' +
      `${lines.join('\r\n')}\r\n--=_text_=--\r\n`,
    'latin1',
  );
}

/** The literal of `NAME {n}` (or `NAME ~{n}`) in a FETCH response. */
function literal(buf: Buffer, name: string): Buffer {
  const text = buf.toString('latin1');
  const plain = text.indexOf(`${name} {`);
  const at = plain >= 0 ? plain : text.indexOf(`${name} ~{`); // BINARY's literal8 (RFC 3516)
  if (at < 0) throw new Error(`no ${name} in ${text.slice(0, 300)}`);
  const m = /\{(\d+)\}\r\n/.exec(text.slice(at))!;
  const start = at + m.index + m[0].length;
  return buf.subarray(start, start + Number(m[1]));
}

describe('a part of an article being downloaded', () => {
  let stack: Stack<'none'>;
  let relay: Relay;
  let nf: RunningNewsfront;
  let stored: Buffer;
  let storedText: Buffer;
  let uid: number;

  beforeAll(async () => {
    stack = await startStack({ corpus: { seed: 77, groups: [GROUP], perGroup: PER_GROUP, crosspostRate: 0 }, frontend: 'none' });
    await stack.inn.inject([bigArticle(), bigTextArticle()]);
    uid = PER_GROUP + 1;
    [stored, storedText] = await stack.inn.storedArticles([MSGID, TEXT_MSGID]) as [Buffer, Buffer];
    relay = await startRelay(stack.inn.port);
    nf = await stack.serve({ upstreams: [{ url: `nntp://127.0.0.1:${relay.port}` }], data: join(stack.dir, 'nf') });
  }, 240_000);
  afterAll(async () => {
    relay?.release();
    await nf?.close();
    await relay?.close();
    await stack?.close();
  });

  it('BODY.PEEK[2]<0.1024> and BODY.PEEK[1] are answered before the article has come, the same after', async () => {
    const tree = parseStructure(stored);
    const p2 = sectionRange(tree, [2], '');
    const p1 = sectionRange(tree, [1], '');
    const want2 = stored.subarray(p2.start, p2.start + 1024);
    const want1 = stored.subarray(p1.start, p1.end);
    const c = await RawClient.connect(nf.port);
    try {
      await c.cmd('l', 'LOGIN alice secret');
      expect(tagged(await c.cmd('s', `EXAMINE ${GROUP}`), 's')).toMatch(/^s OK/);
      const before = relay.down;
      const held = relay.holdAfter(256 * 1024); // the article's first ~256 KB, then nothing until released
      c.write(`f UID FETCH ${uid} (BODY.PEEK[2]<0.1024> BODY.PEEK[1])\r\n`);
      await c.until((t) => /(^|\r\n)f (OK|NO|BAD)[^\r\n]*\r\n/.test(t), 30_000);
      await held;
      const got = c.takeBuffer();
      expect(tagged(got.toString('latin1'), 'f')).toMatch(/^f OK/);
      expect(literal(got, 'BODY[2]<0>')).toEqual(want2);
      expect(literal(got, 'BODY[1]')).toEqual(want1);
      // answered while INN's answer is held: less than the article went to newsfront
      expect(relay.held).toBeGreaterThan(0);
      expect(relay.down - before).toBeLessThan(stored.length);

      relay.release();
      // the download goes on into the cache: the whole article, and the same answers from there
      const whole = await c.cmd('w', `UID FETCH ${uid} (BODY.PEEK[])`, 60_000);
      expect(tagged(whole, 'w')).toMatch(/^w OK/);
      c.write(`a UID FETCH ${uid} (BODY.PEEK[] BODY.PEEK[2]<0.1024> BODY.PEEK[1])\r\n`);
      await c.until((t) => /(^|\r\n)a (OK|NO|BAD)[^\r\n]*\r\n/.test(t), 60_000);
      const again = c.takeBuffer();
      expect(literal(again, 'BODY[]')).toEqual(stored);
      expect(literal(again, 'BODY[2]<0>')).toEqual(want2);
      expect(literal(again, 'BODY[1]')).toEqual(want1);
    } finally {
      c.close();
    }
  });

  it('BINARY.PEEK[2]<0.1024> of an 8bit part is answered before the article has come; a base64 part is still decoded whole', async () => {
    const p2 = sectionRange(parseStructure(storedText), [2], '');
    const want = storedText.subarray(p2.start, p2.start + 1024);
    expect(want.includes(0xe9)).toBe(true); // 8bit octets, sent as they are
    const c = await RawClient.connect(nf.port);
    try {
      await c.cmd('l', 'LOGIN alice secret');
      expect(tagged(await c.cmd('s', `EXAMINE ${GROUP}`), 's')).toMatch(/^s OK/);
      const before = relay.down;
      const held = relay.holdAfter(256 * 1024);
      c.write(`f UID FETCH ${uid + 1} (BINARY.PEEK[2]<0.1024> BODY.PEEK[2]<0.1024>)\r\n`);
      await c.until((t) => /(^|\r\n)f (OK|NO|BAD)[^\r\n]*\r\n/.test(t), 30_000);
      await held;
      const got = c.takeBuffer();
      expect(tagged(got.toString('latin1'), 'f')).toMatch(/^f OK/);
      expect(got.toString('latin1')).toContain('BINARY[2]<0> ~{1024}\r\n');
      expect(literal(got, 'BINARY[2]<0>')).toEqual(want);
      expect(literal(got, 'BODY[2]<0>')).toEqual(want);
      expect(relay.held).toBeGreaterThan(0);
      expect(relay.down - before).toBeLessThan(storedText.length);
      relay.release();

      // from the cache: the same octets; and the base64 attachment of the first article decoded (its first 1,024 octets)
      c.write(`a UID FETCH ${uid + 1} (BINARY.PEEK[2]<0.1024>)\r\n`);
      await c.until((t) => /(^|\r\n)a (OK|NO|BAD)[^\r\n]*\r\n/.test(t), 60_000);
      expect(literal(c.takeBuffer(), 'BINARY[2]<0>')).toEqual(want);
      const b = await c.cmd('b', `UID FETCH ${uid} (BINARY.PEEK[2]<0.1024>)`, 60_000);
      expect(tagged(b, 'b')).toMatch(/^b OK/);
      const data = Buffer.alloc(1024);
      for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
      expect(literal(Buffer.from(b, 'latin1'), 'BINARY[2]<0>')).toEqual(data);
    } finally {
      c.close();
    }
  });
});
