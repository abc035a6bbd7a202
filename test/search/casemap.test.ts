import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { asciiCasemap } from '../../src/search/collate.js';

/** i;ascii-casemap (RFC 4790 §9.2) one code unit at a time: the definition, slow and plain. */
function reference(s: string): string {
  let out = '';
  for (const ch of s.split('')) out += ch >= 'a' && ch <= 'z' ? ch.toUpperCase() : ch;
  return out;
}

describe('asciiCasemap', () => {
  it('maps only a–z, on ASCII, non-ASCII and long text', () => {
    expect(asciiCasemap('Café ß straße')).toBe('CAFé ß STRAßE');
    expect(asciiCasemap('ıi')).toBe('ıI');
    expect(asciiCasemap('ABC 123')).toBe('ABC 123');
    expect(asciiCasemap('abc')).toBe('ABC');
    const long = 'é' + 'ab'.repeat(1500);
    expect(asciiCasemap(long)).toBe('é' + 'AB'.repeat(1500));
  });

  it('equals the code-unit definition for any string (lone surrogates included)', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.string({ unit: fc.constantFrom('a', 'Z', 'é', 'ß', '\uD83D', '\uDE00', ' ', 'ı'), maxLength: 2100 }),
    );
    fc.assert(
      fc.property(text, (s) => {
        expect(asciiCasemap(s)).toBe(reference(s));
      }),
      { numRuns: 500 },
    );
  });
});
