import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeMailboxName, decodeMutf7, encodeMutf7, isUnnamable, wireName } from '../../../src/imap/wire/mutf7.js';
import { Mutf7Error } from '../../../src/imap/wire/errors.js';

describe('modified UTF-7 (RFC 3501 §5.1.3)', () => {
  it('decodes the RFC example', () => {
    expect(decodeMutf7('~peter/mail/&U,BTFw-/&ZeVnLIqe-')).toBe('~peter/mail/台北/日本語');
    expect(encodeMutf7('~peter/mail/台北/日本語')).toBe('~peter/mail/&U,BTFw-/&ZeVnLIqe-');
  });

  it('writes & as &- and leaves printable ASCII alone', () => {
    expect(encodeMutf7('Tom & Jerry')).toBe('Tom &- Jerry');
    expect(decodeMutf7('Tom &- Jerry')).toBe('Tom & Jerry');
    expect(encodeMutf7('comp.lang.misc')).toBe('comp.lang.misc');
  });

  it('round-trips any string (astral planes included)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (s) => {
        const wire = encodeMutf7(s);
        expect(wire).toMatch(/^[\x20-\x7e]*$/);
        expect(decodeMutf7(wire)).toBe(s);
      }),
      { numRuns: 500 },
    );
  });

  it('rejects non-canonical and malformed input', () => {
    const bad = [
      '&U,BTFw', // unterminated
      '&AGE-', // encodes printable 'a'
      '&U,BTFw-&ZeVnLIqe-', // adjacent runs
      '&Jjo!-', // bad base64 char
      '&2D0-', // lone high surrogate
      '&U,BTF-', // leftover bits
      'caf\u00e9', // raw 8-bit
      'a\tb', // control character
    ];
    for (const b of bad) expect(() => decodeMutf7(b), b).toThrow(Mutf7Error);
  });

  it('decodeMailboxName never throws: valid names decode, others come back marked as naming no mailbox', () => {
    expect(decodeMailboxName('de.gr&APwA3w-e')).toBe('de.grüße');
    for (const b of ['&U,BTFw', '&AGE-', '&Jjo!-', "!#$&'+,-.0123456789:;<=>?@^_`|[}"]) {
      const name = decodeMailboxName(b);
      expect(isUnnamable(name), b).toBe(true);
      expect(wireName(name), 'the client text, as sent').toBe(b);
    }
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (s) => {
        // a real (decoded) name is never marked, so a marked name equals none
        const name = decodeMailboxName(encodeMutf7(s));
        expect(isUnnamable(name)).toBe(false);
        expect(wireName(name)).toBe(encodeMutf7(s));
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary-ascii', maxLength: 30 }), (wire) => {
        const name = decodeMailboxName(wire);
        if (isUnnamable(name)) expect(wireName(name)).toBe(wire);
        else expect(encodeMutf7(name)).toBe(wire);
      }),
      { numRuns: 500 },
    );
  });
});
