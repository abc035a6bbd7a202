/**
 * PREVIEW (RFC 8970): the first text part, decoded, white space collapsed, at
 * most 200 characters; computed once and cached (a second FETCH reads no
 * article); LAZY gives NIL until then. The cache is bounded by bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixtureBackend } from './fixture-backend.js';
import { startImap, type TestServer } from './harness.js';
import { RawClient, tagged, untagged } from './raw-client.js';
import { normalizePreview, PreviewCache, PREVIEW_CHARS } from '../../src/imap/render/preview.js';

const LONG = Array.from({ length: 80 }, (_, i) => `word${i}`).join('  \r\n\t');
const PLAIN = `From: a@x.org\r\nSubject: plain\r\nMessage-ID: <p@x.org>\r\n\r\n  Hello,\r\n\r\n   this is\tthe   text.\r\n`;
const LONGMSG = `From: a@x.org\r\nSubject: long\r\n\r\n${LONG}\r\n`;
const HTML = [
  'From: a@x.org', 'Subject: html', 'MIME-Version: 1.0', 'Content-Type: multipart/alternative; boundary="b"', '',
  '--b', 'Content-Type: text/html; charset=utf-8', '',
  '<html><head><style>p { color: red }</style></head><body><p>Caf&eacute; &amp; <b>cr\u00e8me</b></p></body></html>',
  '--b--', '',
].join('\r\n');
const LATIN1B64 = [
  'From: a@x.org', 'Subject: latin1', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="z"', '',
  '--z', 'Content-Type: text/plain; charset=iso-8859-1', 'Content-Transfer-Encoding: base64', '',
  Buffer.from('Gr\u00fc\u00dfe aus K\u00f6ln', 'latin1').toString('base64'),
  '--z', 'Content-Type: text/plain', 'Content-Disposition: attachment; filename=x.txt', '', 'not this', '--z--', '',
].join('\r\n');
const ATTACH_ONLY = [
  'From: a@x.org', 'Subject: att', 'MIME-Version: 1.0', 'Content-Type: application/octet-stream', 'Content-Transfer-Encoding: base64', '',
  'AAECAw==', '',
].join('\r\n');

describe('normalizePreview / PreviewCache', () => {
  it('collapses white space and cuts at 200 characters without splitting a surrogate pair', () => {
    expect(normalizePreview('  a\r\n\tb \u0000 c  ')).toBe('a b c');
    const emoji = '\u{1F600}'.repeat(300);
    const cut = normalizePreview(emoji);
    expect(Array.from(cut)).toHaveLength(PREVIEW_CHARS);
    expect(cut).toBe('\u{1F600}'.repeat(PREVIEW_CHARS));
  });

  it('stays within its byte bound, dropping the least recently used', async () => {
    const cache = new PreviewCache(10_000);
    for (let i = 0; i < 100; i++) await cache.of(`k${i}`, async () => 'x'.repeat(200));
    expect(cache.bytes).toBeLessThanOrEqual(10_000);
    expect(cache.size).toBeGreaterThan(5);
    expect(cache.get('k99')).toBe('x'.repeat(200));
    expect(cache.get('k0')).toBeUndefined();
  });
});

describe('FETCH PREVIEW', () => {
  let srv: TestServer;
  let backend: FixtureBackend;
  beforeAll(async () => {
    backend = new FixtureBackend();
    [PLAIN, LONGMSG, HTML, LATIN1B64, ATTACH_ONLY].forEach((a, i) => backend.add('p.box', i + 1, Buffer.from(a, 'utf8')));
    srv = await startImap(backend);
  });
  afterAll(() => srv.close());

  async function open(utf8 = false): Promise<RawClient> {
    const c = await RawClient.connect(srv.port);
    await c.cmd('l', 'LOGIN alice secret');
    if (utf8) await c.cmd('u', 'ENABLE UTF8=ACCEPT');
    await c.cmd('s', 'EXAMINE p.box');
    return c;
  }

  it('is advertised and gives the text of the first text part, computed once', async () => {
    const c = await open(true);
    expect(await c.cmd('a', 'CAPABILITY')).toMatch(/ PREVIEW/);
    const lazy = await c.cmd('b', 'UID FETCH 1 (PREVIEW (LAZY))');
    expect(untagged(lazy)).toEqual(['* 1 FETCH (UID 1 PREVIEW NIL)']);
    const before = backend.contentCalls;
    const r = await c.cmd('c', 'UID FETCH 1:5 (PREVIEW)');
    expect(tagged(r, 'c')).toMatch(/^c OK/);
    const lines = untagged(r).map((l) => Buffer.from(l, 'latin1').toString('utf8'));
    expect(lines[0]).toBe('* 1 FETCH (UID 1 PREVIEW "Hello, this is the text.")');
    const long = /PREVIEW "([^"]*)"/.exec(lines[1]!)![1]!;
    expect(long.length).toBeLessThanOrEqual(PREVIEW_CHARS);
    expect(long.startsWith('word0 word1 word2')).toBe(true);
    expect(LONG.replace(/\s+/g, ' ').startsWith(long)).toBe(true);
    expect(lines[2]).toBe('* 3 FETCH (UID 3 PREVIEW "Caf&eacute; & crème")');
    expect(lines[3]).toBe('* 4 FETCH (UID 4 PREVIEW "Grüße aus Köln")');
    expect(lines[4]).toBe('* 5 FETCH (UID 5 PREVIEW "")');
    expect(backend.contentCalls).toBeGreaterThan(before);
    // cached: neither LAZY nor a second FETCH reads an article again
    const after = backend.contentCalls;
    expect(untagged(await c.cmd('d', 'UID FETCH 1 (PREVIEW (LAZY))'))).toEqual(['* 1 FETCH (UID 1 PREVIEW "Hello, this is the text.")']);
    await c.cmd('e', 'UID FETCH 1:5 (PREVIEW FLAGS)');
    expect(backend.contentCalls).toBe(after);
    expect(backend.readCalls[backend.readCalls.length - 1]!.content).toBe(false);
    c.close();
  });

  it('sends non-ASCII previews as literals without UTF8=ACCEPT; fetch modifiers still parse', async () => {
    const c = await open(false);
    const r = await c.cmd('a', 'UID FETCH 4 (PREVIEW)');
    const bytes = Buffer.from('Grüße aus Köln', 'utf8');
    expect(r).toContain(`PREVIEW {${bytes.length}}\r\n${bytes.toString('latin1')})`);
    expect(tagged(await c.cmd('b', 'UID FETCH 1 PREVIEW (LAZY FOO)'), 'b')).toMatch(/^b BAD/);
    expect(tagged(await c.cmd('c', 'UID FETCH 1 PREVIEW'), 'c')).toMatch(/^c OK/);
    c.close();
  });
});
