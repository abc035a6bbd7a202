/**
 * BODY/BODYSTRUCTURE bytes of the single-pass renderer against the chunk-list
 * renderer it replaced (reference-bodystructure.ts): the test corpus, and
 * hand-made parts with every string form (quoted, escapes, 8-bit, CR/LF, NUL).
 */
import { describe, expect, it } from 'vitest';
import { bodyStructureBytes } from '../../../src/imap/render/bodystructure.js';
import { parseStructure, type MimePart } from '../../../src/mime/index.js';
import { iterateCorpus, TEST_CORPUS } from '../../corpus/generate.js';
import type { Chunk } from '../../../src/imap/wire/writer.js';
import { referenceBodyStructure } from './reference-bodystructure.js';

function reference(part: MimePart, extended: boolean, utf8: boolean): Buffer {
  const out: Chunk[] = [];
  referenceBodyStructure(part, out, extended, utf8);
  return Buffer.concat(out.map((c) => (typeof c === 'string' ? Buffer.from(c, 'utf8') : c)));
}

function same(part: MimePart): void {
  for (const extended of [false, true]) {
    for (const utf8 of [false, true]) {
      expect(bodyStructureBytes(part, extended, utf8).toString('latin1')).toBe(reference(part, extended, utf8).toString('latin1'));
    }
  }
}

describe('bodyStructureBytes: the bytes of the chunk-list renderer', () => {
  it('every article of the test corpus (MIME kinds, message/rfc822, 8-bit)', () => {
    let n = 0;
    for (const a of iterateCorpus(TEST_CORPUS)) {
      same(parseStructure(a.bytes));
      n++;
    }
    expect(n).toBeGreaterThan(100);
  });

  it('strings in every form: escapes, 8-bit (UTF-8 and not), CR/LF/NUL, long, empty', () => {
    const article = Buffer.from(
      [
        'Content-Type: multipart/mixed; boundary="a\\"b"',
        '',
        '--a"b',
        'Content-Type: text/plain; charset="x\\\\y"; name*=utf-8\'\'%C3%A9t%C3%A9; long="' + 'L'.repeat(80) + '"; empty=""',
        'Content-ID: <caf\xe9@example>',
        'Content-Description: line\x00nul',
        'Content-Disposition: attachment; filename*=iso-8859-1\'\'%E9%0D%0A',
        'Content-Language: en, fr',
        'Content-Location: http://example.com/"q"',
        'Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==',
        '',
        'body',
        '--a"b',
        'Content-Type: message/rfc822',
        '',
        'Subject: =?utf-8?q?x?= "quoted" \xc3\xa9',
        'From: "A \\"B\\"" <a@b.example>',
        '',
        'inner',
        '--a"b--',
        '',
      ].join('\r\n'),
      'latin1',
    );
    const root = parseStructure(article);
    expect(root.parts).toHaveLength(2);
    same(root);
    same({ ...root.parts![0]!, description: Buffer.from('cr\rlf\n'), params: [['k', 'v\r\n'], ['\u00e9', '\u{1f600}']] });
  });
});
