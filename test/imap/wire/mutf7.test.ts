import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeMutf7, encodeMutf7 } from '../../../src/imap/wire/mutf7.js';
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
});
