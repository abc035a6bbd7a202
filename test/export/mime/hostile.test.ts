import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseStructure } from '../../../src/mime/structure.js';
import { parseHeader, selectFields } from '../../../src/mime/header.js';
import { envelopeOf } from '../../../src/mime/envelope.js';
import { parseParamValue } from '../../../src/mime/params.js';
import { decodeHeaderValue, textForSearch } from '../../../src/mime/decode.js';
import { partAt, sectionRange } from '../../../src/mime/section.js';
import { deserializeStructure, serializeStructure } from '../../../src/mime/serialize.js';
import { MimeError } from '../../../src/mime/errors.js';
import type { MimePart } from '../../../src/mime/part.js';
import { json, parseSplit } from './helpers.js';

/** Structural invariants every tree must satisfy for an article of `len` bytes. */
function checkTree(p: MimePart, lo: number, hi: number, len: number): void {
  expect(p.headerStart).toBeGreaterThanOrEqual(lo);
  expect(p.headerStart).toBeLessThanOrEqual(p.bodyStart);
  expect(p.bodyStart).toBeLessThanOrEqual(p.bodyEnd);
  expect(p.bodyEnd).toBeLessThanOrEqual(hi);
  expect(p.bodyEnd).toBeLessThanOrEqual(len);
  expect(p.size).toBe(p.bodyEnd - p.bodyStart);
  expect(p.lines).toBeGreaterThanOrEqual(0);
  expect(p.type).toMatch(/^[a-z0-9!#$%&'*+\-.^_`{|}~]+$/);
  if (p.parts) {
    expect(p.parts.length).toBeGreaterThan(0);
    let prev = p.bodyStart;
    for (const c of p.parts) {
      expect(c.headerStart).toBeGreaterThanOrEqual(prev);
      checkTree(c, p.bodyStart, p.bodyEnd, len);
      prev = c.bodyEnd;
    }
  }
  if (p.message) {
    expect(p.message.body.headerStart).toBe(p.bodyStart);
    checkTree(p.message.body, p.bodyStart, p.bodyEnd, len);
  }
}

/** Lines that make MIME-ish articles: headers, boundaries, blank lines, junk. */
const mimeLine = fc.oneof(
  fc.constantFrom(
    'Content-Type: multipart/mixed; boundary=a',
    'Content-Type: multipart/alternative; boundary="b"',
    'Content-Type: multipart/digest; boundary=a',
    'Content-Type: message/rfc822',
    'Content-Type: text/plain; charset*=utf-8\'\'%C3%A9',
    'Content-Transfer-Encoding: base64',
    'Content-Transfer-Encoding: quoted-printable',
    'Content-Type: multipart/mixed',
    '--a',
    '--a--',
    '--b',
    '--b--',
    '--ab',
    '',
    '',
    'From: "x" <y@z>, g: a@b;',
    'Subject: =?utf-8?q?x?=',
    ' folded',
    'aGVsbG8=',
    '=C3=A9=',
  ),
  fc.string({ maxLength: 20 }),
);

const mimeArticle = fc
  .tuple(fc.array(mimeLine, { maxLength: 40 }), fc.constantFrom('\r\n', '\n'))
  .map(([lines, eol]) => Buffer.from(lines.join(eol), 'latin1'));

describe('hostile input never throws, never hangs, keeps invariants', () => {
  it('arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        const b = Buffer.from(bytes);
        checkTree(parseStructure(b), 0, b.length, b.length);
        envelopeOf(parseHeader(b));
        selectFields(b, ['from', 'subject'], false);
        parseParamValue(b);
        decodeHeaderValue(b);
      }),
      { numRuns: 300 },
    );
  });

  it('MIME-like articles: invariants, chunking independence, sections and cache round trip', () => {
    fc.assert(
      fc.property(mimeArticle, fc.array(fc.nat(), { maxLength: 4 }), (b, rawCuts) => {
        const r = parseStructure(b);
        checkTree(r, 0, b.length, b.length);
        const cuts = [...new Set(rawCuts.map((c) => (b.length === 0 ? 0 : c % b.length)))].sort((x, y) => x - y);
        expect(json(parseSplit(b, cuts))).toBe(json(r));
        expect(json(deserializeStructure(serializeStructure(r)))).toBe(json(r));
        // Every reachable section resolves or fails with a MimeError only.
        for (const path of [[], [1], [2], [1, 1], [1, 2], [2, 1], [1, 1, 1]]) {
          for (const t of ['', 'HEADER', 'TEXT', 'MIME'] as const) {
            try {
              const range = sectionRange(r, path, t);
              expect(range.start).toBeLessThanOrEqual(range.end);
              expect(range.end).toBeLessThanOrEqual(b.length);
              const p = partAt(r, path);
              textForSearch(p, b.subarray(p.bodyStart, p.bodyEnd));
            } catch (err) {
              expect(err).toBeInstanceOf(MimeError);
            }
          }
        }
      }),
      { numRuns: 400 },
    );
  });

  it('10,000 nested parts with the same boundary and with distinct boundaries', () => {
    const same = Buffer.from('Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n'.repeat(10_000) + 'leaf\r\n', 'latin1');
    checkTree(parseStructure(same), 0, same.length, same.length);
    const lines: string[] = [];
    for (let d = 0; d < 10_000; d++) lines.push(`Content-Type: message/rfc822`, '', `Content-Type: multipart/mixed; boundary=q${d}z`, '', `--q${d}z`);
    const distinct = Buffer.from(lines.join('\r\n'), 'latin1');
    const r = parseStructure(distinct);
    checkTree(r, 0, distinct.length, distinct.length);
    expect(json(deserializeStructure(serializeStructure(r)))).toBe(json(r));
  });

  it('a 1 MB header line without any line end', () => {
    const b = Buffer.alloc(1024 * 1024, 'a');
    const r = parseStructure(b);
    expect([r.bodyStart, r.bodyEnd]).toEqual([b.length, b.length]);
  });

  it('a 16 MB single header line is bounded (parsed prefix), offsets exact', () => {
    const b = Buffer.concat([Buffer.from('X-Huge: '), Buffer.alloc(16 * 1024 * 1024, 'h'), Buffer.from('\r\nContent-Type: text/html\r\n\r\nbody')]);
    const r = parseStructure(b);
    // The Content-Type field lies beyond MAX_HEADER_BYTES: not parsed, defaults apply.
    expect(r.type).toBe('text');
    expect(r.bodyStart).toBe(b.length - 4);
    expect(r.size).toBe(4);
  });
});
