import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { asciiCasemap, rankNumbers } from '../../src/search/collate.js';

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

/** Ranks by a comparison sort: the definition. */
function ranksBySort(values: readonly number[]): { ranks: number[]; distinct: number[] } {
  const key = (v: number): number => (Number.isNaN(v) ? 0 : v + 0);
  const distinct = [...new Set(values.map(key))].sort((a, b) => a - b);
  const at = new Map(distinct.map((v, r) => [v, r]));
  return { ranks: values.map((v) => at.get(key(v))!), distinct };
}

describe('rankNumbers', () => {
  it('ranks 50,000 clustered dates and numbers of every size like a comparison sort', () => {
    let x = 7;
    const rnd = (): number => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return x / 2 ** 32;
    };
    const values: number[] = [];
    for (let i = 0; i < 50_000; i++) {
      const kind = i % 5;
      if (kind === 0) values.push(1_700_000_000_000 + Math.floor(rnd() * 2 ** 26)); // every bit of one word and the next
      else if (kind === 1) values.push(Math.floor(rnd() * 2 ** 40) * (rnd() < 0.5 ? -1 : 1));
      else if (kind === 2) values.push((rnd() - 0.5) * 2 ** Math.floor(rnd() * 200 - 100));
      else if (kind === 3) values.push(1_700_000_000_000 + Math.floor(rnd() * 1000)); // many equal
      else values.push([NaN, -0, 0, Infinity, -Infinity][Math.floor(rnd() * 5)]!);
    }
    const got = rankNumbers(values);
    const want = ranksBySort(values);
    expect(got.count).toBe(want.distinct.length);
    expect(got.distinct).toEqual(want.distinct);
    let wrong = 0;
    for (let i = 0; i < values.length; i++) if (got.ranks[i] !== want.ranks[i]) wrong++;
    expect(wrong).toBe(0);
  });

  it('ranks like a comparison sort (dates, negatives, NaN as 0, -0 as 0, fractions, huge)', () => {
    const num = fc.oneof(
      fc.integer({ min: 1_600_000_000_000, max: 1_800_000_000_000 }),
      fc.double(),
      fc.constantFrom(0, -0, NaN, 1, -1, Infinity, -Infinity, 0.5, 2 ** 53, -(2 ** 60)),
    );
    fc.assert(
      fc.property(fc.array(num, { maxLength: 300 }), (values) => {
        const key = (v: number): number => (Number.isNaN(v) ? 0 : v + 0);
        const distinct = [...new Set(values.map(key))].sort((a, b) => a - b);
        const got = rankNumbers(values);
        expect(got.count).toBe(distinct.length);
        expect(got.distinct).toEqual(distinct);
        expect([...got.ranks]).toEqual(values.map((v) => distinct.indexOf(key(v))));
      }),
      { numRuns: 500 },
    );
  });
});
