/**
 * The structure parser's fast paths (whole body lines skimmed up to the next
 * line that may be a delimiter) against the line-by-line parser they replaced
 * (reference-parser.ts): the same tree, to the byte, for hostile line soups,
 * long base64 bodies and any chunking.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseStructure } from '../../../src/mime/structure.js';
import { referenceParse } from './reference-parser.js';
import { json, parseChunks, parseSplit } from './helpers.js';

/** Lines that stress delimiter detection, line ends and the decoders. */
const LINE = fc.constantFrom(
  '--b',
  '--b--',
  '--bb',
  '--bb--',
  '--b-- trailing',
  '--b ',
  '--b\r',
  '--',
  '-',
  '--x',
  '---b',
  '',
  ' ',
  'AAAA',
  'QUJD',
  'QUI=',
  'QQ==',
  'QQ=QQ==',
  '-_-_',
  'x=3Dy',
  'soft=',
  'trail  ',
  '=\r',
  '\r',
  'text line',
  'Content-Type: text/plain',
  'Content-Type: multipart/mixed; boundary=b',
  'Content-Type: multipart/alternative; boundary=bb',
  'Content-Type: message/rfc822',
  'Content-Transfer-Encoding: base64',
  'Content-Transfer-Encoding: quoted-printable',
  'Subject: inner',
);

const HEAD = fc.constantFrom(
  'Content-Type: multipart/mixed; boundary=b\n\n',
  'Content-Type: multipart/mixed; boundary=b\nContent-Transfer-Encoding: base64\n\n',
  'Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n',
  'Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n',
  'Content-Type: message/rfc822\n\n',
  'Subject: plain\n\n',
);

const EOL = fc.constantFrom('\n', '\r\n', 'mixed');

function article(head: string, lines: string[], eol: string, endWithEol: boolean): Buffer {
  let out = head.replace(/\n/g, eol === 'mixed' ? '\r\n' : eol);
  lines.forEach((l, i) => {
    const e = eol === 'mixed' ? (i % 3 === 0 ? '\n' : '\r\n') : eol;
    out += l + (i < lines.length - 1 || endWithEol ? e : '');
  });
  return Buffer.from(out, 'latin1');
}

describe('structure parser fast paths: the tree of the line-by-line parser', () => {
  it('hostile line soups, any chunking', () => {
    fc.assert(
      fc.property(HEAD, fc.array(LINE, { maxLength: 60 }), EOL, fc.boolean(), fc.array(fc.nat(), { maxLength: 6 }), (head, lines, eol, endEol, rawCuts) => {
        const buf = article(head, lines, eol, endEol);
        const ref = json(referenceParse(buf));
        expect(json(parseStructure(buf))).toBe(ref);
        const cuts = [...new Set(rawCuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
        expect(json(parseSplit(buf, cuts))).toBe(ref);
      }),
      { numRuns: 3000 },
    );
  });

  it('every split point and 1..7-byte chunks of a base64 part between delimiter look-alikes', () => {
    const lines = [
      '--b',
      'Content-Type: application/octet-stream',
      'Content-Transfer-Encoding: base64',
      '',
      ...Array.from({ length: 12 }, (_, i) => Buffer.alloc(45, i).toString('base64')),
      '--bx',
      '-_-_AAAA',
      '--',
      'QQ==',
      '',
      '--b',
      'Content-Type: text/plain',
      '',
      'tail',
      '--b--',
      'epilogue',
    ];
    for (const eol of ['\n', '\r\n', 'mixed']) {
      const buf = article('Content-Type: multipart/mixed; boundary=b\n\n', lines, eol, true);
      const ref = json(referenceParse(buf));
      for (let k = 0; k <= buf.length; k++) {
        const got = json(parseSplit(buf, [k]));
        if (got !== ref) expect({ split: k, got }).toEqual({ split: k, got: ref });
      }
      for (let size = 1; size <= 7; size++) expect(json(parseChunks(buf, size))).toBe(ref);
    }
  });

  it('a 4 MB base64 attachment: decoded size, lines and offsets, in 64 KB and odd-sized chunks', () => {
    const data = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) & 0xff;
    const b64 = data.toString('base64').replace(/.{76}/g, '$&\r\n');
    const buf = Buffer.from(
      'From: a@example.com\r\nContent-Type: multipart/mixed; boundary="=_x"\r\n\r\n--=_x\r\nContent-Type: text/plain\r\n\r\nhello\r\n' +
        `--=_x\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n--=_x--\r\n`,
      'latin1',
    );
    const ref = referenceParse(buf);
    expect(ref.parts![1]!.decodedSize).toBe(data.length);
    for (const size of [65536, 65537, 1000, 77]) expect(json(parseChunks(buf, size))).toBe(json(ref));
  });

  it('a long line (> LINE_PROBE) starting a skimmed run and one ending it', () => {
    const long = 'A'.repeat(5000);
    const buf = article('Content-Type: multipart/mixed; boundary=b\n\n', ['--b', 'Content-Transfer-Encoding: base64', '', long, 'QUJD', long + '=', '--b--'], '\r\n', true);
    const ref = json(referenceParse(buf));
    for (const size of [1, 2, 3, 100, 1023, 1024, 1025, 4096]) expect(json(parseChunks(buf, size))).toBe(ref);
    for (let k = 0; k <= buf.length; k += 7) expect(json(parseSplit(buf, [k]))).toBe(ref);
  });
});
