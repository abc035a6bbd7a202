import { describe, expect, it } from 'vitest';
import { parseStructure } from '../../../src/mime/structure.js';
import { MAX_DEPTH } from '../../../src/mime/limits.js';
import type { MimePart } from '../../../src/mime/part.js';
import { at, json, msg, parseChunks, parseSplit } from './helpers.js';

const countLf = (b: Buffer, s: number, e: number): number => {
  let n = 0;
  for (let i = s; i < e; i++) if (b[i] === 0x0a) n++;
  return n;
};

/** Asserts that a part's body is exactly `content` found at/after `from`. */
function expectBody(buf: Buffer, p: MimePart, content: string, from = 0): void {
  const s = at(buf, content, from);
  expect(p.bodyStart).toBe(s);
  expect(p.bodyEnd).toBe(s + Buffer.byteLength(content, 'latin1'));
  expect(p.size).toBe(p.bodyEnd - p.bodyStart);
  expect(buf.subarray(p.bodyStart, p.bodyEnd).toString('latin1')).toBe(content);
}

const PLAIN = msg(['From: a@example.com', 'Subject: plain', '', 'Hello', 'World', '']);

const MIXED = msg([
  'From: a@example.com',
  'Content-Type: multipart/mixed; boundary="=_b1"',
  'MIME-Version: 1.0',
  '',
  'This is a preamble.',
  '--=_b1',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'first part',
  'second line',
  '--=_b1',
  'Content-Type: application/octet-stream; name="x.bin"',
  'Content-Transfer-Encoding: base64',
  'Content-Disposition: attachment; filename="x.bin"',
  'Content-ID: <id1@example.com>',
  'Content-Description: some bytes',
  '',
  'AAECAwQFBgcICQ==',
  '--=_b1--',
  'epilogue',
  '',
]);

const ALT_IN_MIXED = msg([
  'Content-Type: multipart/mixed; boundary=outer',
  '',
  '--outer',
  'Content-Type: multipart/alternative; boundary=inner',
  '',
  '--inner',
  'Content-Type: text/plain',
  '',
  'plain version',
  '--inner',
  'Content-Type: text/html',
  '',
  '<p>html version</p>',
  '--inner--',
  '',
  '--outer',
  'Content-Type: image/png',
  'Content-Transfer-Encoding: base64',
  '',
  'iVBORw0KGgo=',
  '--outer--',
]);

const RFC822 = msg([
  'Subject: outer',
  'Content-Type: multipart/mixed; boundary=zz',
  '',
  '--zz',
  'Content-Type: text/plain',
  '',
  'see attached',
  '--zz',
  'Content-Type: message/rfc822',
  '',
  'From: "Inner, Person" <inner@example.org>',
  'Subject: =?utf-8?q?inner_subj?=',
  'Message-ID: <inner@example.org>',
  'Content-Type: multipart/alternative; boundary=yy',
  '',
  '--yy',
  'Content-Type: text/plain',
  '',
  'inner text',
  '--yy--',
  '--zz--',
  '',
]);

const QP = msg([
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'caf=C3=A9 is=',
  'nice   ',
  'x=3Dy',
]);

const PARAMS2231 = msg([
  'Content-Type: multipart/mixed; boundary="q"',
  '',
  '--q',
  "Content-Type: text/plain; charset=us-ascii; title*=iso-8859-1'en'%A3%20rates",
  "Content-Disposition: attachment; filename*0*=utf-8''%E2%82%AC; filename*1=\" rates.txt\"",
  'Content-Language: en, de (German)',
  '',
  'body',
  '--q--',
]);

const NO_FINAL = msg(['Content-Type: multipart/mixed; boundary=nf', '', '--nf', '', 'one', '--nf', 'Content-Type: text/html', '', 'two', 'lines', '']);

const BROKEN = msg([
  'Content-Type: multipart/mixed; boundary=outer',
  '',
  '--outer',
  'Content-Type: multipart/alternative; boundary=inner',
  '',
  '--inner',
  '',
  'inner part never closed',
  '--outer',
  '',
  'second outer part',
  '--outer--',
]);

const WRONG_BOUNDARY = msg(['Content-Type: multipart/mixed; boundary=abc', '', '--abd', '', 'text', '--abd--', '']);

const EIGHT_BIT = Buffer.concat([
  Buffer.from('Subject: caf\xe9 \x00 nul\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n', 'latin1'),
  Buffer.from('Gr\xfc\xdfe\x00\xff\r\nline 2\r\n', 'latin1'),
]);

const ALL: Record<string, Buffer> = {
  PLAIN,
  MIXED,
  ALT_IN_MIXED,
  RFC822,
  QP,
  PARAMS2231,
  NO_FINAL,
  BROKEN,
  WRONG_BOUNDARY,
  EIGHT_BIT,
  MIXED_LF: Buffer.from(MIXED.toString('latin1').replace(/\r\n/g, '\n'), 'latin1'),
  RFC822_LF: Buffer.from(RFC822.toString('latin1').replace(/\r\n/g, '\n'), 'latin1'),
};

describe('StructureParser: same tree whatever the chunking', () => {
  for (const [name, buf] of Object.entries(ALL)) {
    it(`${name}: every single split point and 1..7-byte chunks`, () => {
      const ref = json(parseStructure(buf));
      for (let k = 0; k <= buf.length; k++) {
        const got = json(parseSplit(buf, [k]));
        if (got !== ref) expect({ split: k, got }).toEqual({ split: k, got: ref });
      }
      for (let size = 1; size <= 7; size++) expect(json(parseChunks(buf, size))).toBe(ref);
    });
  }
});

describe('StructureParser: offsets, sizes, lines', () => {
  it('plain message: default text/plain us-ascii, body to the end', () => {
    const r = parseStructure(PLAIN);
    expect([r.type, r.subtype, r.params]).toEqual(['text', 'plain', [['charset', 'us-ascii']]]);
    expect(r.encoding).toBe('7BIT');
    expect(r.headerStart).toBe(0);
    expectBody(PLAIN, r, 'Hello\r\nWorld\r\n');
    expect(r.lines).toBe(2);
    expect(r.decodedSize).toBe(r.size);
    expect(r.parts).toBeUndefined();
  });

  it('multipart/mixed: children offsets, CRLF before a boundary belongs to the boundary', () => {
    const r = parseStructure(MIXED);
    expect([r.type, r.subtype]).toEqual(['multipart', 'mixed']);
    expect(r.params).toEqual([['boundary', '=_b1']]);
    expect(r.bodyStart).toBe(at(MIXED, 'This is a preamble.'));
    expect(r.bodyEnd).toBe(MIXED.length);
    expect(r.parts).toHaveLength(2);
    const [t, a] = r.parts!;
    expect(t!.headerStart).toBe(at(MIXED, 'Content-Type: text/plain; charset=utf-8'));
    expectBody(MIXED, t!, 'first part\r\nsecond line');
    expect(t!.lines).toBe(1);
    expect(t!.params).toEqual([['charset', 'utf-8']]);
    expect(a!.headerStart).toBe(at(MIXED, 'Content-Type: application/octet-stream'));
    expectBody(MIXED, a!, 'AAECAwQFBgcICQ==');
    expect(a!.encoding).toBe('BASE64');
    expect(a!.decodedSize).toBe(Buffer.from('AAECAwQFBgcICQ==', 'base64').length);
    expect(a!.disposition).toEqual({ type: 'attachment', params: [['filename', 'x.bin']] });
    expect(a!.id?.toString()).toBe('<id1@example.com>');
    expect(a!.description?.toString()).toBe('some bytes');
    expect(a!.params).toEqual([['name', 'x.bin']]);
  });

  it('bare LF: same structure, offsets of the LF article', () => {
    const buf = ALL.MIXED_LF!;
    const r = parseStructure(buf);
    const [t, a] = r.parts!;
    expectBody(buf, t!, 'first part\nsecond line');
    expect(t!.lines).toBe(1);
    expectBody(buf, a!, 'AAECAwQFBgcICQ==');
    expect(r.bodyEnd).toBe(buf.length);
  });

  it('alternative inside mixed', () => {
    const r = parseStructure(ALT_IN_MIXED);
    expect(r.parts!.map((p) => `${p.type}/${p.subtype}`)).toEqual(['multipart/alternative', 'image/png']);
    const alt = r.parts![0]!;
    expect(alt.parts!.map((p) => `${p.type}/${p.subtype}`)).toEqual(['text/plain', 'text/html']);
    expectBody(ALT_IN_MIXED, alt.parts![0]!, 'plain version');
    expectBody(ALT_IN_MIXED, alt.parts![1]!, '<p>html version</p>');
    // The alternative's body runs from its first delimiter to before the outer delimiter (incl. its epilogue).
    expectBody(ALT_IN_MIXED, alt, '--inner\r\nContent-Type: text/plain\r\n\r\nplain version\r\n--inner\r\nContent-Type: text/html\r\n\r\n<p>html version</p>\r\n--inner--\r\n');
    expectBody(ALT_IN_MIXED, r.parts![1]!, 'iVBORw0KGgo=');
    expect(r.parts![1]!.decodedSize).toBe(8);
    expect(alt.parts![0]!.params).toEqual([]); // Content-Type present without charset: as written
  });

  it('message/rfc822 inside: envelope, inner structure, lines', () => {
    const r = parseStructure(RFC822);
    const m = r.parts![1]!;
    expect([m.type, m.subtype]).toEqual(['message', 'rfc822']);
    const innerStart = at(RFC822, 'From: "Inner, Person"');
    const innerEnd = at(RFC822, '\r\n--zz--');
    expect([m.bodyStart, m.bodyEnd]).toEqual([innerStart, innerEnd]);
    expect(m.lines).toBe(countLf(RFC822, innerStart, innerEnd));
    const env = m.message!.envelope;
    expect(env.subject!.toString()).toBe('=?utf-8?q?inner_subj?=');
    expect(env.messageId!.toString()).toBe('<inner@example.org>');
    expect(env.from![0]!.name!.toString()).toBe('Inner, Person');
    const body = m.message!.body;
    expect(body.headerStart).toBe(innerStart);
    expect(body.bodyStart).toBe(at(RFC822, '--yy'));
    expect(body.bodyEnd).toBe(innerEnd);
    expect([body.type, body.subtype]).toEqual(['multipart', 'alternative']);
    expectBody(RFC822, body.parts![0]!, 'inner text');
    // Containers in an identity encoding: BINARY.SIZE is the size itself.
    expect(m.decodedSize).toBe(m.size);
    expect(r.decodedSize).toBe(r.size);
  });

  it('quoted-printable: decoded size from soft breaks, hex and trailing space removal', () => {
    const r = parseStructure(QP);
    expect(r.encoding).toBe('QUOTED-PRINTABLE');
    expectBody(QP, r, 'caf=C3=A9 is=\r\nnice   \r\nx=3Dy');
    expect(r.decodedSize).toBe(Buffer.byteLength('café isnice\r\nx=y', 'utf8'));
  });

  it('RFC 2231 parameters and Content-Language', () => {
    const p = parseStructure(PARAMS2231).parts![0]!;
    expect(p.params).toEqual([
      ['charset', 'us-ascii'],
      ['title', '£ rates'],
    ]);
    expect(p.disposition).toEqual({ type: 'attachment', params: [['filename', '€ rates.txt']] });
    expect(p.language).toEqual(['en', 'de']);
  });

  it('no final boundary: the last part runs to the end of the article', () => {
    const r = parseStructure(NO_FINAL);
    expect(r.parts).toHaveLength(2);
    expectBody(NO_FINAL, r.parts![0]!, 'one');
    expectBody(NO_FINAL, r.parts![1]!, 'two\r\nlines\r\n');
    expect(r.parts![1]!.lines).toBe(2);
    expect([r.parts![1]!.type, r.parts![1]!.subtype]).toEqual(['text', 'html']);
    // A part with an empty header gets the defaults.
    expect(r.parts![0]!.params).toEqual([['charset', 'us-ascii']]);
    expect(r.parts![0]!.headerStart).toBe(r.parts![0]!.bodyStart - 2);
  });

  it('outer boundary closes an inner multipart left open', () => {
    const r = parseStructure(BROKEN);
    expect(r.parts).toHaveLength(2);
    const inner = r.parts![0]!;
    expect(inner.parts).toHaveLength(1);
    expectBody(BROKEN, inner.parts![0]!, 'inner part never closed');
    expectBody(BROKEN, r.parts![1]!, 'second outer part');
  });

  it('boundary never found: one synthetic empty text/plain part', () => {
    const r = parseStructure(WRONG_BOUNDARY);
    expect(r.parts).toHaveLength(1);
    const s = r.parts![0]!;
    expect(s.synthetic).toBe(true);
    expect([s.type, s.subtype, s.size, s.lines]).toEqual(['text', 'plain', 0, 0]);
    expect(r.bodyEnd).toBe(WRONG_BOUNDARY.length);
  });

  it('8-bit and NUL bytes pass through; offsets are byte offsets', () => {
    const r = parseStructure(EIGHT_BIT);
    expect(r.params).toEqual([['charset', 'iso-8859-1']]);
    expect(r.encoding).toBe('8BIT');
    expect(r.bodyStart).toBe(EIGHT_BIT.indexOf(Buffer.from('Gr\xfc', 'latin1')));
    expect(r.size).toBe(Buffer.from('Gr\xfc\xdfe\x00\xff\r\nline 2\r\n', 'latin1').length);
    expect(r.lines).toBe(2);
  });

  it('a header without a blank line: empty body at the end', () => {
    const buf = msg(['Subject: only a header', 'From: x@y']);
    const r = parseStructure(buf);
    expect([r.bodyStart, r.bodyEnd, r.size]).toEqual([buf.length, buf.length, 0]);
  });

  it('an article starting with a blank line has an empty header', () => {
    const buf = msg(['', 'body only']);
    const r = parseStructure(buf);
    expect([r.headerStart, r.bodyStart, r.bodyEnd]).toEqual([0, 2, buf.length]);
  });

  it('multipart/digest children default to message/rfc822', () => {
    const buf = msg(['Content-Type: multipart/digest; boundary=d', '', '--d', '', 'Subject: one', '', 'first', '--d--']);
    const r = parseStructure(buf);
    const c = r.parts![0]!;
    expect([c.type, c.subtype]).toEqual(['message', 'rfc822']);
    expect(c.message!.envelope.subject!.toString()).toBe('one');
    expectBody(buf, c.message!.body, 'first');
  });

  it('message/rfc822 in base64 is an opaque leaf', () => {
    const buf = msg(['Content-Type: message/rfc822', 'Content-Transfer-Encoding: base64', '', 'U3ViamVjdDogeA0KDQp4', '']);
    const r = parseStructure(buf);
    expect([r.type, r.subtype, r.declared]).toEqual(['application', 'octet-stream', 'message/rfc822']);
    expect(r.message).toBeUndefined();
  });

  it('multipart without a boundary parameter is an opaque leaf', () => {
    const buf = msg(['Content-Type: multipart/mixed', '', '--x', '', 'y', '--x--']);
    const r = parseStructure(buf);
    expect([r.type, r.subtype, r.declared]).toEqual(['application', 'octet-stream', 'multipart/mixed']);
    expect(r.parts).toBeUndefined();
  });

  it('a boundary that is a prefix of a longer line still delimits (longest open boundary wins)', () => {
    const buf = msg(['Content-Type: multipart/mixed; boundary=a', '', '--a', 'Content-Type: multipart/mixed; boundary=ab', '', '--ab', '', 'deep', '--ab--', '--a--']);
    const r = parseStructure(buf);
    const inner = r.parts![0]!;
    expect(inner.parts).toHaveLength(1);
    expectBody(buf, inner.parts![0]!, 'deep');
  });
});

describe('StructureParser: nesting', () => {
  function nested(depth: number): Buffer {
    const lines: string[] = [];
    for (let d = 0; d < depth; d++) lines.push(`Content-Type: multipart/mixed; boundary=b${d}x`, '', `--b${d}x`);
    lines.push('Content-Type: text/plain', '', 'leaf');
    for (let d = depth - 1; d >= 0; d--) lines.push(`--b${d}x--`);
    return msg(lines);
  }

  it(`1000 nested multiparts: structure capped at MAX_DEPTH (${MAX_DEPTH}), no overflow, chunking-independent`, () => {
    const buf = nested(1000);
    const r = parseStructure(buf);
    let p = r;
    let depth = 0;
    while (p.parts) {
      expect(p.parts).toHaveLength(1);
      p = p.parts[0]!;
      depth++;
    }
    expect(depth).toBe(MAX_DEPTH);
    expect([p.type, p.subtype, p.declared]).toEqual(['application', 'octet-stream', 'multipart/mixed']);
    // The opaque part's body is everything up to the delimiter of its parent.
    expect(p.bodyEnd).toBe(at(buf, `\r\n--b${MAX_DEPTH - 1}x--`));
    const ref = json(r);
    for (const size of [1, 3, 64, 1000, 4096]) expect(json(parseChunks(buf, size))).toBe(ref);
  });

  it('10,000 nested multiparts parse without throwing', () => {
    const r = parseStructure(nested(10_000));
    expect(r.type).toBe('multipart');
  });

  it('nested message/rfc822 deeper than the cap becomes opaque', () => {
    const lines: string[] = [];
    for (let d = 0; d < 200; d++) lines.push('Content-Type: message/rfc822', '');
    lines.push('Subject: bottom', '', 'x');
    const r = parseStructure(msg(lines));
    let p = r;
    let depth = 0;
    while (p.message) {
      p = p.message.body;
      depth++;
    }
    expect(depth).toBe(MAX_DEPTH);
    expect(p.declared).toBe('message/rfc822');
  });
});

describe('StructureParser: long lines', () => {
  it('1 MB header line and 3 MB body line: offsets exact, header parsed', () => {
    const big = 'x'.repeat(1024 * 1024);
    const body = 'y'.repeat(3 * 1024 * 1024);
    const buf = msg([`X-Big: ${big}`, 'Content-Type: text/plain; charset=utf-8', '', body, 'end']);
    const r = parseStructure(buf);
    expect(r.params).toEqual([['charset', 'utf-8']]);
    expectBody(buf, r, `${body}\r\nend`);
    expect(json(parseChunks(buf, 65536))).toBe(json(r));
    expect(json(parseChunks(buf, 1000))).toBe(json(r));
  });

  it('a lone CR inside a long line is content, whatever the chunking', () => {
    const line = 'q'.repeat(1500) + '\r' + 'q'.repeat(1500);
    const subj = 's'.repeat(1500) + '\r' + 's'.repeat(10);
    const buf = msg(['Content-Type: message/rfc822', '', `Subject: ${subj}`, 'Content-Transfer-Encoding: quoted-printable', '', line, '']);
    const r = parseStructure(buf);
    const inner = r.message!.body;
    expectBody(buf, inner, `${line}\r\n`);
    expect(inner.decodedSize).toBe(inner.size);
    expect(r.message!.envelope.subject!.toString('latin1')).toBe(subj);
    const ref = json(r);
    const crs = [at(buf, '\rsss'), at(buf, '\rqqq')];
    for (const cr of crs) for (let k = cr - 3; k <= cr + 3; k++) expect(json(parseSplit(buf, [k]))).toBe(ref);
  });

  it('long base64 line split at CR: decoded size unaffected by chunking', () => {
    const data = Buffer.alloc(5000, 7);
    const b64 = data.toString('base64');
    const buf = msg(['Content-Type: multipart/mixed; boundary=L', '', '--L', 'Content-Transfer-Encoding: base64', '', b64, '--L--']);
    const r = parseStructure(buf);
    expect(r.parts![0]!.decodedSize).toBe(5000);
    const cr = at(buf, '\r\n--L--');
    expect(json(parseSplit(buf, [cr, cr + 1]))).toBe(json(r));
  });
});
