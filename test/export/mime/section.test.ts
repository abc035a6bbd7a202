import { describe, expect, it } from 'vitest';
import { parseStructure } from '../../../src/mime/structure.js';
import { partAt, sectionRange, type SectionText } from '../../../src/mime/section.js';
import { deserializeStructure, serializeStructure } from '../../../src/mime/serialize.js';
import { MimeError } from '../../../src/mime/errors.js';
import type { MimePart } from '../../../src/mime/part.js';
import { msg } from './helpers.js';

/** The RFC 9051 §6.4.5 example message, abridged. */
const EXAMPLE = msg([
  'Subject: example',
  'Content-Type: MULTIPART/MIXED; boundary=m1',
  '',
  '--m1',
  'Content-Type: TEXT/PLAIN',
  '',
  'part 1',
  '--m1',
  'Content-Type: APPLICATION/OCTET-STREAM',
  '',
  'part 2',
  '--m1',
  'Content-Type: MESSAGE/RFC822',
  '',
  'Subject: part 3 header',
  'Content-Type: MULTIPART/MIXED; boundary=m3',
  '',
  '--m3',
  'Content-Type: TEXT/PLAIN',
  '',
  'part 3.1',
  '--m3',
  'Content-Type: APPLICATION/OCTET-STREAM',
  '',
  'part 3.2',
  '--m3--',
  '--m1',
  'Content-Type: MULTIPART/MIXED; boundary=m4',
  '',
  '--m4',
  'Content-Type: IMAGE/GIF',
  '',
  'part 4.1',
  '--m4',
  'Content-Type: MESSAGE/RFC822',
  '',
  'Subject: part 4.2 header',
  '',
  'part 4.2.1 text',
  '--m4--',
  '--m1--',
]);

const root = parseStructure(EXAMPLE);
const text = (path: number[], t: SectionText): string => {
  const r = sectionRange(root, path, t);
  return EXAMPLE.subarray(r.start, r.end).toString('latin1');
};
const code = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (err) {
    return err instanceof MimeError ? err.code : 'other';
  }
  return undefined;
};

describe('partAt / sectionRange (RFC 9051 §6.4.5)', () => {
  it('part numbers name the expected parts', () => {
    const name = (p: number[]): string => {
      const x = partAt(root, p);
      return `${x.type}/${x.subtype}`;
    };
    expect(name([])).toBe('multipart/mixed');
    expect(name([1])).toBe('text/plain');
    expect(name([3])).toBe('message/rfc822');
    expect(name([3, 1])).toBe('text/plain');
    expect(name([3, 2])).toBe('application/octet-stream');
    expect(name([4, 2])).toBe('message/rfc822');
    expect(name([4, 2, 1])).toBe('text/plain'); // non-multipart inner message: part 1 is its body
  });

  it('body ranges', () => {
    expect(text([1], '')).toBe('part 1');
    expect(text([3, 2], '')).toBe('part 3.2');
    expect(text([4, 1], '')).toBe('part 4.1');
    expect(text([4, 2, 1], '')).toBe('part 4.2.1 text');
    expect(text([], '')).toBe(EXAMPLE.toString('latin1'));
  });

  it('HEADER, TEXT and MIME ranges', () => {
    expect(text([], 'HEADER')).toBe('Subject: example\r\nContent-Type: MULTIPART/MIXED; boundary=m1\r\n\r\n');
    expect(text([3], 'HEADER')).toBe('Subject: part 3 header\r\nContent-Type: MULTIPART/MIXED; boundary=m3\r\n\r\n');
    expect(text([4, 2], 'HEADER')).toBe('Subject: part 4.2 header\r\n\r\n');
    expect(text([4, 2], 'TEXT')).toBe('part 4.2.1 text');
    expect(text([3], 'TEXT')).toMatch(/^--m3\r\n[\s\S]*--m3--$/);
    expect(text([2], 'MIME')).toBe('Content-Type: APPLICATION/OCTET-STREAM\r\n\r\n');
    expect(text([3], '')).toBe(text([3], 'HEADER') + text([3], 'TEXT'));
  });

  it('single-part message: part 1 is the body, its MIME header the message header', () => {
    const buf = msg(['Subject: s', '', 'only body']);
    const r = parseStructure(buf);
    expect(partAt(r, [1])).toBe(r);
    const b = sectionRange(r, [1], '');
    expect(buf.subarray(b.start, b.end).toString()).toBe('only body');
    expect(code(() => partAt(r, [2]))).toBe('NO_SUCH_PART');
    expect(code(() => partAt(r, [1, 1]))).toBe('NO_SUCH_PART');
  });

  it('errors: missing parts, HEADER of a non-message part, MIME of the top', () => {
    expect(code(() => partAt(root, [5]))).toBe('NO_SUCH_PART');
    expect(code(() => partAt(root, [0]))).toBe('NO_SUCH_PART');
    expect(code(() => partAt(root, [1, 1]))).toBe('NO_SUCH_PART');
    expect(code(() => sectionRange(root, [1], 'HEADER'))).toBe('BAD_SECTION');
    expect(code(() => sectionRange(root, [], 'MIME'))).toBe('BAD_SECTION');
  });
});

describe('serialize / deserialize', () => {
  it('round-trips the tree including envelope Buffers', () => {
    const s = serializeStructure(root);
    const back = deserializeStructure(s);
    const m = partAt(back, [4, 2]);
    expect(Buffer.isBuffer(m.message!.envelope.subject)).toBe(true);
    expect(m.message!.envelope.subject!.toString()).toBe('part 4.2 header');
    expect(serializeStructure(back)).toBe(s);
    const strip = (p: MimePart): unknown => JSON.parse(serializeStructure(p));
    expect(strip(back)).toEqual(strip(root));
  });

  it('rejects other shapes with BAD_CACHE', () => {
    expect(code(() => deserializeStructure('not json'))).toBe('BAD_CACHE');
    expect(code(() => deserializeStructure('{"v":999,"root":{}}'))).toBe('BAD_CACHE');
    expect(code(() => deserializeStructure('{"v":1,"root":{"type":"text"}}'))).toBe('BAD_CACHE');
    expect(code(() => deserializeStructure('null'))).toBe('BAD_CACHE');
  });
});
